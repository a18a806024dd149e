//===- X86Target.cpp - x86-64 with AVX2, and AVX-512 VNNI kernels ---------===//
//
// --target x86-64-avx2: the C++ built for AVX2 + FMA + F16C (hooks in
// runtime/arch/x86-64/kernels.h), products and attention as Halide kernels
// (targets/halide/), each built for AVX2 and for AVX-512 with VNNI (Zen 4
// and later, Sapphire Rapids and later); runtime/arch/x86-64/halide.h picks
// one at start. The executable refuses a CPU without AVX2/FMA/F16C.
//===----------------------------------------------------------------------===//
#include "targets/x86-64/X86Target.h"
#include "targets/common/ExecutableTarget.h"
#include "targets/common/HostToolchain.h"

namespace qwenc {
namespace {

// The kernels' variants (targets/x86-64/CMakeLists.txt, which the Halide
// kernel tests share), the fallback every AVX2 CPU runs last.
// runtime/arch/x86-64/halide.h's kVnniFeatures names the VNNI variant's
// features for the choice at start.
constexpr const char *kVnniVariant = QWENC_X86_VNNI_VARIANT;
constexpr const char *kAvx2Variant = QWENC_X86_AVX2_VARIANT;

class X86Target final : public ExecutableTarget {
public:
  llvm::StringRef name() const override { return "x86-64-avx2"; }
  llvm::StringRef summary() const override {
    return "x86-64 with AVX2+FMA: Halide kernels, each also for AVX-512 VNNI, chosen at start";
  }

protected:
  llvm::StringRef kernelLibrary() const override { return "halide"; }
  LoweringConfig lowering(const TargetOptions &) const override {
    LoweringConfig c;
    c.archHeader = "arch/x86-64/kernels.h";
    c.halideHeader = "arch/x86-64/halide.h";
    c.archNamespace = "x86";
    c.requiredFeatures = "avx2,fma,f16c";
    c.isaChoices = "auto|avx2";
    c.matmulBatches = {2, 3, 4};
    c.prefillRows = 8; // (at least the tiles' prefill rows: 8 with VNNI)
    c.columnTiles = true;
    return c;
  }
  Toolchain toolchain(const TargetOptions &) const override {
    Toolchain tc = hostToolchain();
    tc.cxxFlags.insert(tc.cxxFlags.begin(), {"-O3", "-mavx2", "-mfma", "-mf16c"});
    tc.halideTargets = std::string("target=") + kVnniVariant + "," + kAvx2Variant;
    tc.matmulParams = {"l2_kib=1024"};
    tc.halideRuntime = runtimeLayout().libDir + "/halide_runtime_x86_64.o";
    tc.halideVariants = "AVX2 and AVX-512 VNNI";
    return tc;
  }
};

} // namespace

const Target &x86Target() {
  static const X86Target t;
  return t;
}

} // namespace qwenc
