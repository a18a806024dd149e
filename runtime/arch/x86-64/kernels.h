// The x86-64-avx2 target's kernels: the hooks of kernels.h in AVX2 + FMA +
// F16C intrinsics (the executable is built with -mavx2 -mfma -mf16c), and
// the CPU check. Generated code of that target includes this header;
// arch/x86-64/halide.h adds the choice between the Halide kernels' AVX2 and
// AVX-512 VNNI variants.
#ifndef QWENC_ARCH_X86_64_KERNELS_H
#define QWENC_ARCH_X86_64_KERNELS_H

#include "../../portable_hooks.h"

#include <cstring>
#include <immintrin.h>
#include <type_traits>

namespace qwenc_rt {
namespace x86 {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
/// exp of eight floats (portable_hooks.h's exp_poly); x clamped to
/// [-87.3, 88.3], where exp stays a normal float.
inline __m256 exp8(__m256 x) {
  using namespace portable::exp_poly;
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kC[0]);
  for (int c = 1; c < 6; ++c)
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC[c]));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^k: k + 127 into the exponent field.
  const __m256i two_k = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(two_k));
}
/// silu(g) * u = g / (1 + exp(-g)) * u, eight lanes.
inline __m256 silu_mul8v(__m256 g, __m256 u) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}
/// Eight f16 at p as floats (vcvtph2ps).
inline __m256 load8_f16(const f16 *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

/// f16 rows in hardware (vcvtph2ps): the bit-level widen() ran an F16
/// checkpoint's 0.5B at 3.9 tok/s (now 52-59). Four independent sums of FMAs.
template <int K, typename W>
inline float dot(const float *x, const W *w) {
  if constexpr (std::is_same_v<W, f16> && K % 32 == 0) {
    __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int k = 0; k < K; k += 32)
      for (int i = 0; i < 4; ++i)
        a[i] = _mm256_fmadd_ps(load8_f16(w + k + 8 * i), _mm256_loadu_ps(x + k + 8 * i), a[i]);
    return hsum(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3])));
  } else {
    return portable::dot<K>(x, w);
  }
}

/// The sums of eight vectors, lane j the sum of a[j]: a transposing
/// reduction (three rounds of pairwise adds), the eight scores of a block.
inline __m256 sum8x8(const __m256 a[8]) {
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
  return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

/// HD columns of acc from column D on (W of them, a multiple of 8, at most
/// 64: eight registers): acc = acc * corr + sum_t p[t] v_t.
template <int HD, int W>
inline void attend_values(const float *p, const float *v, int n, float corr, float *acc) {
  __m256 o[W / 8];
  for (int i = 0; i < W / 8; ++i)
    o[i] = _mm256_mul_ps(_mm256_loadu_ps(acc + 8 * i), _mm256_set1_ps(corr));
  for (int t = 0; t < n; ++t) {
    const __m256 pt = _mm256_set1_ps(p[t]);
    const float *vt = v + int64_t(t) * HD;
    for (int i = 0; i < W / 8; ++i)
      o[i] = _mm256_fmadd_ps(pt, _mm256_loadu_ps(vt + 8 * i), o[i]);
  }
  for (int i = 0; i < W / 8; ++i)
    _mm256_storeu_ps(acc + 8 * i, o[i]);
}

/// Whether attend_block and attend_lanes run their AVX-512 forms: set where
/// the Halide kernels run their AVX-512 VNNI variant (arch/x86-64/halide.h),
/// so that --isa avx2 runs AVX2 code only.
inline bool &attention_avx512() {
  static bool on = false;
  return on;
}

#define QWENC_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))

/// exp of sixteen floats (exp8's method; 2^k applied by vscalefps).
QWENC_AVX512 inline __m512 exp16(__m512 x) {
  using namespace portable::exp_poly;
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kC[0]);
  for (int c = 1; c < 6; ++c)
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC[c]));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, k);
}

