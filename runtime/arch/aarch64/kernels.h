// The aarch64 target's kernels: the hooks of kernels.h as portable C++,
// which GCC vectorises for NEON (Advanced SIMD is part of every AArch64
// CPU), and the CPU check from the kernel's HWCAP bits (getauxval), which
// the executable needs before any kernel runs: its C++ may use what `--cpu`
// named (cortex-a76, neoverse-n1: dot product and fp16 arithmetic).
#ifndef QWENC_ARCH_AARCH64_KERNELS_H
#define QWENC_ARCH_AARCH64_KERNELS_H

#include "../../portable_hooks.h"

#include <cstring>
#include <string>
#include <sys/auxv.h>

namespace qwenc_rt {
namespace aarch64 {

using portable::attend_group;
using portable::attend_lanes;
using portable::widen_keys;
using portable::widen_rows;
using portable::dot;
using portable::dot_rows;
using portable::max_magnitude;
using portable::quantize_block;
using portable::silu_mul8;

// AT_HWCAP bits of Linux on arm64 (arch/arm64/include/uapi/asm/hwcap.h).
constexpr unsigned long kHwcapFp = 1ul << 0, kHwcapAsimd = 1ul << 1, kHwcapFphp = 1ul << 9,
                        kHwcapAsimdhp = 1ul << 10, kHwcapAsimddp = 1ul << 20;

/// One feature this build may need, by the name `required` uses.
struct Feature {
  const char *name, *what;
  unsigned long bits;
};
constexpr Feature kFeatures[] = {
    {"asimd", "Advanced SIMD (NEON)", kHwcapFp | kHwcapAsimd},
    {"dotprod", "the dot product instructions (ASIMDDP, ARMv8.2 sdot/udot)", kHwcapAsimddp},
    {"fp16", "half-precision arithmetic (FPHP + ASIMDHP)", kHwcapFphp | kHwcapAsimdhp},
};

inline unsigned long hwcap() { return getauxval(AT_HWCAP); }

/// Whether the CPU has a feature of kFeatures.
inline bool cpu_has(const char *name) {
  for (const Feature &f : kFeatures)
    if (!std::strcmp(f.name, name))
      return (hwcap() & f.bits) == f.bits;
  return false;
}

/// The CPU check: every comma-separated feature of `required` present, or
/// the message naming the first that is not.
inline bool check_cpu(const char *required, const char **error) {
  static std::string message;
  std::string list = required ? required : "";
  for (size_t start = 0; start < list.size();) {
    size_t end = list.find(',', start);
    if (end == std::string::npos)
      end = list.size();
    const std::string name = list.substr(start, end - start);
    start = end + 1;
    for (const Feature &f : kFeatures)
      if (name == f.name && (hwcap() & f.bits) != f.bits) {
        message = std::string("this executable was compiled for an aarch64 CPU with ") + f.what +
                  " (qwenc --target aarch64 --cpu ...), which this CPU lacks; compile with --cpu generic";
        *error = message.c_str();
        return false;
      }
  }
  return true;
}

/// ModelDesc::select_kernels without Halide kernels: the CPU check alone.
inline const char *select_kernels(const char *required, const char *request, const char **error) {
  if (!check_cpu(required, error))
    return nullptr;
  if (request && *request && std::strcmp(request, "auto") != 0 && std::strcmp(request, "neon") != 0) {
    *error = "--isa needs auto or neon";
    return nullptr;
  }
  if (request && !std::strcmp(request, "neon") && required && std::strstr(required, "dotprod")) {
    *error = "--isa neon: this executable was compiled for a CPU with dot product (--cpu), its kernels have no "
             "base NEON variant";
    return nullptr;
  }
  return "NEON";
}

} // namespace aarch64

namespace arch = aarch64;
} // namespace qwenc_rt

#define QWENC_ARCH_SELECTED 1
#include "../../kernels.h"

#endif
