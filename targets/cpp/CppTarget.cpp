//===- CppTarget.cpp - the portable target --------------------------------===//
//
// --target cpp: the C++ kernels of runtime/kernels.h with their plain C++
// hooks (runtime/arch/portable.h): no intrinsics, no CPU check, any host
// compiler; the reference every other target is compared with.
//===----------------------------------------------------------------------===//
#include "targets/cpp/CppTarget.h"
#include "targets/common/ExecutableTarget.h"
#include "targets/common/HostToolchain.h"

namespace qwenc {
namespace {

class CppTarget final : public ExecutableTarget {
public:
  llvm::StringRef name() const override { return "cpp"; }
  llvm::StringRef summary() const override { return "portable C++ for the host (default)"; }

protected:
  llvm::StringRef kernelLibrary() const override { return "cpp"; }
  LoweringConfig lowering(const TargetOptions &) const override {
    LoweringConfig c;
    c.archHeader = "arch/portable.h";
    c.archNamespace = "portable";
    c.isaChoices = "auto";
    return c;
  }
  Toolchain toolchain(const TargetOptions &) const override {
    Toolchain tc = hostToolchain();
    tc.cxxFlags.insert(tc.cxxFlags.begin(), "-O2");
    return tc;
  }
};

} // namespace

const Target &cppTarget() {
  static const CppTarget t;
  return t;
}

} // namespace qwenc