/// attend_block with AVX-512 (head_dim a multiple of 16): half the
/// instructions of the AVX2 form per score and per value row.
template <int HD>
QWENC_AVX512 void attend_block_avx512(const float *q, const float *k, const float *v, int n, float scale, float *s,
                                      float &m, float &l, float *acc) {
  for (int t = 0; t < n; t += 8) {
    __m512 a[8];
    const float *rows[8];
    for (int j = 0; j < 8; ++j) {
      rows[j] = k + int64_t(t + j < n ? t + j : n - 1) * HD;
      a[j] = _mm512_setzero_ps();
    }
    for (int d = 0; d < HD; d += 16) {
      const __m512 qd = _mm512_loadu_ps(q + d);
      for (int j = 0; j < 8; ++j)
        a[j] = _mm512_fmadd_ps(qd, _mm512_loadu_ps(rows[j] + d), a[j]);
    }
    __m256 y[8];
    for (int j = 0; j < 8; ++j)
      y[j] = _mm256_add_ps(_mm512_castps512_ps256(a[j]), _mm512_extractf32x8_ps(a[j], 1));
    _mm256_storeu_ps(s + t, _mm256_mul_ps(sum8x8(y), _mm256_set1_ps(scale)));
  }
  __m512 mv = _mm512_set1_ps(m);
  for (int t = 0; t < n; t += 16)
    mv = _mm512_mask_max_ps(mv, __mmask16(n - t >= 16 ? 0xffff : (1u << (n - t)) - 1), mv, _mm512_loadu_ps(s + t));
  const float mx = _mm512_reduce_max_ps(mv);
  const __m512 mxv = _mm512_set1_ps(mx);
  __m512 sum = _mm512_setzero_ps();
  for (int t = 0; t < n; t += 16) {
    const __mmask16 live = __mmask16(n - t >= 16 ? 0xffff : (1u << (n - t)) - 1);
    const __m512 e = _mm512_maskz_mov_ps(live, exp16(_mm512_sub_ps(_mm512_loadu_ps(s + t), mxv)));
    _mm512_storeu_ps(s + t, e); // s has room for whole blocks of 16
    sum = _mm512_add_ps(sum, e);
  }
  const float corr = m == -INFINITY ? 0.0f : std::exp(m - mx);
  m = mx;
  l = l * corr + _mm512_reduce_add_ps(sum);
  constexpr int R = HD / 16 < 8 ? HD / 16 : 8; // registers of sums per pass
  for (int d0 = 0; d0 < HD; d0 += 16 * R) {
    __m512 o[R];
    for (int i = 0; i < R; ++i)
      o[i] = _mm512_mul_ps(_mm512_loadu_ps(acc + d0 + 16 * i), _mm512_set1_ps(corr));
    for (int t = 0; t < n; ++t) {
      const __m512 pt = _mm512_set1_ps(s[t]);
      const float *vt = v + int64_t(t) * HD + d0;
      for (int i = 0; i < R; ++i)
        o[i] = _mm512_fmadd_ps(pt, _mm512_loadu_ps(vt + 16 * i), o[i]);
    }
    for (int i = 0; i < R; ++i)
      _mm512_storeu_ps(acc + d0 + 16 * i, o[i]);
  }
}

/// portable::attend_block in AVX2: eight keys' dot products side by side
/// (eight FMA chains, one transposing reduction for the eight sums), the
/// exponentials eight at a time, the value sums in registers.
template <int HD>
inline void attend_block_avx2(const float *q, const float *k, const float *v, int n, float scale, float *s,
                              float &m, float &l, float *acc) {
  static_assert(HD % 8 == 0, "head_dim a multiple of 8");
  for (int t = 0; t < n; t += 8) {
    __m256 a[8];
    const float *rows[8];
    for (int j = 0; j < 8; ++j) { // keys past n repeat the last one; their scores are not read
      rows[j] = k + int64_t(t + j < n ? t + j : n - 1) * HD;
      a[j] = _mm256_setzero_ps();
    }
    for (int d = 0; d < HD; d += 8) {
      const __m256 qd = _mm256_loadu_ps(q + d);
      for (int j = 0; j < 8; ++j)
        a[j] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(rows[j] + d), a[j]);
    }
    _mm256_storeu_ps(s + t, _mm256_mul_ps(sum8x8(a), _mm256_set1_ps(scale)));
  }
  const int whole = n / 8 * 8;
  __m256 mv = _mm256_set1_ps(m);
  for (int t = 0; t < whole; t += 8)
    mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + t));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  float mx = _mm_cvtss_f32(_mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1)));
  for (int t = whole; t < n; ++t)
    mx = s[t] > mx ? s[t] : mx;
  const __m256 mxv = _mm256_set1_ps(mx), lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  __m256 sum = _mm256_setzero_ps();
  for (int t = 0; t < n; t += 8) {
    __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + t), mxv));
    if (t + 8 > n) // lanes past n weigh nothing
      e = _mm256_and_ps(e, _mm256_cmp_ps(lane, _mm256_set1_ps(float(n - t)), _CMP_LT_OQ));
    _mm256_storeu_ps(s + t, e);
    sum = _mm256_add_ps(sum, e);
  }
  const float corr = m == -INFINITY ? 0.0f : std::exp(m - mx);
  m = mx;
  l = l * corr + hsum(sum);
  for (int d = 0; d + 64 <= HD; d += 64)
    attend_values<HD, 64>(s, v + d, n, corr, acc + d);
  if constexpr (HD % 64 != 0)
    attend_values<HD, HD % 64>(s, v + HD / 64 * 64, n, corr, acc + HD / 64 * 64);
}

