// RUN: qwenc-opt %s -qwen-select-kernels="library=halide" | FileCheck %s --check-prefix=HALIDE
// RUN: qwenc-opt %s -qwen-select-kernels="library=cpp" | FileCheck %s --check-prefix=CPP
// RUN: qwenc-opt %s -qwen-quantize="mode=int8" -qwen-select-kernels="library=halide" | FileCheck %s --check-prefix=INT8
// RUN: not qwenc-opt %s -qwen-select-kernels="library=cuda" 2>&1 | FileCheck %s --check-prefix=BAD

// The kernel of each op is in the IR: with Halide, products whose weights
// Halide takes (f32, bf16, int8, int4 with a multiple of 32 columns); f16
// weights and odd widths stay C++ kernels, and so does attention on every
// library (runtime/attention.h, with each arch's block).
// HALIDE: qwen.linear {{.*}} {kernel = "halide"} : tensor<?x64xf32>, tensor<32x64xf32>
// HALIDE: qwen.linear {{.*}} {kernel = "cpp"} : tensor<?x64xf32>, tensor<32x64xf16>
// HALIDE: qwen.linear {{.*}} {kernel = "cpp"} : tensor<?x40xf32>, tensor<32x40xbf16>
// HALIDE: qwen.attention {{.*}} kernel = "cpp"
// CPP-NOT: kernel = "halide"
// CPP: qwen.linear {{.*}} {kernel = "cpp"}
// INT8: qwen.linear {{.*}} {kernel = "halide"} : tensor<?x64xf32>, tensor<32x64xi8>
// BAD: error: qwen-select-kernels: unknown library 'cuda' (cpp, halide)
func.func @forward(%x: tensor<?x64xf32>, %x40: tensor<?x40xf32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
  %w = qwen.weight "w" : tensor<32x64xf32>
  %y = qwen.linear %x, %w : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %h = qwen.weight "h" : tensor<32x64xf16>
  %z = qwen.linear %x, %h : tensor<?x64xf32>, tensor<32x64xf16> -> tensor<?x32xf32>
  %b = qwen.weight "b" : tensor<32x40xbf16>
  %v = qwen.linear %x40, %b : tensor<?x40xf32>, tensor<32x40xbf16> -> tensor<?x32xf32>
  %a = qwen.attention %y, %z, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32> -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}
