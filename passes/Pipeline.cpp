//===- Pipeline.cpp - the pass pipeline of `qwenc compile` ----------------===//
#include "passes/Passes.h"

namespace mlir::qwen {

void buildCompilePipeline(OpPassManager &pm, const std::string &quant, int64_t groupSize,
                          const std::string &headQuant, bool fuse) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  if (fuse) {
    // Gate/up first: once fused into gated_linear they are no longer
    // sibling linears for qwen-fuse-linears to stack.
    fn.addPass(createQwenFuseGatedLinear());
    fn.addPass(createQwenFuseLinears());
    fn.addPass(createQwenFuseAddRMSNorm());
  }
  if (!quant.empty() && quant != "none") {
    QwenQuantizeOptions options;
    options.mode = quant;
    options.groupSize = groupSize;
    options.headMode = headQuant;
    fn.addPass(createQwenQuantize(options));
  }
}

} // namespace mlir::qwen