/// The attention block of runtime/attention.h: AVX-512 where chosen and the
/// head size allows, AVX2 otherwise.
template <int HD>
inline void attend_block(const float *q, const float *k, const float *v, int n, float scale, float *s, float &m,
                         float &l, float *acc) {
  if constexpr (HD % 16 == 0 && (HD / 16 <= 8 || HD % 128 == 0)) {
    if (attention_avx512())
      return attend_block_avx512<HD>(q, k, v, n, scale, s, m, l, acc);
  }
  attend_block_avx2<HD>(q, k, v, n, scale, s, m, l, acc);
}

/// Scores of T cached rows (k, HD apart) for 16 * W lanes of query vectors
/// qt [HD][qs]: s [T][L], each a dot product over HD, the key's element
/// broadcast against W registers of lanes. (The _avx2 forms below: 8 * W.)
template <int HD, int W, int T>
QWENC_AVX512 inline void lane_scores_avx512(const float *qt, int64_t qs, const float *k, float *s) {
  constexpr int L = 16 * W;
  __m512 a[T][W];
  for (int t = 0; t < T; ++t)
    for (int w = 0; w < W; ++w)
      a[t][w] = _mm512_setzero_ps();
  for (int d = 0; d < HD; ++d) {
    __m512 q[W];
    for (int w = 0; w < W; ++w)
      q[w] = _mm512_loadu_ps(qt + d * qs + 16 * w);
    for (int t = 0; t < T; ++t) {
      const __m512 kd = _mm512_set1_ps(k[t * HD + d]);
      for (int w = 0; w < W; ++w)
        a[t][w] = _mm512_fmadd_ps(kd, q[w], a[t][w]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int w = 0; w < W; ++w)
      _mm512_storeu_ps(s + t * L + 16 * w, a[t][w]);
}
/// D output columns (ot [D][qs], from column d of v on) of 16 * W lanes:
/// ot = ot * corr + sum_t p[t] v[t], the value broadcast against the
/// registers of weights.
template <int HD, int W, int D>
QWENC_AVX512 inline void lane_values_avx512(const float *p, const float *v, int n, const __m512 *corr, float *ot,
                                            int64_t qs) {
  constexpr int L = 16 * W;
  __m512 o[D][W];
  for (int d = 0; d < D; ++d)
    for (int w = 0; w < W; ++w)
      o[d][w] = _mm512_mul_ps(_mm512_loadu_ps(ot + d * qs + 16 * w), corr[w]);
  for (int t = 0; t < n; ++t) {
    __m512 pt[W];
    for (int w = 0; w < W; ++w)
      pt[w] = _mm512_loadu_ps(p + t * L + 16 * w);
    for (int d = 0; d < D; ++d) {
      const __m512 vd = _mm512_set1_ps(v[int64_t(t) * HD + d]);
      for (int w = 0; w < W; ++w)
        o[d][w] = _mm512_fmadd_ps(vd, pt[w], o[d][w]);
    }
  }
  for (int d = 0; d < D; ++d)
    for (int w = 0; w < W; ++w)
      _mm512_storeu_ps(ot + d * qs + 16 * w, o[d][w]);
}
/// portable::attend_lanes16 for 16 * W lanes in AVX-512 registers: the
/// scores in tiles of T keys x W registers, the softmax a register of lanes
/// at a time (masked by each lane's live count), the output sums in tiles
/// of D columns x W registers (every tile at most 24 accumulators).
template <int HD, int W>
QWENC_AVX512 void attend_lanes_avx512(const float *qt, int64_t qs, const float *k, const float *v, int n,
                                      const int32_t *live, float *s, float *m, float *l, float *ot) {
  constexpr int L = 16 * W, T = W < 4 ? 8 : 6, D = W == 1 ? 16 : W == 4 ? 4 : 8;
  int t = 0;
  for (; t + T <= n; t += T)
    lane_scores_avx512<HD, W, T>(qt, qs, k + int64_t(t) * HD, s + t * L);
  for (; t < n; ++t)
    lane_scores_avx512<HD, W, 1>(qt, qs, k + int64_t(t) * HD, s + t * L);
  __m512 corr[W];
  for (int w = 0; w < W; ++w) {
    const __m512i lv = _mm512_loadu_si512(live + 16 * w);
    const __m512 m0 = _mm512_loadu_ps(m + 16 * w);
    __m512 mx = m0;
    for (int t = 0; t < n; ++t)
      mx = _mm512_mask_max_ps(mx, _mm512_cmpgt_epi32_mask(lv, _mm512_set1_epi32(t)), mx,
                              _mm512_loadu_ps(s + t * L + 16 * w));
    // A lane that has seen nothing yet keeps -inf (its weights are masked to 0).
    const __m512 base = _mm512_mask_mov_ps(mx, _mm512_cmp_ps_mask(mx, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ),
                                           _mm512_setzero_ps());
    corr[w] = exp16(_mm512_sub_ps(m0, base)); // m0 = -inf: ~1e-38 times sums of 0
    __m512 sum = _mm512_setzero_ps();
    for (int t = 0; t < n; ++t) {
      float *st = s + t * L + 16 * w;
      const __m512 e = _mm512_maskz_mov_ps(_mm512_cmpgt_epi32_mask(lv, _mm512_set1_epi32(t)),
                                           exp16(_mm512_sub_ps(_mm512_loadu_ps(st), base)));
      _mm512_storeu_ps(st, e);
      sum = _mm512_add_ps(sum, e);
    }
    _mm512_storeu_ps(m + 16 * w, mx);
    _mm512_storeu_ps(l + 16 * w, _mm512_fmadd_ps(_mm512_loadu_ps(l + 16 * w), corr[w], sum));
  }
  int d = 0;
  for (; d + D <= HD; d += D)
    lane_values_avx512<HD, W, D>(s, v + d, n, corr, ot + d * qs, qs);
  for (; d < HD; ++d)
    lane_values_avx512<HD, W, 1>(s, v + d, n, corr, ot + d * qs, qs);
}

template <int HD, int W, int T>
inline void lane_scores_avx2(const float *qt, int64_t qs, const float *k, float *s) {
  constexpr int L = 8 * W;
  __m256 a[T][W];
  for (int t = 0; t < T; ++t)
    for (int w = 0; w < W; ++w)
      a[t][w] = _mm256_setzero_ps();
  for (int d = 0; d < HD; ++d) {
    __m256 q[W];
    for (int w = 0; w < W; ++w)
      q[w] = _mm256_loadu_ps(qt + d * qs + 8 * w);
    for (int t = 0; t < T; ++t) {
      const __m256 kd = _mm256_broadcast_ss(k + t * HD + d);
      for (int w = 0; w < W; ++w)
        a[t][w] = _mm256_fmadd_ps(kd, q[w], a[t][w]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int w = 0; w < W; ++w)
      _mm256_storeu_ps(s + t * L + 8 * w, a[t][w]);
}
template <int HD, int W, int D>
inline void lane_values_avx2(const float *p, const float *v, int n, const __m256 *corr, float *ot, int64_t qs) {
  constexpr int L = 8 * W;
  __m256 o[D][W];
  for (int d = 0; d < D; ++d)
    for (int w = 0; w < W; ++w)
      o[d][w] = _mm256_mul_ps(_mm256_loadu_ps(ot + d * qs + 8 * w), corr[w]);
  for (int t = 0; t < n; ++t) {
    __m256 pt[W];
    for (int w = 0; w < W; ++w)
      pt[w] = _mm256_loadu_ps(p + t * L + 8 * w);
    for (int d = 0; d < D; ++d) {
      const __m256 vd = _mm256_broadcast_ss(v + int64_t(t) * HD + d);
      for (int w = 0; w < W; ++w)
        o[d][w] = _mm256_fmadd_ps(vd, pt[w], o[d][w]);
    }
  }
  for (int d = 0; d < D; ++d)
    for (int w = 0; w < W; ++w)
      _mm256_storeu_ps(ot + d * qs + 8 * w, o[d][w]);
}
/// attend_lanes_avx512 in AVX2: 8 * W lanes (W of 1 or 2), 16 registers, so
/// tiles of at most 12 accumulators.
template <int HD, int W>
inline void attend_lanes_avx2(const float *qt, int64_t qs, const float *k, const float *v, int n,
                              const int32_t *live, float *s, float *m, float *l, float *ot) {
  constexpr int L = 8 * W, T = W == 1 ? 8 : 6, D = W == 1 ? 8 : 6;
  int t = 0;
  for (; t + T <= n; t += T)
    lane_scores_avx2<HD, W, T>(qt, qs, k + int64_t(t) * HD, s + t * L);
  for (; t < n; ++t)
    lane_scores_avx2<HD, W, 1>(qt, qs, k + int64_t(t) * HD, s + t * L);
  __m256 corr[W];
  for (int w = 0; w < W; ++w) {
    const __m256i lv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(live + 8 * w));
    const __m256 m0 = _mm256_loadu_ps(m + 8 * w);
    __m256 mx = m0;
    for (int t = 0; t < n; ++t) {
      const __m256 seen = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lv, _mm256_set1_epi32(t)));
      mx = _mm256_blendv_ps(mx, _mm256_max_ps(mx, _mm256_loadu_ps(s + t * L + 8 * w)), seen);
    }
    const __m256 base = _mm256_andnot_ps(_mm256_cmp_ps(mx, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ), mx);
    corr[w] = exp8(_mm256_sub_ps(m0, base));
    __m256 sum = _mm256_setzero_ps();
    for (int t = 0; t < n; ++t) {
      float *st = s + t * L + 8 * w;
      const __m256 seen = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lv, _mm256_set1_epi32(t)));
      const __m256 e = _mm256_and_ps(seen, exp8(_mm256_sub_ps(_mm256_loadu_ps(st), base)));
      _mm256_storeu_ps(st, e);
      sum = _mm256_add_ps(sum, e);
    }
    _mm256_storeu_ps(m + 8 * w, mx);
    _mm256_storeu_ps(l + 8 * w, _mm256_fmadd_ps(_mm256_loadu_ps(l + 8 * w), corr[w], sum));
  }
  int d = 0;
  for (; d + D <= HD; d += D)
    lane_values_avx2<HD, W, D>(s, v + d, n, corr, ot + d * qs, qs);
  for (; d < HD; ++d)
    lane_values_avx2<HD, W, 1>(s, v + d, n, corr, ot + d * qs, qs);
}

