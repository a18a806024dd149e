//===- Quantize.cpp - weight-only quantization pass -----------------------===//
#include "compiler/dialect/WeightFormat.h"
#include "passes/Passes.h"
#include "runtime/int4_layout.h"

using namespace mlir;
using namespace mlir::qwen;

namespace mlir::qwen {
#define GEN_PASS_DEF_QWENQUANTIZE
#include "passes/Passes.h.inc"
} // namespace mlir::qwen

namespace {

/// A weight read as a matrix: by a product, by the embedding gather, or by a
/// concat whose every user is such a product.
bool isMatrixOperand(Value weight) {
  for (OpOperand &use : weight.getUses()) {
    Operation *user = use.getOwner();
    if (auto linear = dyn_cast<LinearOp>(user)) {
      if (linear.getWeight() != weight)
        return false;
    } else if (auto concat = dyn_cast<ConcatOp>(user)) {
      if (!isMatrixOperand(concat.getResult()))
        return false;
    } else if (!isa<LogitsOp, GatedLinearOp, EmbeddingOp>(user)) {
      return false;
    }
  }
  return true;
}

struct Quantize : mlir::qwen::impl::QwenQuantizeBase<Quantize> {
  using QwenQuantizeBase::QwenQuantizeBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    MLIRContext *ctx = &getContext();
    auto elementOf = [&](StringRef m) -> Type {
      if (std::optional<qwenc::WeightFormat> f = qwenc::parseQuantFormat(m))
        return qwenc::elementType(*f, ctx);
      fn.emitError() << "unknown quantization mode '" << m << "' (" << qwenc::quantFormatNames() << ")";
      return Type();
    };
    // The output head's error goes straight into the logits: by default under
    // int4 it (and the embedding it may share) stays int8, as llama.cpp keeps
    // it at 6 bits in its 4-bit formats.
    const std::string head = !headMode.empty() ? std::string(headMode) : mode == "int4" ? "int8" : std::string(mode);
    Type element = elementOf(mode), headElement = elementOf(head);
    if (!element || !headElement)
      return signalPassFailure();
    if (mode == "int4" && !qwenc_rt::int4::valid_group(groupSize)) {
      fn.emitError() << "int4 group size must be " << qwenc::int4GroupSizeNames() << ", got " << int64_t(groupSize);
      return signalPassFailure();
    }

    WalkResult result = fn.walk([&](WeightOp w) {
      auto type = w.getType();
      if (type.getRank() != 2 || !isMatrixOperand(w.getResult()))
        return WalkResult::advance();
      int64_t cols = type.getDimSize(1);
      w->removeAttr(w.getGroupSizeAttrName());
      const bool isHead =
          llvm::any_of(w->getUsers(), [](Operation *u) { return isa<LogitsOp, EmbeddingOp>(u); });
      Type target = isHead ? headElement : element;
      if (auto it = dyn_cast<IntegerType>(target)) {
        int64_t g = it.getWidth() == 8 ? cols : int64_t(groupSize);
        if (cols % g != 0) {
          w.emitError() << "weight '" << w.getName() << "' has " << cols
                        << " columns, not a multiple of the group size " << g;
          return WalkResult::interrupt();
        }
        w.setGroupSizeAttr(IntegerAttr::get(IntegerType::get(ctx, 64), g));
      }
      w.getResult().setType(RankedTensorType::get(type.getShape(), target));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    // Concats of retyped weights take the new element type.
    fn.walk([&](ConcatOp c) {
      auto type = c.getType();
      Type in = c.getInputs()[0].getType().cast<RankedTensorType>().getElementType();
      if (type.getElementType() != in)
        c.getResult().setType(RankedTensorType::get(type.getShape(), in));
    });
  }
};

} // namespace
