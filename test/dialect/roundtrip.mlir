// Every qwen op prints and parses back to the same IR.
// RUN: qwenc-opt %s | qwenc-opt | FileCheck %s

// CHECK-LABEL: func.func @layer
func.func @layer(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
  // CHECK: %[[TABLE:.*]] = qwen.weight "model.embed_tokens.weight" : tensor<32x8xbf16>
  %table = qwen.weight "model.embed_tokens.weight" : tensor<32x8xbf16>
  // CHECK: %[[X:.*]] = qwen.embedding %{{.*}}, %[[TABLE]] : tensor<?xi32>, tensor<32x8xbf16> -> tensor<?x8xf32>
  %x = qwen.embedding %ids, %table : tensor<?xi32>, tensor<32x8xbf16> -> tensor<?x8xf32>
  %nw = qwen.weight "model.layers.0.input_layernorm.weight" : tensor<8xf32>
  // CHECK: qwen.rms_norm %[[X]], %{{.*}} {eps = 9.9999999999999995E-7 : f64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %h = qwen.rms_norm %x, %nw {eps = 1.0e-6 : f64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %wq = qwen.weight "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf16>
  %bq = qwen.weight "model.layers.0.self_attn.q_proj.bias" : tensor<8xf16>
  // CHECK: qwen.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<8x8xf16>, tensor<8xf16> -> tensor<?x8xf32>
  %q = qwen.linear %h, %wq, %bq : tensor<?x8xf32>, tensor<8x8xf16>, tensor<8xf16> -> tensor<?x8xf32>
  %wk = qwen.weight "model.layers.0.self_attn.k_proj.weight" : tensor<4x8xf32>
  // CHECK: qwen.linear %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %k = qwen.linear %h, %wk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  // CHECK: qwen.rope %{{.*}}, %{{.*}} {head_dim = 4 : i64, theta = 1.000000e+06 : f64}
  %qr = qwen.rope %q, %pos {head_dim = 4 : i64, theta = 1.0e6 : f64} : tensor<?x8xf32>, tensor<?xi32> -> tensor<?x8xf32>
  %kr = qwen.rope %k, %pos {head_dim = 4 : i64, theta = 1.0e6 : f64} : tensor<?x4xf32>, tensor<?xi32> -> tensor<?x4xf32>
  // CHECK: qwen.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64}
  %a = qwen.attention %qr, %kr, %k, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32> -> tensor<?x8xf32>
  // CHECK: qwen.add %{{.*}}, %{{.*}} : tensor<?x8xf32>
  %r = qwen.add %x, %a : tensor<?x8xf32>
  // CHECK: qwen.silu_mul %{{.*}}, %{{.*}} : tensor<?x8xf32>
  %s = qwen.silu_mul %r, %r : tensor<?x8xf32>
  // CHECK: qwen.logits %{{.*}}, %[[TABLE]] : tensor<?x8xf32>, tensor<32x8xbf16> -> tensor<?x32xf32>
  %l = qwen.logits %s, %table : tensor<?x8xf32>, tensor<32x8xbf16> -> tensor<?x32xf32>
  return %l : tensor<?x32xf32>
}
