//===- ImportModel.h - model directory to qwen dialect ---------*- C++ -*-===//
#ifndef QWENC_FRONTEND_IMPORTMODEL_H
#define QWENC_FRONTEND_IMPORTMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace qwenc {

/// Reads and validates a Hugging Face Qwen2 model directory and builds the
/// graph of its forward step: `func.func @forward(%ids, %positions) -> logits`.
/// Throws InputError naming the offending file.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &ctx,
                                              const std::string &modelDir);

} // namespace qwenc
#endif
