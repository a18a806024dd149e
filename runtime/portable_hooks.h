// The kernels' hooks in plain C++ (namespace qwenc_rt::portable): what
// kernels.h calls through namespace `arch`. An arch header binds `arch` to
// its own namespace, which takes these for the hooks it does not improve.
#ifndef QWENC_PORTABLE_HOOKS_H
#define QWENC_PORTABLE_HOOKS_H

#include "bf16.h"
#include "qwenc_runtime.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qwenc_rt {

inline float widen(float x) { return x; }
inline float widen(bf16 x) { return bf16_widen(x.bits); } // bf16 is the top half of an fp32
inline float widen(f16 x) {
  // Exponent and mantissa shifted into an fp32's places, then rebiased by a
  // multiply by 2^112, exact for normals and subnormals alike; inf and nan
  // (all-ones exponent) are set directly. No branches, so that loops of it
  // vectorise (the branchy version ran an F16 0.5B at 3.9 tok/s).
  const uint32_t shifted = uint32_t(x.bits & 0x7fff) << 13;
  float f;
  std::memcpy(&f, &shifted, 4);
  f *= 5.192296858534827628530496329220096e33f; // 2^112
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t inf_nan = 0x7f800000u | (uint32_t(x.bits & 0x3ff) << 13);
  // All ones when the exponent is (adding one to it carries into bit 15).
  const uint32_t special = 0u - ((uint32_t(x.bits & 0x7c00) + 0x400u) >> 15);
  bits = (inf_nan & special) | (bits & ~special) | (uint32_t(x.bits & 0x8000) << 16);
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace portable {

/// Dot product of a float vector with a stored weight row. Eight partial sums
/// let the compiler vectorise without reassociating (no -ffast-math).
template <int K, typename W>
inline float dot(const float *x, const W *w) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int k = 0;
  for (; k + 8 <= K; k += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += x[k + j] * widen(w[k + j]);
  if constexpr (K % 8 != 0)
    for (; k < K; ++k)
      acc[k & 7] += x[k] * widen(w[k]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// R rows of x (`stride` apart) against one stored weight row: each eight
/// weights are widened once for the R tokens, whose sums run in the same
/// order as dot()'s (the same results). K a multiple of 8.
template <int K, int R, typename T>
inline void dot_rows(const T *w, const float *x, int64_t stride, float *out) {
  float acc[R][8] = {};
  for (int k = 0; k < K; k += 8) {
    float wv[8];
    for (int j = 0; j < 8; ++j)
      wv[j] = widen(w[k + j]);
#pragma GCC unroll 8 // the sums stay in registers only when unrolled
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < 8; ++j)
        acc[i][j] += x[i * stride + k + j] * wv[j];
  }
  for (int i = 0; i < R; ++i)
    out[i] = ((acc[i][0] + acc[i][1]) + (acc[i][2] + acc[i][3])) + ((acc[i][4] + acc[i][5]) + (acc[i][6] + acc[i][7]));
}

/// max |x[j]| over n values; NaNs are skipped.
inline float max_magnitude(const float *x, int n) {
  float amax = 0;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = a > amax ? a : amax;
  }
  return amax;
}

/// One block of x as integers T: scale d = max|x| / qmax, q = round to
/// nearest even of x / d, sum8 = 8 * d * sum(q) (see QuantRows).
template <typename T>
inline void quantize_block(const float *x, int block, int qmax, T *q, float &d, float &sum8) {
  const float amax = max_magnitude(x, block);
  const float scale = amax / float(qmax), inv = scale > 0 ? 1.0f / scale : 0.0f;
  int64_t sum = 0;
  for (int j = 0; j < block; ++j) {
    q[j] = T(std::lrint(x[j] * inv));
    sum += q[j];
  }
  d = scale;
  sum8 = 8.0f * scale * float(sum);
}

/// out[i] = silu(g[i]) * u[i] for eight lanes.
inline void silu_mul8(const float *g, const float *u, float *out) {
  for (int i = 0; i < 8; ++i)
    out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

} // namespace portable
} // namespace qwenc_rt

#endif
