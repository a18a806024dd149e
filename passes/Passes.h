//===- Passes.h - qwen dialect passes ---------------------------*- C++ -*-===//
#ifndef QWENC_PASSES_PASSES_H
#define QWENC_PASSES_PASSES_H

#include "compiler/dialect/QwenDialect.h"
#include "runtime/int4_layout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace mlir::qwen {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The pipeline `qwenc compile` runs: fusion, then quantization to `quant`
/// ("none" keeps the checkpoint's types: no quantize pass), the embedding
/// and output head to `headQuant` (empty: the pass's default).
void buildCompilePipeline(OpPassManager &pm, const std::string &quant, int64_t groupSize,
                          const std::string &headQuant, bool fuse);

} // namespace mlir::qwen

#endif
