// The x86-64-avx2 target's Halide kernels: every kernel is built for AVX2
// and for AVX-512 with VNNI (Zen 4 and later, Sapphire Rapids and later);
// Halide's wrapper asks which the CPU runs, and this header answers.
#ifndef QWENC_ARCH_X86_64_HALIDE_H
#define QWENC_ARCH_X86_64_HALIDE_H

#include "kernels.h"
#include "../../halide_glue.h"

namespace qwenc_rt {
namespace x86 {

/// Whether the kernels must run their AVX2 variant (--isa avx2).
inline bool &kernels_avx2_only() {
  static bool only = false;
  return only;
}

/// The Halide target features of the kernels' AVX-512 VNNI variant, whose
/// target string targets/x86-64/CMakeLists.txt names
/// (HalideKernelDispatch.VnniFeaturesMatchTheVariantBuilt checks they agree).
constexpr halide_target_feature_t kVnniFeatures[] = {halide_target_feature_avx512,
                                                     halide_target_feature_avx512_sapphirerapids};

/// Whether a feature set (Halide's words of bits) asks for any of them.
inline bool asks_for_avx512(int count, const uint64_t *features) {
  for (int f : kVnniFeatures)
    if (f / 64 < count && (features[f / 64] >> (f % 64) & 1))
      return true;
  return false;
}

/// Whether this CPU can run the AVX-512 VNNI variant (Halide's own check,
/// which is right on x86).
inline bool cpu_runs_vnni_kernels() {
  uint64_t vnni[(halide_target_feature_end + 63) / 64] = {};
  for (int f : kVnniFeatures)
    vnni[f / 64] |= uint64_t(1) << (f % 64);
  return halide_default_can_use_target_features(int(std::size(vnni)), vnni) != 0;
}

/// Halide's multi-target wrapper asks this which variant the CPU can run
/// (once per kernel and process): Halide's answer, less AVX-512 when
/// --isa avx2 asked for AVX2.
inline int can_use_kernel_features(int count, const uint64_t *features) {
  if (kernels_avx2_only() && asks_for_avx512(count, features))
    return 0;
  return halide_default_can_use_target_features(count, features);
}

/// ModelDesc::select_kernels of builds with Halide kernels, before any
/// kernel runs: the CPU check, then the variant (AVX-512 VNNI where the CPU
/// has it, unless --isa avx2); returns its name.
inline const char *select_halide_kernels(const char *required, const char *request, const char **error) {
  if (!select_kernels(required, request, error))
    return nullptr;
  const bool avx2_only = request && std::strcmp(request, "avx2") == 0;
  kernels_avx2_only() = avx2_only;
  halide_set_custom_can_use_target_features(&can_use_kernel_features);
  const bool vnni = !avx2_only && cpu_runs_vnni_kernels();
  attention_avx512() = vnni; // the attention block follows the products' variant
  return vnni ? "AVX-512 VNNI" : "AVX2";
}

} // namespace x86
} // namespace qwenc_rt

#endif
