// RUN: qwenc-opt %s -qwen-quantize="mode=int8" | FileCheck %s --check-prefix=INT8
// RUN: qwenc-opt %s -qwen-quantize="mode=int4 group-size=32" | FileCheck %s --check-prefix=INT4
// RUN: qwenc-opt %s -qwen-quantize="mode=bf16" | FileCheck %s --check-prefix=BF16
// RUN: qwenc-opt %s -qwen-quantize="mode=int4 group-size=32 head-mode=int4" | FileCheck %s --check-prefix=HEAD4
// RUN: qwenc-opt %s -qwen-quantize="mode=int8 head-mode=bf16" | FileCheck %s --check-prefix=HEADBF16
// RUN: not qwenc-opt %s -qwen-quantize="mode=int4 group-size=48" 2>&1 | FileCheck %s --check-prefix=BADGROUP
// RUN: not qwenc-opt %s -qwen-quantize="mode=int8 head-mode=int2" 2>&1 | FileCheck %s --check-prefix=BADHEAD

// Matrix weights (the stacked q/k/v, the embedding shared with the head, the
// gated MLP) are retyped; norm weights and biases are not. Under int4 the
// embedding, which is also the output head here, becomes int8.
// INT8-LABEL: func.func @forward
// INT8: qwen.weight "embed" {group_size = 128 : i64} : tensor<128x128xi8>
// INT8: qwen.weight "norm" : tensor<128xf32>
// INT8: qwen.weight "q" {group_size = 128 : i64} : tensor<128x128xi8>
// INT8: qwen.weight "k" {group_size = 128 : i64} : tensor<32x128xi8>
// INT8: qwen.concat {{.*}} : tensor<128x128xi8>, tensor<32x128xi8> -> tensor<160x128xi8>
// INT8: qwen.weight "bias" : tensor<160xf32>
// INT8: qwen.weight "gate" {group_size = 128 : i64} : tensor<128x128xi8>
// INT8: qwen.logits {{.*}} : tensor<?x128xf32>, tensor<128x128xi8> -> tensor<?x128xf32>

// INT4: qwen.weight "embed" {group_size = 128 : i64} : tensor<128x128xi8>
// INT4: qwen.weight "norm" : tensor<128xf32>
// INT4: qwen.concat {{.*}} -> tensor<160x128xi4>
// INT4: qwen.gated_linear {{.*}} : tensor<?x128xf32>, tensor<128x128xi4>, tensor<128x128xi4> -> tensor<?x128xf32>

// BF16: qwen.weight "embed" : tensor<128x128xbf16>
// BF16: qwen.weight "norm" : tensor<128xf32>

// head-mode sets the embedding / output head alone: int4 in the group size
// of the rest, or a float type over int8 layers.
// HEAD4: qwen.weight "embed" {group_size = 32 : i64} : tensor<128x128xi4>
// HEAD4: qwen.concat {{.*}} -> tensor<160x128xi4>
// HEAD4: qwen.logits {{.*}} : tensor<?x128xf32>, tensor<128x128xi4> -> tensor<?x128xf32>
// HEADBF16: qwen.weight "embed" : tensor<128x128xbf16>
// HEADBF16: qwen.weight "q" {group_size = 128 : i64} : tensor<128x128xi8>
// HEADBF16: qwen.logits {{.*}} : tensor<?x128xf32>, tensor<128x128xbf16> -> tensor<?x128xf32>

// BADGROUP: error: int4 group size must be 32, 64 or 128, got 48
// BADHEAD: error: unknown quantization mode 'int2' (f32, bf16, int8 or int4)
func.func @forward(%ids: tensor<?xi32>) -> tensor<?x128xf32> {
  %e = qwen.weight "embed" : tensor<128x128xf32>
  %x = qwen.embedding %ids, %e : tensor<?xi32>, tensor<128x128xf32> -> tensor<?x128xf32>
  %nw = qwen.weight "norm" : tensor<128xf32>
  %h = qwen.rms_norm %x, %nw {eps = 1.0e-6 : f64} : tensor<?x128xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %wq = qwen.weight "q" : tensor<128x128xf32>
  %wk = qwen.weight "k" : tensor<32x128xf32>
  %w = qwen.concat %wq, %wk : tensor<128x128xf32>, tensor<32x128xf32> -> tensor<160x128xf32>
  %b = qwen.weight "bias" : tensor<160xf32>
  %qk = qwen.linear %h, %w, %b : tensor<?x128xf32>, tensor<160x128xf32>, tensor<160xf32> -> tensor<?x160xf32>
  %q = qwen.slice %qk {offset = 0 : i64} : tensor<?x160xf32> -> tensor<?x128xf32>
  %wg = qwen.weight "gate" : tensor<128x128xf32>
  %wu = qwen.weight "up" : tensor<128x128xf32>
  %g = qwen.gated_linear %q, %wg, %wu : tensor<?x128xf32>, tensor<128x128xf32>, tensor<128x128xf32> -> tensor<?x128xf32>
  %wd = qwen.weight "down" : tensor<128x128xf32>
  %d = qwen.linear %g, %wd : tensor<?x128xf32>, tensor<128x128xf32> -> tensor<?x128xf32>
  %l = qwen.logits %d, %e : tensor<?x128xf32>, tensor<128x128xf32> -> tensor<?x128xf32>
  return %l : tensor<?x128xf32>
}
