//===- WeightFormat.h - how a weight is stored: the one vocabulary -*- C++ -*-===//
//
// The storage formats of weights, their names (--quant, --head-quant, the
// quantize pass's options, the --report column) and their element types in
// the qwen dialect (f32, bf16, f16, i8, i4). The int4 layout and its group
// sizes are runtime/int4_layout.h's.
//===----------------------------------------------------------------------===//
#ifndef QWENC_DIALECT_WEIGHTFORMAT_H
#define QWENC_DIALECT_WEIGHTFORMAT_H

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace qwenc {

enum class WeightFormat { F32, BF16, F16, Int8, Int4 };

/// The name of a format ("f32", "bf16", "f16", "int8", "int4").
llvm::StringRef formatName(WeightFormat f);
/// A format the quantize pass converts to (f32, bf16, int8, int4: f16 is
/// only ever a checkpoint's own), by name.
std::optional<WeightFormat> parseQuantFormat(llvm::StringRef name);
/// "f32, bf16, int8 or int4": for messages.
std::string quantFormatNames();
/// "32, 64 or 128": the int4 group sizes, for messages.
std::string int4GroupSizeNames();

mlir::Type elementType(WeightFormat f, mlir::MLIRContext *ctx);
/// The format of a weight's element type, if it is one.
std::optional<WeightFormat> formatOf(mlir::Type element);
/// Bytes one element takes (int4: half a byte).
double bytesPerElement(WeightFormat f);

} // namespace qwenc
#endif
