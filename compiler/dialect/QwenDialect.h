//===- QwenDialect.h - the qwen graph dialect ------------------*- C++ -*-===//
#ifndef QWENC_DIALECT_QWENDIALECT_H
#define QWENC_DIALECT_QWENDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "runtime/rope.h"

#include "compiler/dialect/QwenOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "compiler/dialect/QwenOps.h.inc"

namespace mlir::qwen {
/// Module attribute names shared by the importer, the passes and the targets.
inline constexpr llvm::StringLiteral kCheckpointAttr = "qwen.checkpoint";
inline constexpr llvm::StringLiteral kConfigAttr = "qwen.config";
} // namespace mlir::qwen

#endif
