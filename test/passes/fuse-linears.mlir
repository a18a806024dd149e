// RUN: qwenc-opt %s -qwen-fuse-linears | FileCheck %s

// q, k and v read the same normed input: one linear over stacked weights and
// biases, then slices.
// CHECK-LABEL: func.func @qkv
// CHECK-SAME: (%[[H:.*]]: tensor<?x8xf32>, %[[P:.*]]: tensor<?xi32>)
// CHECK-DAG: %[[WQ:.*]] = qwen.weight "q.weight" : tensor<8x8xf32>
// CHECK-DAG: %[[WK:.*]] = qwen.weight "k.weight" : tensor<4x8xf32>
// CHECK-DAG: %[[WV:.*]] = qwen.weight "v.weight" : tensor<4x8xf32>
// CHECK: %[[W:.*]] = qwen.concat %[[WQ]], %[[WK]], %[[WV]] : tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32> -> tensor<16x8xf32>
// CHECK: %[[B:.*]] = qwen.concat %{{.*}}, %{{.*}}, %{{.*}} : tensor<8xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<16xf32>
// CHECK: %[[QKV:.*]] = qwen.linear %[[H]], %[[W]], %[[B]] : tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32> -> tensor<?x16xf32>
// CHECK-DAG: %[[Q:.*]] = qwen.slice %[[QKV]] {offset = 0 : i64} : tensor<?x16xf32> -> tensor<?x8xf32>
// CHECK-DAG: %[[K:.*]] = qwen.slice %[[QKV]] {offset = 8 : i64} : tensor<?x16xf32> -> tensor<?x4xf32>
// CHECK-DAG: %[[V:.*]] = qwen.slice %[[QKV]] {offset = 12 : i64} : tensor<?x16xf32> -> tensor<?x4xf32>
// CHECK: qwen.attention %{{.*}}, %{{.*}}, %[[V]], %[[P]]
func.func @qkv(%h: tensor<?x8xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  %wq = qwen.weight "q.weight" : tensor<8x8xf32>
  %bq = qwen.weight "q.bias" : tensor<8xf32>
  %q = qwen.linear %h, %wq, %bq : tensor<?x8xf32>, tensor<8x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %wk = qwen.weight "k.weight" : tensor<4x8xf32>
  %bk = qwen.weight "k.bias" : tensor<4xf32>
  %k = qwen.linear %h, %wk, %bk : tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %wv = qwen.weight "v.weight" : tensor<4x8xf32>
  %bv = qwen.weight "v.bias" : tensor<4xf32>
  %v = qwen.linear %h, %wv, %bv : tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %qr = qwen.rope %q, %pos {head_dim = 4 : i64, theta = 1.0e6 : f64} : tensor<?x8xf32>, tensor<?xi32> -> tensor<?x8xf32>
  %kr = qwen.rope %k, %pos {head_dim = 4 : i64, theta = 1.0e6 : f64} : tensor<?x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
  %a = qwen.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32> -> tensor<?x8xf32>
  return %a : tensor<?x8xf32>
}

// Weights of different element types, or bias and no bias, do not stack.
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: qwen.concat
func.func @mixed(%h: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %wa = qwen.weight "a" : tensor<8x8xf32>
  %a = qwen.linear %h, %wa : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %wb = qwen.weight "b" : tensor<4x8xbf16>
  %b = qwen.linear %h, %wb : tensor<?x8xf32>, tensor<4x8xbf16> -> tensor<?x4xf32>
  %wc = qwen.weight "c" : tensor<4x8xbf16>
  %bc = qwen.weight "c.bias" : tensor<4xbf16>
  %c = qwen.linear %h, %wc, %bc : tensor<?x8xf32>, tensor<4x8xbf16>, tensor<4xbf16> -> tensor<?x4xf32>
  return %a, %b, %c : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}
