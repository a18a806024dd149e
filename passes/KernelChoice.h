//===- KernelChoice.h - which kernel runs an op -----------------*- C++ -*-===//
//
// qwen-select-kernels writes the choice as the op's `kernel` attribute
// ("cpp": a template of runtime/kernels.h; "halide": a kernel the Halide
// generators of targets/halide/ make for the op's shape); the C++ lowering
// reads it. Ops without the attribute run the C++ kernels.
//===----------------------------------------------------------------------===//
#ifndef QWENC_PASSES_KERNELCHOICE_H
#define QWENC_PASSES_KERNELCHOICE_H

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

} // namespace mlir::qwen
#endif