/// The attention block of runtime/attention.h (portable::attend_lanes):
/// AVX-512 where chosen, in one call for up to 64 lanes; AVX2 otherwise, 16
/// lanes a call (8 where no more are used: a decode step's group).
template <int HD>
inline void attend_lanes(int lanes, const float *qt, int64_t qs, const float *k, const float *v, int n,
                         const int32_t *live, float *s, float *m, float *l, float *ot) {
  if (attention_avx512()) {
    switch ((lanes + 15) / 16) {
    case 1: return attend_lanes_avx512<HD, 1>(qt, qs, k, v, n, live, s, m, l, ot);
    case 2: return attend_lanes_avx512<HD, 2>(qt, qs, k, v, n, live, s, m, l, ot);
    case 3: return attend_lanes_avx512<HD, 3>(qt, qs, k, v, n, live, s, m, l, ot);
    default: return attend_lanes_avx512<HD, 4>(qt, qs, k, v, n, live, s, m, l, ot);
    }
  }
  for (int g = 0; g < lanes; g += 16) {
    if (lanes - g > 8)
      attend_lanes_avx2<HD, 2>(qt + g, qs, k, v, n, live + g, s, m + g, l + g, ot + g);
    else
      attend_lanes_avx2<HD, 1>(qt + g, qs, k, v, n, live + g, s, m + g, l + g, ot + g);
  }
}

