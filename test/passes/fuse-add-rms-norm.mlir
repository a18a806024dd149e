// RUN: qwenc-opt %s -qwen-fuse-add-rms-norm | FileCheck %s

// The residual add and the next layer's input norm: one pass over the rows,
// both the sum (the residual stream) and the normed rows come out.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[O:.*]]: tensor<?x8xf32>)
// CHECK: %[[SUM:.*]], %[[NORMED:.*]] = qwen.add_rms_norm %[[X]], %[[O]], %{{.*}} {eps = 9.9999999999999995E-7 : f64} : tensor<?x8xf32>, tensor<8xf32>
// CHECK-NOT: qwen.add
// CHECK-NOT: qwen.rms_norm
// CHECK: qwen.linear %[[NORMED]]
// CHECK: return %[[SUM]]
func.func @residual(%x: tensor<?x8xf32>, %o: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %s = qwen.add %x, %o : tensor<?x8xf32>
  %w = qwen.weight "post_attention_layernorm.weight" : tensor<8xf32>
  %n = qwen.rms_norm %s, %w {eps = 1.0e-6 : f64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %wd = qwen.weight "down" : tensor<8x8xf32>
  %d = qwen.linear %n, %wd : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  return %s, %d : tensor<?x8xf32>, tensor<?x8xf32>
}

// A norm of something other than an add stays.
// CHECK-LABEL: func.func @plain
// CHECK: qwen.rms_norm
func.func @plain(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = qwen.weight "norm" : tensor<8xf32>
  %n = qwen.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return %n : tensor<?x8xf32>
}
