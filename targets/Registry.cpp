//===- Registry.cpp - the targets of this build, and the whole pipeline ---===//
#include "targets/Target.h"
#include "passes/Passes.h"
#include "targets/aarch64/Aarch64Target.h"
#include "targets/ax630c/Ax630cTarget.h"
#include "targets/cpp/CppTarget.h"
#include "targets/x86-64/X86Target.h"

#include "mlir/Pass/PassRegistry.h"

namespace qwenc {

const std::vector<const Target *> &allTargets() {
  // The one list of targets: --help, --target's check and qwen-compile read it.
  static const std::vector<const Target *> targets = {&cppTarget(), &x86Target(), &aarch64Target(),
                                                        &ax630cTarget()};
  return targets;
}

const Target *findTarget(llvm::StringRef name) {
  for (const Target *t : allTargets())
    if (t->name() == name)
      return t;
  return nullptr;
}

std::string targetNames() {
  std::string s;
  for (const Target *t : allTargets())
    s += (s.empty() ? "" : ", ") + t->name().str();
  return s;
}

void buildFullPipeline(mlir::OpPassManager &pm, const Target &target, const TargetOptions &opts,
                       const std::string &quant, int64_t groupSize, const std::string &headQuant, bool fuse) {
  mlir::qwen::buildCompilePipeline(pm, quant, groupSize, headQuant, fuse);
  target.buildPipeline(pm, opts);
}

namespace {
struct CompilePipelineOptions : public mlir::PassPipelineOptions<CompilePipelineOptions> {
  Option<std::string> target{*this, "target", llvm::cl::desc("the --target"), llvm::cl::init("cpp")};
  Option<std::string> cpu{*this, "cpu", llvm::cl::desc("the --cpu"), llvm::cl::init("")};
  Option<std::string> quant{*this, "quant", llvm::cl::desc("--quant: none, f32, bf16, int8, int4"),
                            llvm::cl::init("none")};
  Option<int64_t> groupSize{*this, "group-size", llvm::cl::desc("--group-size"),
                            llvm::cl::init(qwenc_rt::int4::kDefaultGroupSize)};
  Option<std::string> headQuant{*this, "head-quant", llvm::cl::desc("--head-quant"), llvm::cl::init("")};
  Option<bool> fuse{*this, "fuse", llvm::cl::desc("the fusion passes (--no-fuse: false)"), llvm::cl::init(true)};
};
} // namespace

void registerCompilePipeline() {
  mlir::PassPipelineRegistration<CompilePipelineOptions>(
      "qwen-compile", "the pipeline of `qwenc compile`: fusion, quantization, then the target's passes",
      [](mlir::OpPassManager &pm, const CompilePipelineOptions &o) {
        const Target *t = findTarget(o.target);
        if (!t) {
          llvm::errs() << "qwen-compile: unknown target '" << o.target << "' (" << targetNames() << ")\n";
          return;
        }
        TargetOptions opts;
        opts.cpu = o.cpu;
        buildFullPipeline(pm, *t, opts, o.quant, o.groupSize, o.headQuant, o.fuse);
      });
}

} // namespace qwenc