/// f16: vcvtph2ps and one FMA chain per token (another order than dot()'s).
template <int K, int R, typename T>
inline void dot_rows(const T *w, const float *x, int64_t stride, float *out) {
  if constexpr (std::is_same_v<T, f16>) {
    __m256 acc[R];
    for (int i = 0; i < R; ++i)
      acc[i] = _mm256_setzero_ps();
    for (int k = 0; k < K; k += 8) {
      const __m256 wv = load8_f16(w + k);
      for (int i = 0; i < R; ++i)
        acc[i] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i * stride + k), acc[i]);
    }
    for (int i = 0; i < R; ++i)
      out[i] = hsum(acc[i]);
  } else {
    portable::dot_rows<K, R>(w, x, stride, out);
  }
}

/// max |x[j]| (GCC leaves the portable loop scalar: a max reduction it may
/// not reorder. With its vectors, 0.5B g32 prefill spent 5.8 % of its time
/// quantizing x.) NaNs are skipped.
inline float max_magnitude(const float *x, int n) {
  float amax = 0;
  int j = 0;
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m = _mm256_setzero_ps();
  for (; j + 8 <= n; j += 8) // max_ps gives its second operand for a NaN
    m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), magnitude), m);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  for (float a : lanes)
    amax = a > amax ? a : amax;
  for (; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = a > amax ? a : amax;
  }
  return amax;
}

