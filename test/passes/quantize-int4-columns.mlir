// RUN: not qwenc-opt %s -qwen-quantize="mode=int4 group-size=32" -qwen-select-kernels 2>&1 | FileCheck %s
// RUN: qwenc-opt %s -qwen-quantize="mode=int4 group-size=32" | FileCheck %s --check-prefix=QUANT
// RUN: qwenc-opt %s -qwen-quantize="mode=int8" -qwen-select-kernels | FileCheck %s --check-prefix=INT8

// int4 interleaves the groups of each 128 columns (runtime/int4_layout.h):
// the quantize pass takes a matrix of 96 columns (a multiple of the group
// size 32), and the targets' qwen-select-kernels, which checks the layouts,
// refuses it; int8 keeps it.
// CHECK: error: weight 'w' has 96 columns, not a multiple of 128 (int4 interleaves its groups within 128 columns)
// QUANT: qwen.weight "w" {group_size = 32 : i64} : tensor<32x96xi4>
// INT8: qwen.weight "w" {group_size = 96 : i64} : tensor<32x96xi8>
func.func @forward(%x: tensor<?x96xf32>) -> tensor<?x32xf32> {
  %w = qwen.weight "w" : tensor<32x96xf32>
  %y = qwen.linear %x, %w : tensor<?x96xf32>, tensor<32x96xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
