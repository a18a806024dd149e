//===- Aarch64Target.cpp - static aarch64 Linux executables ---------------===//
//
// --target aarch64 [--cpu generic|cortex-a53|cortex-a76|neoverse-n1]: a
// static executable built by the cross compiler (Debian's
// g++-aarch64-linux-gnu) against the runtime built for aarch64, with Halide
// kernels for arm-64-linux: a base NEON variant (widening multiply-
// accumulates; Cortex-A53) and a dot-product variant (sdot; A55, A76,
// Neoverse), chosen at start from the CPU's HWCAP bits
// (runtime/arch/aarch64/halide.h). --cpu tunes the C++ (-mcpu), and a CPU
// known to have dot product gets only that variant.
//
// The C++ is compiled with -ffp-contract=off: aarch64 GCC otherwise fuses
// a*b+c into one rounding (x86 GCC without -mfma cannot), which moved int4
// logits by up to 0.04 against the x86 builds in a trial; without fusion the
// C++ parts round as the x86 cpp build's do.
//===----------------------------------------------------------------------===//
#include "targets/aarch64/Aarch64Target.h"
#include "targets/common/ExecutableTarget.h"

#include <cstdlib>
#include <filesystem>

namespace qwenc {
namespace {

constexpr const char *kDotVariant = "arm-64-linux-arm_dot_prod-no_runtime";
constexpr const char *kNeonVariant = "arm-64-linux-no_runtime";

/// What --cpu decides.
struct CpuModel {
  const char *name;
  const char *gccCpu;      // -mcpu= or -march= argument
  bool gccArch;            // gccCpu is an -march
  bool neonVariant, dotVariant; // the kernels' variants built
  const char *required;    // CPU features the executable checks for
  int l2KiB;               // the L2 a core shares with its neighbours, for the prefill blocks
};
constexpr CpuModel kCpus[] = {
    {"generic", "armv8-a", true, true, true, "asimd", 512},
    {"cortex-a53", "cortex-a53", false, true, false, "asimd", 256},
    {"cortex-a76", "cortex-a76", false, false, true, "asimd,dotprod,fp16", 512},
    {"neoverse-n1", "neoverse-n1", false, false, true, "asimd,dotprod,fp16", 1024},
};

const CpuModel &cpuModel(const std::string &name) {
  for (const CpuModel &c : kCpus)
    if (name == c.name)
      return c;
  return kCpus[0];
}


class Aarch64Target final : public ExecutableTarget {
public:
  llvm::StringRef name() const override { return "aarch64"; }
  llvm::StringRef summary() const override {
    return "static aarch64 Linux executable (cross-built): Halide NEON and dot-product kernels";
  }
  std::vector<std::string> cpus() const override {
    std::vector<std::string> names;
    for (const CpuModel &c : kCpus)
      names.push_back(c.name);
    return names;
  }
  std::string unavailable() const override { return aarch64Unavailable(); }

protected:
  llvm::StringRef kernelLibrary() const override { return "halide"; }
  LoweringConfig lowering(const TargetOptions &opts) const override {
    const CpuModel &cpu = cpuModel(opts.cpu);
    LoweringConfig c;
    c.archHeader = "arch/aarch64/kernels.h";
    c.halideHeader = "arch/aarch64/halide.h";
    c.archNamespace = "aarch64";
    c.requiredFeatures = cpu.required;
    c.isaChoices = cpu.neonVariant && cpu.dotVariant ? "auto|neon" : "auto";
    return c;
  }
  Toolchain toolchain(const TargetOptions &opts) const override { return aarch64Toolchain(opts.cpu); }
};

} // namespace

std::string aarch64LibDir() { return runtimeLayout().libDir + "/aarch64"; }

std::string aarch64Unavailable() {
  std::error_code ec;
  if (!std::filesystem::exists(aarch64LibDir() + "/libqwenc_runtime.a", ec))
    return "this qwenc was built without the aarch64 runtime (no " + aarch64LibDir() +
           "/libqwenc_runtime.a): install g++-aarch64-linux-gnu and the arm64 libraries "
           "(scripts/install-deps.sh), then rebuild";
  return "";
}

Toolchain aarch64Toolchain(const std::string &cpuName) {
  const CpuModel &cpu = cpuModel(cpuName);
  Toolchain tc;
  const char *cxx = std::getenv("QWENC_AARCH64_CXX");
  tc.cxx = cxx && *cxx ? cxx : QWENC_AARCH64_CXX;
  tc.cxxHint = "install g++-aarch64-linux-gnu, or set QWENC_AARCH64_CXX to an aarch64 Linux C++17 compiler";
  tc.cxxFlags = {"-O3", "-ffp-contract=off",
                 std::string(cpu.gccArch ? "-march=" : "-mcpu=") + cpu.gccCpu};
  tc.linkFlags = {"-static"};
  tc.runtimeLib = aarch64LibDir() + "/libqwenc_runtime.a";
  tc.runtimeMainLib = aarch64LibDir() + "/libqwenc_runtime_main.a";
  tc.systemLibs = splitList(QWENC_AARCH64_SYSTEM_LIBS);
  std::string targets;
  if (cpu.dotVariant)
    targets += kDotVariant;
  if (cpu.neonVariant)
    targets += std::string(targets.empty() ? "" : ",") + kNeonVariant;
  tc.halideTargets = "target=" + targets;
  tc.matmulParams = {"l2_kib=" + std::to_string(cpu.l2KiB)};
  tc.halideRuntime = aarch64LibDir() + "/halide_runtime_arm64.o";
  tc.halideVariants = cpu.neonVariant && cpu.dotVariant ? "NEON and NEON dot product"
                      : cpu.dotVariant                  ? "NEON dot product"
                                                        : "NEON";
  return tc;
}

const Target &aarch64Target() {
  static const Aarch64Target t;
  return t;
}

} // namespace qwenc
