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
#include <type_traits>

namespace qwenc_rt {

inline float widen(float x) { return x; }
inline float widen(bf16 x) { return bf16_widen(x.bits); } // bf16 is the top half of an fp32
inline float widen(int8_t x) { return float(x); } // an int8 KV cache value, without its scale
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

/// The cached rows a decode block step fetches (into L2) while it computes:
/// at depth the cache streams from memory, and a thread's compute only
/// hides the latency if its loads are in flight meanwhile. Prefetched all
/// at once, as a burst before the block, they stalled the core until most
/// had arrived (on the 0.5B shape at depth 32K, 1.56-1.74 ms a layer
/// against 1.03-1.13 spread over the block's loops).
struct Ahead {
  const char *k, *v;   // the first row's K and V
  int64_t stride;      // bytes from a row to the next
  int rows, lines;     // rows, and cache lines of a row
  /// The K (or V) lines in order, a share of them each step of a loop of
  /// `steps`: prefetches spread over the loop's compute.
  struct Walk {
    const char *row;
    int64_t stride;
    int line, lines, left, share;
    void step() {
      for (int i = 0; i < share && left > 0; ++i, --left) {
        __builtin_prefetch(row + line * 64, 0, 2);
        if (++line == lines)
          line = 0, row += stride;
      }
    }
  };
  Walk walk(bool values, int steps) const {
    const int total = rows * lines;
    return {values ? v : k, stride, 0, lines, total, (total + steps - 1) / steps};
  }
};

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

/// exp(x) = 2^k * exp(r), k = round(x / ln 2), |r| <= ln(2) / 2, exp(r) by
/// Cephes' degree-7 polynomial (relative error ~1e-7): the constants of
/// every vector exp (exp_in_place here, exp8 and exp16 on x86).
namespace exp_poly {
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f; // k * kLn2Hi is exact
constexpr float kC[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                         4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
} // namespace exp_poly

/// exp(x[i]) in place (exp_poly), x clamped below at -87 (exp is then
/// ~1.6e-38, weight 0 for a softmax). Plain float operations in a loop the
/// compiler vectorises on every target.
inline void exp_in_place(float *x, int n) {
  for (int i = 0; i < n; ++i) {
    float v = x[i] < -87.0f ? -87.0f : x[i];
    // Round to nearest by adding and removing 1.5 * 2^23 (|v / ln 2| < 2^22).
    float k = v * exp_poly::kLog2e + 12582912.0f;
    k -= 12582912.0f;
    float r = v - k * exp_poly::kLn2Hi;
    r = r - k * exp_poly::kLn2Lo;
    float p = exp_poly::kC[0];
    for (int c = 1; c < 6; ++c)
      p = p * r + exp_poly::kC[c];
    p = p * (r * r) + (r + 1.0f);
    const int32_t bits = (int32_t(k) + 127) << 23;
    float two_k;
    std::memcpy(&two_k, &bits, sizeof two_k);
    x[i] = p * two_k;
  }
}

/// Element d of cached row t of one kv head (rows `stride` apart) as float:
/// int8 times its row's scale (`scale_stride` apart).
template <typename KT>
inline float cached(const KT *src, int64_t stride, const float *scales, int64_t scale_stride, int t, int d) {
  const float x = widen(src[t * stride + d]);
  if constexpr (std::is_same<KT, int8_t>::value)
    return x * scales[t * scale_stride];
  return x;
}

/// n cached rows of one kv head (HD elements each, cached()) as float
/// rows, HD apart.
template <int HD, typename KT>
inline void widen_rows(const KT *src, int64_t stride, const float *scales, int64_t scale_stride, int n, float *dst) {
  for (int t = 0; t < n; ++t)
    for (int d = 0; d < HD; ++d)
      dst[t * HD + d] = cached(src, stride, scales, scale_stride, t, d);
}

/// The rows of widen_rows as float columns:
/// kt[d * ks + t] is element d of row t. Columns n up to the next multiple
/// of 32 are zero, so that block steps may read whole registers of them.
template <int HD, typename KT>
inline void widen_keys(const KT *src, int64_t stride, const float *scales, int64_t scale_stride, int n, float *kt,
                       int64_t ks) {
  const int end = (n + 31) / 32 * 32;
  for (int d = 0; d < HD; ++d) {
    float *col = kt + d * ks;
    for (int t = 0; t < n; ++t)
      col[t] = cached(src, stride, scales, scale_stride, t, d);
    for (int t = n; t < end; ++t)
      col[t] = 0.0f;
  }
}

/// One block of attention for nq (at most 8) query vectors of one kv head,
/// a decode step's: q [nq][HD] (scaled by 1 / sqrt(HD)), kt the block's keys
/// as columns (widen_keys, ks apart), v its n value rows as float (HD
/// apart), live[i] how many of the n positions vector i sees. Scores s
/// [nq][ks] (positions side by side, no reductions); then the online
/// softmax per vector: m (running max) and l (running sum of exp(s - m))
/// updated, acc [nq][HD] (sums of exp(s - m) v_t) rescaled to the new max
/// and added to. The rows of `ahead` are prefetched on the way.
template <int HD>
inline void attend_group(int nq, const float *q, const float *kt, int64_t ks, const float *v, int n,
                         const int32_t *live, float *s, float *m, float *l, float *acc, const Ahead &ahead) {
  Ahead::Walk kw = ahead.walk(false, nq), vw = ahead.walk(true, nq);
  for (int i = 0; i < nq; ++i) {
    kw.step();
    vw.step();
    float *si = s + i * ks;
    for (int t = 0; t < n; ++t)
      si[t] = 0.0f;
    for (int d = 0; d < HD; ++d) {
      const float qd = q[i * HD + d], *col = kt + d * ks;
      for (int t = 0; t < n; ++t)
        si[t] += qd * col[t];
    }
    float mx = m[i];
    for (int t = 0; t < live[i]; ++t)
      mx = si[t] > mx ? si[t] : mx;
    if (mx == -INFINITY) // nothing seen yet, nothing in this block
      continue;
    for (int t = 0; t < live[i]; ++t)
      si[t] -= mx;
    exp_in_place(si, live[i]);
    float sum = 0.0f;
    for (int t = 0; t < live[i]; ++t)
      sum += si[t];
    const float corr = m[i] == -INFINITY ? 0.0f : std::exp(m[i] - mx);
    m[i] = mx;
    l[i] = l[i] * corr + sum;
    float o[HD];
    for (int d = 0; d < HD; ++d)
      o[d] = acc[i * HD + d] * corr;
    for (int t = 0; t < live[i]; ++t)
      for (int d = 0; d < HD; ++d)
        o[d] += si[t] * v[int64_t(t) * HD + d];
    for (int d = 0; d < HD; ++d)
      acc[i * HD + d] = o[d];
  }
}

/// One block of attention for up to 16 query vectors side by side, lane i
/// query vector i (one attend_lanes call does 16 at a time): qt [HD][qs]
/// the query vectors (scaled by 1 / sqrt(HD)), k and v the block's n cached
/// rows as float (HD apart), live[i] how many of them lane i sees (its
/// causal length within the block). Scores s [n][16]; then the online
/// softmax per lane: m (running max) and l (running sum of exp(s - m))
/// updated, ot [HD][qs] (sums of exp(s - m) v_t) rescaled to the new max and
/// added to. Written so that the compiler vectorises across the lanes.
template <int HD>
inline void attend_lanes16(const float *qt, int64_t qs, const float *k, const float *v, int n, const int32_t *live,
                           float *s, float *m, float *l, float *ot) {
  constexpr int L = 16;
  for (int t = 0; t < n; ++t) {
    float a[L] = {};
    for (int d = 0; d < HD; ++d) {
      const float kd = k[int64_t(t) * HD + d];
      for (int i = 0; i < L; ++i)
        a[i] += kd * qt[d * qs + i];
    }
    for (int i = 0; i < L; ++i)
      s[t * L + i] = a[i];
  }
  float mx[L], corr[L];
  for (int i = 0; i < L; ++i)
    mx[i] = m[i];
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < L; ++i)
      mx[i] = t < live[i] && s[t * L + i] > mx[i] ? s[t * L + i] : mx[i];
  for (int i = 0; i < L; ++i) { // a lane that has seen nothing yet keeps -inf
    const float base = mx[i] == -INFINITY ? 0.0f : mx[i];
    corr[i] = std::exp(m[i] - base);
    for (int t = 0; t < n; ++t)
      s[t * L + i] -= base;
  }
  exp_in_place(s, n * L);
  for (int i = 0; i < L; ++i) {
    float sum = 0.0f;
    for (int t = 0; t < n; ++t) {
      s[t * L + i] = t < live[i] ? s[t * L + i] : 0.0f;
      sum += s[t * L + i];
    }
    m[i] = mx[i];
    l[i] = l[i] * corr[i] + sum;
  }
  for (int d = 0; d < HD; ++d)
    for (int i = 0; i < L; ++i)
      ot[d * qs + i] *= corr[i];
  for (int t = 0; t < n; ++t)
    for (int d = 0; d < HD; ++d) {
      const float vd = v[int64_t(t) * HD + d];
      for (int i = 0; i < L; ++i)
        ot[d * qs + i] += s[t * L + i] * vd;
    }
}
/// attend_lanes16 for `lanes` query vectors (every buffer holds them rounded
/// up to 16; s has room for n x 16 floats).
template <int HD>
inline void attend_lanes(int lanes, const float *qt, int64_t qs, const float *k, const float *v, int n,
                         const int32_t *live, float *s, float *m, float *l, float *ot) {
  for (int g = 0; g < lanes; g += 16)
    attend_lanes16<HD>(qt + g, qs, k, v, n, live + g, s, m + g, l + g, ot + g);
}

/// out[i] = silu(g[i]) * u[i] for eight lanes.
inline void silu_mul8(const float *g, const float *u, float *out) {
  for (int i = 0; i < 8; ++i)
    out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

} // namespace portable
} // namespace qwenc_rt

#endif
