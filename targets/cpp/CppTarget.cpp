//===- CppTarget.cpp - the portable target --------------------------------===//
//
// --target cpp: the C++ kernels of runtime/kernels.h with their plain C++
// hooks (runtime/arch/portable.h): no intrinsics, no CPU check, any host
// compiler; the reference every other target is compared with.
//===----------------------------------------------------------------------===//
#include "targets/cpp/CppTarget.h"
#include "passes/Passes.h"
#include "targets/common/HostToolchain.h"

namespace qwenc {
namespace {

class CppTarget final : public Target {
public:
  llvm::StringRef name() const override { return "cpp"; }
  llvm::StringRef summary() const override { return "portable C++ for the host (default)"; }
  void buildPipeline(mlir::OpPassManager &pm, const TargetOptions &) const override {
    mlir::qwen::QwenSelectKernelsOptions o;
    o.library = "cpp";
    pm.nest<mlir::func::FuncOp>().addPass(mlir::qwen::createQwenSelectKernels(o));
  }
  mlir::FailureOr<CppModel> emit(mlir::ModuleOp module, const TargetOptions &opts) const override {
    LoweringConfig c;
    c.target = "cpp";
    c.archHeader = "arch/portable.h";
    c.archNamespace = "portable";
    c.isaChoices = "auto";
    c.maxRows = opts.maxRows;
    c.progress = opts.progress;
    return lowerToCpp(module, c);
  }
  std::string build(const CppModel &model, const TargetOptions &opts, const std::string &output) const override {
    Toolchain tc = hostToolchain();
    tc.cxxFlags.insert(tc.cxxFlags.begin(), "-O2");
    return buildExecutable(model, tc, opts, output);
  }
};

} // namespace

const Target &cppTarget() {
  static const CppTarget t;
  return t;
}

} // namespace qwenc
