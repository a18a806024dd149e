//===- SelectKernels.cpp - check weight layouts, choose each op's kernel --===//
//
// A target pass: every target's pipeline ends with it, naming the kernel
// library it builds with. It refuses weights the layouts cannot hold (int4
// rows must be whole spans of int4::kSpan columns), then annotates each
// product and attention with the kernel that will run it, so that the
// choice is in the IR (lit tests, `qwenc compile --emit=mlir`):
//   library=cpp:    every op "cpp" (runtime/kernels.h);
//   library=halide: products of f32, bf16, int8 and int4 weights whose rows
//                   are whole vectors of 32 columns "halide" (the generator
//                   of targets/halide/); f16 weights (which Halide 14 widens
//                   in software) and other shapes "cpp". Attention is "cpp"
//                   for every library: runtime/attention.h's tiled kernel,
//                   whose inner block each arch writes in its intrinsics.
//===----------------------------------------------------------------------===//
#include "passes/KernelChoice.h"
#include "passes/Passes.h"
#include "runtime/int4_layout.h"

using namespace mlir;
using namespace mlir::qwen;

namespace mlir::qwen {
#define GEN_PASS_DEF_QWENSELECTKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::qwen

namespace {

struct SelectKernels : mlir::qwen::impl::QwenSelectKernelsBase<SelectKernels> {
  using QwenSelectKernelsBase::QwenSelectKernelsBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (library != "cpp" && library != "halide") {
      fn.emitError() << "qwen-select-kernels: unknown library '" << library << "' (cpp, halide)";
      return signalPassFailure();
    }
    const bool halide = library == "halide";
    WalkResult layout = fn.walk([&](WeightOp w) {
      auto type = w.getType();
      if (type.getRank() == 2 && type.getElementType().isInteger(4) &&
          type.getDimSize(1) % qwenc_rt::int4::kSpan != 0) {
        w.emitError() << "weight '" << w.getName() << "' has " << type.getDimSize(1)
                      << " columns, not a multiple of " << qwenc_rt::int4::kSpan
                      << " (int4 interleaves its groups within " << qwenc_rt::int4::kSpan << " columns)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (layout.wasInterrupted())
      return signalPassFailure();
    Builder b(&getContext());
    auto mark = [&](Operation *op, bool useHalide) {
      op->setAttr(kKernelAttr, b.getStringAttr(kernelName(halide && useHalide ? Kernel::Halide : Kernel::Cpp)));
    };
    fn.walk([&](Operation *op) {
      if (auto l = dyn_cast<LinearOp>(op))
        mark(op, halideTakesWeight(l.getWeight()));
      else if (auto g = dyn_cast<GatedLinearOp>(op))
        mark(op, halideTakesWeight(g.getGate()) && halideTakesWeight(g.getUp()));
      else if (auto l = dyn_cast<LogitsOp>(op))
        mark(op, halideTakesWeight(l.getWeight()));
      else if (isa<AttentionOp>(op))
        mark(op, false);
    });
  }
};

} // namespace
