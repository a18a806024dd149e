// The whole pipeline of `qwenc compile`, registered in qwenc-opt as
// qwen-compile: the pass order for each target and option.
// RUN: qwenc-opt %s -qwen-compile="target=x86-64-avx2 quant=int4 group-size=64" --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=X86
// RUN: qwenc-opt %s -qwen-compile="target=cpp quant=bf16" --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=CPP
// RUN: qwenc-opt %s -qwen-compile="target=aarch64 quant=int8 fuse=false" --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=ARM
// RUN: qwenc-opt %s -qwen-compile="target=aarch64 quant=int8" | FileCheck %s --check-prefix=IR
// X86: builtin.module(func.func(qwen-fuse-gated-linear,qwen-fuse-linears,qwen-fuse-add-rms-norm,qwen-quantize{group-size=64 head-mode= mode=int4}),func.func(qwen-select-kernels{library=halide}))
// CPP: builtin.module(func.func(qwen-fuse-gated-linear,qwen-fuse-linears,qwen-fuse-add-rms-norm,qwen-quantize{group-size=128 head-mode= mode=bf16}),func.func(qwen-select-kernels{library=cpp}))
// ARM: builtin.module(func.func(qwen-quantize{group-size=128 head-mode= mode=int8}),func.func(qwen-select-kernels{library=halide}))
// IR: qwen.gated_linear {{.*}} {kernel = "halide"} : tensor<?x128xf32>, tensor<128x128xi8>, tensor<128x128xi8>
// IR: qwen.logits {{.*}} {kernel = "halide"} : tensor<?x128xf32>, tensor<32x128xi8>
func.func @forward(%x: tensor<?x128xf32>) -> tensor<?x32xf32> {
  %g = qwen.weight "gate" : tensor<128x128xf32>
  %u = qwen.weight "up" : tensor<128x128xf32>
  %a = qwen.linear %x, %g : tensor<?x128xf32>, tensor<128x128xf32> -> tensor<?x128xf32>
  %b = qwen.linear %x, %u : tensor<?x128xf32>, tensor<128x128xf32> -> tensor<?x128xf32>
  %m = qwen.silu_mul %a, %b : tensor<?x128xf32>
  %h = qwen.weight "head" : tensor<32x128xf32>
  %l = qwen.logits %m, %h : tensor<?x128xf32>, tensor<32x128xf32> -> tensor<?x32xf32>
  return %l : tensor<?x32xf32>
}
