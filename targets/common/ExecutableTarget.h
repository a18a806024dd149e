//===- ExecutableTarget.h - a target whose artifact is an executable -*- C++ -*-===//
//
// What cpp, x86-64-avx2 and aarch64 share: their pipeline ends with
// qwen-select-kernels for their kernel library, emit is the C++ lowering with
// their arch header, build is HostBuild with their toolchain. A target says
// only what differs.
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_COMMON_EXECUTABLETARGET_H
#define QWENC_TARGETS_COMMON_EXECUTABLETARGET_H

#include "targets/common/HostBuild.h"

namespace qwenc {

class ExecutableTarget : public Target {
public:
  void buildPipeline(mlir::OpPassManager &pm, const TargetOptions &opts) const override;
  mlir::FailureOr<CppModel> emit(mlir::ModuleOp module, const TargetOptions &opts) const override;
  std::string build(const CppModel &model, const TargetOptions &opts, const std::string &output) const override;

protected:
  /// The kernels qwen-select-kernels may choose: "cpp" or "halide".
  virtual llvm::StringRef kernelLibrary() const = 0;
  /// The arch header, its namespace, the CPU features and --isa choices of
  /// the code (target, maxRows and progress are filled in here).
  virtual LoweringConfig lowering(const TargetOptions &opts) const = 0;
  virtual Toolchain toolchain(const TargetOptions &opts) const = 0;
};

} // namespace qwenc
#endif
