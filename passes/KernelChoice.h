//===- KernelChoice.h - which kernel runs an op -----------------*- C++ -*-===//
//
// qwen-select-kernels writes the choice as the op's `kernel` attribute
// ("cpp": a template of runtime/kernels.h; "halide": a kernel the Halide
// generators of targets/halide/ make for the op's shape); the C++ lowering
// reads it. Ops without the attribute run the C++ kernels.
//===----------------------------------------------------------------------===//
#ifndef QWENC_PASSES_KERNELCHOICE_H
#define QWENC_PASSES_KERNELCHOICE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::qwen {

enum class Kernel { Cpp, Halide };

constexpr llvm::StringLiteral kKernelAttr = "kernel";

inline llvm::StringRef kernelName(Kernel k) { return k == Kernel::Halide ? "halide" : "cpp"; }

inline Kernel kernelOf(Operation *op) {
  if (auto a = op->getAttrOfType<StringAttr>(kKernelAttr))
    return a.getValue() == "halide" ? Kernel::Halide : Kernel::Cpp;
  return Kernel::Cpp;
}

/// Whether the Halide matrix generator takes a product's weight: f32, bf16,
/// int8 or int4 (f16 Halide 14 widens in software) with rows of whole
/// vectors of 32 columns.
inline bool halideTakesWeight(Value weight) {
  auto type = cast<RankedTensorType>(weight.getType());
  Type e = type.getElementType();
  return (e.isF32() || e.isBF16() || e.isInteger(8) || e.isInteger(4)) && type.getDimSize(1) % 32 == 0;
}

} // namespace mlir::qwen
#endif
