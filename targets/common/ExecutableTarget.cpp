//===- ExecutableTarget.cpp -----------------------------------------------===//
#include "targets/common/ExecutableTarget.h"
#include "passes/Passes.h"

namespace qwenc {

void ExecutableTarget::buildPipeline(mlir::OpPassManager &pm, const TargetOptions &) const {
  mlir::qwen::QwenSelectKernelsOptions o;
  o.library = kernelLibrary().str();
  pm.nest<mlir::func::FuncOp>().addPass(mlir::qwen::createQwenSelectKernels(o));
}

mlir::FailureOr<CppModel> ExecutableTarget::emit(mlir::ModuleOp module, const TargetOptions &opts) const {
  LoweringConfig c = lowering(opts);
  c.target = name().str();
  c.maxRows = opts.maxRows;
  c.kvType = opts.kvType;
  c.progress = opts.progress;
  return lowerToCpp(module, c);
}

std::string ExecutableTarget::build(const CppModel &model, const TargetOptions &opts,
                                    const std::string &output) const {
  return buildExecutable(model, toolchain(opts), opts, output);
}

} // namespace qwenc
