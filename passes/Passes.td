//===- Passes.td - qwen dialect passes ---------------------*- tablegen -*-===//
#ifndef QWEN_PASSES_TD
#define QWEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def QwenFuseGatedLinear : Pass<"qwen-fuse-gated-linear", "::mlir::func::FuncOp"> {
  let summary = "silu_mul(linear(x, gate), linear(x, up)) becomes one qwen.gated_linear";
  let description = [{
    The SwiGLU MLP reads x twice and writes two intermediate activations; the
    fused op computes both dot products of an output column together.
  }];
  let dependentDialects = ["::mlir::qwen::QwenDialect"];
}

def QwenFuseLinears : Pass<"qwen-fuse-linears", "::mlir::func::FuncOp"> {
  let summary = "linears that read the same input become one (q/k/v)";
  let description = [{
    Sibling qwen.linear ops with the same input, the same weight element type
    and all or none with a bias become one qwen.linear over the qwen.concat of
    their weights (and biases); qwen.slice recovers each result.
  }];
  let dependentDialects = ["::mlir::qwen::QwenDialect"];
}

def QwenFuseAddRMSNorm : Pass<"qwen-fuse-add-rms-norm", "::mlir::func::FuncOp"> {
  let summary = "a residual add followed by rms_norm of its result becomes qwen.add_rms_norm";
  let dependentDialects = ["::mlir::qwen::QwenDialect"];
}

def QwenQuantize : Pass<"qwen-quantize", "::mlir::func::FuncOp"> {
  let summary = "weight-only symmetric quantization of matrix weights";
  let description = [{
    Retypes every 2-D weight that feeds a matrix product or the embedding
    (through qwen.concat too): `int8` per output channel (group = the row),
    `int4` per group of `group-size` columns, `bf16` and `f32` as plain
    floating point. The embedding and the output head (often one tensor) take
    `head-mode`; by default `mode`, except under int4, where they become int8
    (their error goes straight into the logits). Scales are computed when the
    target packs the weights (round to nearest). Norm weights and biases stay
    as they are.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"int8\"",
           "f32, bf16, int8 or int4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"::qwenc_rt::int4::kDefaultGroupSize",
           "columns per int4 scale: 32, 64 or 128">,
    Option<"headMode", "head-mode", "std::string", /*default=*/"\"\"",
           "the embedding and output head: f32, bf16, int8 or int4 (default: int8 under int4, else mode)">,
  ];
  let dependentDialects = ["::mlir::qwen::QwenDialect"];
}

def QwenSelectKernels : Pass<"qwen-select-kernels", "::mlir::func::FuncOp"> {
  let summary = "checks weights against the kernels' layouts and annotates each op with the kernel that runs it";
  let description = [{
    The last pass of every target's pipeline. Refuses int4 weights whose rows
    are not whole spans of 128 columns (runtime/int4_layout.h), then sets the
    `kernel` attribute of every qwen.linear, qwen.gated_linear, qwen.logits
    and qwen.attention: "halide" where `library=halide` and the Halide
    generators take the op (f32, bf16, int8 or int4 weights with a multiple
    of 32 columns; head_dim a multiple of 8), else "cpp".
  }];
  let options = [
    Option<"library", "library", "std::string", /*default=*/"\"cpp\"",
           "the kernels the target builds with: cpp or halide">,
  ];
  let dependentDialects = ["::mlir::qwen::QwenDialect"];
}

#endif // QWEN_PASSES_TD
