//===- Fusion.cpp - fusion passes of the qwen dialect ---------------------===//
//
// Each pass is one rewrite pattern applied greedily over @forward. Every
// fused op computes exactly what the ops it replaces computed, so results do
// not change beyond fp32 rounding (the golden tests run with fusion on).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace mlir::qwen;

namespace mlir::qwen {
#define GEN_PASS_DEF_QWENFUSEGATEDLINEAR
#define GEN_PASS_DEF_QWENFUSELINEARS
#define GEN_PASS_DEF_QWENFUSEADDRMSNORM
#include "passes/Passes.h.inc"
} // namespace mlir::qwen

namespace {

RankedTensorType activation(int64_t cols, MLIRContext *ctx) {
  return RankedTensorType::get({ShapedType::kDynamic, cols}, Float32Type::get(ctx));
}

/// Every user of `v` comes after `op` in their block, so `v` may be
/// replaced by a value defined at `op`.
bool usersAfter(Value v, Operation *op) {
  for (Operation *user : v.getUsers())
    if (user->getBlock() != op->getBlock() || !op->isBeforeInBlock(user))
      return false;
  return true;
}

/// silu_mul(linear(x, g), linear(x, u)) -> gated_linear(x, g, u).
struct FuseGatedLinearPattern : OpRewritePattern<SiluMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SiluMulOp op, PatternRewriter &rewriter) const override {
    auto gate = op.getGate().getDefiningOp<LinearOp>();
    auto up = op.getUp().getDefiningOp<LinearOp>();
    if (!gate || !up || gate.getBias() || up.getBias() || gate.getInput() != up.getInput() ||
        !gate->hasOneUse() || !up->hasOneUse())
      return rewriter.notifyMatchFailure(op, "operands are not two bias-free linears of one input");
    rewriter.replaceOpWithNewOp<GatedLinearOp>(op, op.getType(), gate.getInput(), gate.getWeight(),
                                               up.getWeight());
    rewriter.eraseOp(gate);
    rewriter.eraseOp(up);
    return success();
  }
};

/// Linears sharing an input -> linear over concatenated weights + slices.
struct FuseLinearsPattern : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op, PatternRewriter &rewriter) const override {
    auto elementType = op.getWeight().getType().getElementType();
    SmallVector<LinearOp> group;
    for (Operation *user : op.getInput().getUsers()) {
      auto sibling = dyn_cast<LinearOp>(user);
      if (sibling && sibling.getInput() == op.getInput() &&
          sibling->getBlock() == op->getBlock() &&
          sibling.getWeight().getType().getElementType() == elementType &&
          bool(sibling.getBias()) == bool(op.getBias()) &&
          (!op.getBias() || sibling.getBias().getType().getElementType() ==
                                op.getBias().getType().getElementType()))
        group.push_back(sibling);
    }
    if (group.size() < 2)
      return rewriter.notifyMatchFailure(op, "no sibling linear");
    llvm::sort(group, [](LinearOp a, LinearOp b) { return a->isBeforeInBlock(b); });
    Operation *last = group.back();
    for (LinearOp l : group)
      if (!usersAfter(l.getResult(), last))
        return rewriter.notifyMatchFailure(op, "a result is used before the last sibling");

    rewriter.setInsertionPoint(last);
    Location loc = rewriter.getFusedLoc(llvm::to_vector(llvm::map_range(group, [](LinearOp l) { return l.getLoc(); })));
    SmallVector<Value> weights, biases;
    int64_t rows = 0;
    for (LinearOp l : group) {
      weights.push_back(l.getWeight());
      if (l.getBias())
        biases.push_back(l.getBias());
      rows += l.getWeight().getType().getDimSize(0);
    }
    int64_t k = op.getWeight().getType().getDimSize(1);
    Value weight = rewriter.create<ConcatOp>(loc, RankedTensorType::get({rows, k}, elementType), weights);
    Value bias;
    if (!biases.empty())
      bias = rewriter.create<ConcatOp>(
          loc, RankedTensorType::get({rows}, op.getBias().getType().getElementType()), biases);
    Value fused = rewriter.create<LinearOp>(loc, activation(rows, getContext()), op.getInput(), weight, bias);
    int64_t offset = 0;
    for (LinearOp l : group) {
      int64_t n = l.getWeight().getType().getDimSize(0);
      Value slice = rewriter.create<SliceOp>(l.getLoc(), l.getType(), fused, rewriter.getI64IntegerAttr(offset));
      rewriter.replaceOp(l, slice);
      offset += n;
    }
    return success();
  }
};

/// rms_norm(add(a, b)) -> add_rms_norm(a, b): both results from one pass.
struct FuseAddRMSNormPattern : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op, PatternRewriter &rewriter) const override {
    auto add = op.getInput().getDefiningOp<AddOp>();
    if (!add || add->getBlock() != op->getBlock())
      return rewriter.notifyMatchFailure(op, "input is not a residual add");
    for (Operation *user : add->getUsers())
      if (user != op && !op->isBeforeInBlock(user))
        return rewriter.notifyMatchFailure(op, "the sum is used before the norm");
    auto fused = rewriter.create<AddRMSNormOp>(op.getLoc(), add.getType(), add.getType(), add.getLhs(),
                                               add.getRhs(), op.getWeight(), op.getEpsAttr());
    rewriter.replaceOp(op, fused.getNormed());
    rewriter.replaceOp(add, fused.getSum());
    return success();
  }
};

template <typename Pattern>
LogicalResult applyOne(func::FuncOp fn) {
  RewritePatternSet patterns(fn.getContext());
  patterns.add<Pattern>(fn.getContext());
  return applyPatternsAndFoldGreedily(fn, std::move(patterns));
}

struct FuseGatedLinear : mlir::qwen::impl::QwenFuseGatedLinearBase<FuseGatedLinear> {
  void runOnOperation() override {
    if (failed(applyOne<FuseGatedLinearPattern>(getOperation())))
      signalPassFailure();
  }
};

struct FuseLinears : mlir::qwen::impl::QwenFuseLinearsBase<FuseLinears> {
  void runOnOperation() override {
    if (failed(applyOne<FuseLinearsPattern>(getOperation())))
      signalPassFailure();
  }
};

struct FuseAddRMSNorm : mlir::qwen::impl::QwenFuseAddRMSNormBase<FuseAddRMSNorm> {
  void runOnOperation() override {
    if (failed(applyOne<FuseAddRMSNormPattern>(getOperation())))
      signalPassFailure();
  }
};

} // namespace
