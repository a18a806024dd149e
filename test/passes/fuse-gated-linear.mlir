// RUN: qwenc-opt %s -qwen-fuse-gated-linear | FileCheck %s

// The SwiGLU MLP's gate and up projections and their silu·mul become one op.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-DAG: %[[G:.*]] = qwen.weight "gate" : tensor<16x8xbf16>
// CHECK-DAG: %[[U:.*]] = qwen.weight "up" : tensor<16x8xbf16>
// CHECK: %[[A:.*]] = qwen.gated_linear %[[X]], %[[G]], %[[U]] : tensor<?x8xf32>, tensor<16x8xbf16>, tensor<16x8xbf16> -> tensor<?x16xf32>
// CHECK-NOT: qwen.silu_mul
// CHECK-NOT: qwen.linear %[[X]]
// CHECK: qwen.linear %[[A]]
func.func @mlp(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %wg = qwen.weight "gate" : tensor<16x8xbf16>
  %g = qwen.linear %x, %wg : tensor<?x8xf32>, tensor<16x8xbf16> -> tensor<?x16xf32>
  %wu = qwen.weight "up" : tensor<16x8xbf16>
  %u = qwen.linear %x, %wu : tensor<?x8xf32>, tensor<16x8xbf16> -> tensor<?x16xf32>
  %a = qwen.silu_mul %g, %u : tensor<?x16xf32>
  %wd = qwen.weight "down" : tensor<8x16xbf16>
  %d = qwen.linear %a, %wd : tensor<?x16xf32>, tensor<8x16xbf16> -> tensor<?x8xf32>
  return %d : tensor<?x8xf32>
}

// A gate that is also read elsewhere must stay a linear of its own.
// CHECK-LABEL: func.func @shared_gate
// CHECK: qwen.silu_mul
// CHECK-NOT: qwen.gated_linear
func.func @shared_gate(%x: tensor<?x8xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %wg = qwen.weight "gate" : tensor<16x8xf32>
  %g = qwen.linear %x, %wg : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %wu = qwen.weight "up" : tensor<16x8xf32>
  %u = qwen.linear %x, %wu : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %a = qwen.silu_mul %g, %u : tensor<?x16xf32>
  return %a, %g : tensor<?x16xf32>, tensor<?x16xf32>
}
