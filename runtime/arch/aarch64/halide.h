// The aarch64 target's Halide kernels: built for arm-64-linux (NEON: the
// widening multiply-accumulates of Cortex-A53/A55) and, unless --cpu ruled
// one out, for arm-64-linux-arm_dot_prod (sdot: A55, A76, Neoverse).
// Halide 14's ARM runtime reports every feature as present, so its own
// choice would run sdot on an A53 (SIGILL): the choice is made here from the
// HWCAP bits instead.
#ifndef QWENC_ARCH_AARCH64_HALIDE_H
#define QWENC_ARCH_AARCH64_HALIDE_H

#include "kernels.h"
#include "../../halide_glue.h"

namespace qwenc_rt {
namespace aarch64 {

/// Whether the kernels must run their base NEON variant (--isa neon).
inline bool &kernels_neon_only() {
  static bool only = false;
  return only;
}

inline bool asks_for(int count, const uint64_t *features, halide_target_feature_t f) {
  return f / 64 < count && (features[f / 64] >> (f % 64) & 1);
}

/// Halide's multi-target wrapper asks this which variant the CPU can run.
inline int can_use_kernel_features(int count, const uint64_t *features) {
  if (asks_for(count, features, halide_target_feature_arm_dot_prod) &&
      (kernels_neon_only() || !cpu_has("dotprod")))
    return 0;
  if (asks_for(count, features, halide_target_feature_arm_fp16) && !cpu_has("fp16"))
    return 0;
  return 1;
}

/// ModelDesc::select_kernels of builds with Halide kernels: the CPU check,
/// then the variant (dot product where the CPU has it, unless --isa neon).
inline const char *select_halide_kernels(const char *required, const char *request, const char **error) {
  if (!select_kernels(required, request, error))
    return nullptr;
  kernels_neon_only() = request && std::strcmp(request, "neon") == 0;
  halide_set_custom_can_use_target_features(&can_use_kernel_features);
  return !kernels_neon_only() && cpu_has("dotprod") ? "NEON dot product" : "NEON";
}

} // namespace aarch64
} // namespace qwenc_rt

#endif