/// portable::quantize_block in vectors of 32: round to nearest even, as
/// lrint; narrowed with packs (which work within 128-bit lanes, hence the
/// permutes).
template <typename T>
inline void quantize_block(const float *x, int block, int qmax, T *q, float &d, float &sum8) {
  if (block % 32 != 0)
    return portable::quantize_block(x, block, qmax, q, d, sum8);
  const float amax = max_magnitude(x, block);
  const float scale = amax / float(qmax), inv = scale > 0 ? 1.0f / scale : 0.0f;
  const __m256 vinv = _mm256_set1_ps(inv);
  __m256i sums = _mm256_setzero_si256();
  for (int j = 0; j < block; j += 32) {
    __m256i v[4];
    for (int l = 0; l < 4; ++l) {
      v[l] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * l), vinv));
      sums = _mm256_add_epi32(sums, v[l]);
    }
    const __m256i lo = _mm256_packs_epi32(v[0], v[1]), hi = _mm256_packs_epi32(v[2], v[3]);
    if constexpr (sizeof(T) == 1) {
      const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(lo, hi), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + j), bytes);
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + j), _mm256_permute4x64_epi64(lo, 0xD8));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + j + 16), _mm256_permute4x64_epi64(hi, 0xD8));
    }
  }
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), sums);
  int64_t sum = 0;
  for (int32_t l : lanes)
    sum += l;
  d = scale;
  sum8 = 8.0f * scale * float(sum);
}

inline void silu_mul8(const float *g, const float *u, float *out) {
  _mm256_storeu_ps(out, silu_mul8v(_mm256_loadu_ps(g), _mm256_loadu_ps(u)));
}

/// Whether this CPU has the features of `required` ("avx2,fma"): the
/// executable's C++ was compiled for them.
inline bool cpu_has(const char *required) {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  return !std::strstr(required, "avx2") || avx2;
}

/// ModelDesc::select_kernels without Halide kernels: the CPU check alone.
inline const char *select_kernels(const char *required, const char *request, const char **error) {
  if (!cpu_has(required)) {
    *error = "this executable was compiled for x86-64 with AVX2, FMA and F16C (qwenc --target x86-64-avx2), "
             "which this CPU lacks; compile with --target cpp";
    return nullptr;
  }
  if (request && *request && std::strcmp(request, "auto") != 0 && std::strcmp(request, "avx2") != 0) {
    *error = "--isa needs auto or avx2";
    return nullptr;
  }
  return "AVX2";
}

} // namespace x86

namespace arch = x86;
} // namespace qwenc_rt

#define QWENC_ARCH_SELECTED 1
#include "../../kernels.h"

#endif
