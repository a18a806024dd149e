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

/// Whether attend_group and attend_lanes run their AVX-512 forms: set where
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

/// Sixteen registers of 16 dwords transposed in place: afterwards r[j]
/// holds dword j of each of the sixteen.
QWENC_AVX512 inline void transpose16_avx512(__m512i r[16]) {
  __m512i a[16];
  for (int p = 0; p < 16; p += 2) { // within 128-bit lanes: 4 x 4 blocks
    a[p] = _mm512_unpacklo_epi32(r[p], r[p + 1]);
    a[p + 1] = _mm512_unpackhi_epi32(r[p], r[p + 1]);
  }
  for (int p = 0; p < 16; p += 4) {
    r[p] = _mm512_unpacklo_epi64(a[p], a[p + 2]);
    r[p + 1] = _mm512_unpackhi_epi64(a[p], a[p + 2]);
    r[p + 2] = _mm512_unpacklo_epi64(a[p + 1], a[p + 3]);
    r[p + 3] = _mm512_unpackhi_epi64(a[p + 1], a[p + 3]);
  } // r[4i + k] lane L: dword 4L + k of registers 4i..4i+3
  for (int k = 0; k < 4; ++k) {
    const __m512i c1 = _mm512_shuffle_i32x4(r[k], r[4 + k], 0x44), c2 = _mm512_shuffle_i32x4(r[k], r[4 + k], 0xee);
    const __m512i c3 = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0x44);
    const __m512i c4 = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0xee);
    a[k] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    a[4 + k] = _mm512_shuffle_i32x4(c1, c3, 0xdd);
    a[8 + k] = _mm512_shuffle_i32x4(c2, c4, 0x88);
    a[12 + k] = _mm512_shuffle_i32x4(c2, c4, 0xdd);
  }
  for (int j = 0; j < 16; ++j)
    r[j] = a[j];
}

/// portable::widen_keys of a bf16 or f32 cache with AVX-512 (rows of whole
/// 64-byte registers), sixteen rows at a time: 64 bytes of each row (16
/// floats, or 32 bf16 as 16 pairs) transposed puts one float, or one pair,
/// of the sixteen rows in a register; a pair is two floats by a shift and
/// a mask (bf16 is the top half of an fp32).
template <int HD, typename KT>
QWENC_AVX512 inline void widen_keys16_avx512(const KT *src, int64_t stride, float *kt, int64_t ks) {
  constexpr int E = 64 / int(sizeof(KT)); // elements a register
  const __m512i high = _mm512_set1_epi32(int(0xffff0000u));
  for (int h = 0; h < HD; h += E) {
    __m512i r[16];
    for (int p = 0; p < 16; ++p)
      r[p] = _mm512_loadu_si512(src + p * stride + h);
    transpose16_avx512(r);
    for (int j = 0; j < 16; ++j) {
      if constexpr (std::is_same<KT, bf16>::value) { // pair j: elements h + 2j (low half) and h + 2j + 1
        _mm512_storeu_ps(kt + (h + 2 * j) * ks, _mm512_castsi512_ps(_mm512_slli_epi32(r[j], 16)));
        _mm512_storeu_ps(kt + (h + 2 * j + 1) * ks, _mm512_castsi512_ps(_mm512_and_si512(r[j], high)));
      } else {
        _mm512_storeu_ps(kt + (h + j) * ks, _mm512_castsi512_ps(r[j]));
      }
    }
  }
}
/// widen_keys over a block by steps of R rows (`step(rows, stride, kt)`):
/// whole steps straight from the cache, the last rows through a copy that
/// is zero past n; columns up to the next multiple of 32.
template <int HD, int R, typename KT, typename Step>
inline void widen_keys_steps(const KT *src, int64_t stride, int n, float *kt, Step step) {
  const int end = (n + 31) / 32 * 32;
  for (int t = 0; t < end; t += R) {
    if (t + R <= n) {
      step(src + t * stride, stride, kt + t);
      continue;
    }
    KT rows[R * HD];
    std::memset(rows, 0, sizeof rows);
    for (int p = 0; t + p < n; ++p)
      std::memcpy(rows + p * HD, src + (t + p) * stride, HD * sizeof(KT));
    step(rows, HD, kt + t);
  }
}

/// portable::attend_group with AVX-512 for G vectors: the scores of 32
/// positions (two registers) of every vector at once, each key column
/// loaded once for the G vectors (2G independent sums); the value sums D
/// registers of head_dim for every vector at once, each value row loaded
/// once for them.
template <int HD, int G>
QWENC_AVX512 void attend_group_avx512(const float *q, const float *kt, int64_t ks, const float *v, int n,
                                      const int32_t *live, float *s, float *m, float *l, float *acc,
                                      const Ahead &ahead) {
  constexpr int R = HD / 16;
  constexpr int D = (G + 1) * R <= 28 ? R : (G + 1) * 4 <= 28 && R % 4 == 0 ? 4 : (G + 1) * 2 <= 28 ? 2 : 1;
  // The next K lines over the score loop's steps, the V lines over the value loop's.
  Ahead::Walk kw = ahead.walk(false, int(ks) / 32 * HD), vw = ahead.walk(true, HD / (16 * D) * int(ks));
  for (int t = 0; t < n; t += 32) {
    __m512 a[G][2];
    for (int g = 0; g < G; ++g)
      a[g][0] = a[g][1] = _mm512_setzero_ps();
    for (int d = 0; d < HD; ++d) {
      kw.step();
      const __m512 k0 = _mm512_loadu_ps(kt + d * ks + t), k1 = _mm512_loadu_ps(kt + d * ks + t + 16);
      for (int g = 0; g < G; ++g) {
        const __m512 qd = _mm512_set1_ps(q[g * HD + d]);
        a[g][0] = _mm512_fmadd_ps(k0, qd, a[g][0]);
        a[g][1] = _mm512_fmadd_ps(k1, qd, a[g][1]);
      }
    }
    for (int g = 0; g < G; ++g) {
      _mm512_storeu_ps(s + g * ks + t, a[g][0]);
      _mm512_storeu_ps(s + g * ks + t + 16, a[g][1]);
    }
  }
  __m512 corr[G];
  for (int g = 0; g < G; ++g) {
    float *sg = s + g * ks;
    __m512 mv = _mm512_set1_ps(m[g]);
    for (int t = 0; t < live[g]; t += 16)
      mv = _mm512_mask_max_ps(mv, _cvtu32_mask16(live[g] - t >= 16 ? 0xffffu : (1u << (live[g] - t)) - 1), mv,
                              _mm512_loadu_ps(sg + t));
    const float mx = _mm512_reduce_max_ps(mv);
    const __m512 mxv = _mm512_set1_ps(mx == -INFINITY ? 0.0f : mx); // nothing seen: every weight is zero
    __m512 sum = _mm512_setzero_ps();
    for (int t = 0; t < n; t += 16) {
      const int left = live[g] - t;
      const __mmask16 on = _cvtu32_mask16(left >= 16 ? 0xffffu : left > 0 ? (1u << left) - 1 : 0u);
      const __m512 e = _mm512_maskz_mov_ps(on, exp16(_mm512_sub_ps(_mm512_loadu_ps(sg + t), mxv)));
      _mm512_storeu_ps(sg + t, e); // s has room for whole registers
      sum = _mm512_add_ps(sum, e);
    }
    const float c = m[g] == -INFINITY ? 0.0f : std::exp(m[g] - mx);
    corr[g] = _mm512_set1_ps(c);
    l[g] = l[g] * c + _mm512_reduce_add_ps(sum);
    m[g] = mx;
  }
  for (int d0 = 0; d0 < HD; d0 += 16 * D) {
    __m512 o[G][D];
    for (int g = 0; g < G; ++g)
      for (int i = 0; i < D; ++i)
        o[g][i] = _mm512_mul_ps(_mm512_loadu_ps(acc + g * HD + d0 + 16 * i), corr[g]);
    for (int t = 0; t < n; ++t) {
      vw.step();
      __m512 vt[D];
      for (int i = 0; i < D; ++i)
        vt[i] = _mm512_loadu_ps(v + int64_t(t) * HD + d0 + 16 * i);
      for (int g = 0; g < G; ++g) {
        const __m512 p = _mm512_set1_ps(s[g * ks + t]);
        for (int i = 0; i < D; ++i)
          o[g][i] = _mm512_fmadd_ps(vt[i], p, o[g][i]);
      }
    }
    for (int g = 0; g < G; ++g)
      for (int i = 0; i < D; ++i)
        _mm512_storeu_ps(acc + g * HD + d0 + 16 * i, o[g][i]);
  }
}

/// transpose16_avx512 in AVX2: eight registers of 8 dwords.
inline void transpose8_avx2(__m256i r[8]) {
  __m256i a[8];
  for (int p = 0; p < 8; p += 2) {
    a[p] = _mm256_unpacklo_epi32(r[p], r[p + 1]);
    a[p + 1] = _mm256_unpackhi_epi32(r[p], r[p + 1]);
  }
  for (int p = 0; p < 8; p += 4) {
    r[p] = _mm256_unpacklo_epi64(a[p], a[p + 2]);
    r[p + 1] = _mm256_unpackhi_epi64(a[p], a[p + 2]);
    r[p + 2] = _mm256_unpacklo_epi64(a[p + 1], a[p + 3]);
    r[p + 3] = _mm256_unpackhi_epi64(a[p + 1], a[p + 3]);
  } // r[4i + k] half L: dword 4L + k of registers 4i..4i+3
  for (int k = 0; k < 4; ++k) {
    a[k] = _mm256_permute2x128_si256(r[k], r[4 + k], 0x20);
    a[4 + k] = _mm256_permute2x128_si256(r[k], r[4 + k], 0x31);
  }
  for (int j = 0; j < 8; ++j)
    r[j] = a[j];
}

/// widen_keys16_avx512 in AVX2: eight rows at a time, 32 bytes of each.
template <int HD, typename KT>
inline void widen_keys8_avx2(const KT *src, int64_t stride, float *kt, int64_t ks) {
  constexpr int E = 32 / int(sizeof(KT));
  const __m256i high = _mm256_set1_epi32(int(0xffff0000u));
  for (int h = 0; h < HD; h += E) {
    __m256i r[8];
    for (int p = 0; p < 8; ++p)
      r[p] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + p * stride + h));
    transpose8_avx2(r);
    for (int j = 0; j < 8; ++j) {
      if constexpr (std::is_same<KT, bf16>::value) {
        _mm256_storeu_ps(kt + (h + 2 * j) * ks, _mm256_castsi256_ps(_mm256_slli_epi32(r[j], 16)));
        _mm256_storeu_ps(kt + (h + 2 * j + 1) * ks, _mm256_castsi256_ps(_mm256_and_si256(r[j], high)));
      } else {
        _mm256_storeu_ps(kt + (h + j) * ks, _mm256_castsi256_ps(r[j]));
      }
    }
  }
}
/// attend_group_avx512 in AVX2 (sixteen registers): P registers of eight
/// positions per score pass, D of head_dim per value pass.
template <int HD, int G>
inline void attend_group_avx2(const float *q, const float *kt, int64_t ks, const float *v, int n,
                              const int32_t *live, float *s, float *m, float *l, float *acc, const Ahead &ahead) {
  constexpr int P = G <= 4 ? 2 : 1, R = HD / 8;
  constexpr int D = (G + 1) * 4 <= 14 && R % 4 == 0 ? 4 : (G + 1) * 2 <= 14 && R % 2 == 0 ? 2 : 1;
  Ahead::Walk kw = ahead.walk(false, int(ks) / (8 * P) * HD), vw = ahead.walk(true, HD / (8 * D) * int(ks));
  for (int t = 0; t < n; t += 8 * P) {
    __m256 a[G][P];
    for (int g = 0; g < G; ++g)
      for (int j = 0; j < P; ++j)
        a[g][j] = _mm256_setzero_ps();
    for (int d = 0; d < HD; ++d) {
      kw.step();
      __m256 k[P];
      for (int j = 0; j < P; ++j)
        k[j] = _mm256_loadu_ps(kt + d * ks + t + 8 * j);
      for (int g = 0; g < G; ++g) {
        const __m256 qd = _mm256_broadcast_ss(q + g * HD + d);
        for (int j = 0; j < P; ++j)
          a[g][j] = _mm256_fmadd_ps(k[j], qd, a[g][j]);
      }
    }
    for (int g = 0; g < G; ++g)
      for (int j = 0; j < P; ++j)
        _mm256_storeu_ps(s + g * ks + t + 8 * j, a[g][j]);
  }
  const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  float corr[G];
  for (int g = 0; g < G; ++g) {
    float *sg = s + g * ks;
    __m256 mv = _mm256_set1_ps(m[g]);
    for (int t = 0; t < live[g]; t += 8) {
      const __m256 on = _mm256_cmp_ps(lane, _mm256_set1_ps(float(live[g] - t)), _CMP_LT_OQ);
      mv = _mm256_max_ps(mv, _mm256_blendv_ps(mv, _mm256_loadu_ps(sg + t), on));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    const float mx = _mm_cvtss_f32(_mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1)));
    const __m256 mxv = _mm256_set1_ps(mx == -INFINITY ? 0.0f : mx); // nothing seen: every weight is zero
    __m256 sum = _mm256_setzero_ps();
    for (int t = 0; t < n; t += 8) {
      const __m256 on = _mm256_cmp_ps(lane, _mm256_set1_ps(float(live[g] - t)), _CMP_LT_OQ);
      const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_loadu_ps(sg + t), mxv)), on);
      _mm256_storeu_ps(sg + t, e);
      sum = _mm256_add_ps(sum, e);
    }
    corr[g] = m[g] == -INFINITY ? 0.0f : std::exp(m[g] - mx);
    l[g] = l[g] * corr[g] + hsum(sum);
    m[g] = mx;
  }
  for (int d0 = 0; d0 < HD; d0 += 8 * D) {
    __m256 o[G][D];
    for (int g = 0; g < G; ++g)
      for (int i = 0; i < D; ++i)
        o[g][i] = _mm256_mul_ps(_mm256_loadu_ps(acc + g * HD + d0 + 8 * i), _mm256_set1_ps(corr[g]));
    for (int t = 0; t < n; ++t) {
      vw.step();
      __m256 vt[D];
      for (int i = 0; i < D; ++i)
        vt[i] = _mm256_loadu_ps(v + int64_t(t) * HD + d0 + 8 * i);
      for (int g = 0; g < G; ++g) {
        const __m256 p = _mm256_broadcast_ss(s + g * ks + t);
        for (int i = 0; i < D; ++i)
          o[g][i] = _mm256_fmadd_ps(vt[i], p, o[g][i]);
      }
    }
    for (int g = 0; g < G; ++g)
      for (int i = 0; i < D; ++i)
        _mm256_storeu_ps(acc + g * HD + d0 + 8 * i, o[g][i]);
  }
}

/// The cache rows of runtime/attention.h as float (portable::widen_rows):
/// a bf16 cache sixteen elements an instruction where AVX-512 is chosen.
template <int HD>
QWENC_AVX512 void widen_rows_avx512(const bf16 *src, int64_t stride, int n, float *dst) {
  for (int t = 0; t < n; ++t)
    for (int d = 0; d < HD; d += 16) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + t * stride + d));
      _mm512_storeu_ps(dst + t * HD + d, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(w), 16)));
    }
}
template <int HD, typename KT>
inline void widen_rows(const KT *src, int64_t stride, const float *scales, int64_t scale_stride, int n, float *dst) {
  if constexpr (std::is_same<KT, bf16>::value && HD % 16 == 0) {
    if (attention_avx512())
      return widen_rows_avx512<HD>(src, stride, n, dst);
  }
  portable::widen_rows<HD>(src, stride, scales, scale_stride, n, dst);
}

/// The key columns of runtime/attention.h's decode blocks
/// (portable::widen_keys): a bf16 or f32 cache by transposes, AVX-512 where
/// chosen (rows of whole 64-byte registers), AVX2 otherwise (32-byte ones).
template <int HD, typename KT>
inline void widen_keys(const KT *src, int64_t stride, const float *scales, int64_t scale_stride, int n, float *kt,
                       int64_t ks) {
  if constexpr (std::is_same<KT, bf16>::value || std::is_same<KT, float>::value) {
    if constexpr (HD * sizeof(KT) % 64 == 0) {
      if (attention_avx512())
        return widen_keys_steps<HD, 16>(src, stride, n, kt, [ks](const KT *rows, int64_t step, float *out) {
          widen_keys16_avx512<HD>(rows, step, out, ks);
        });
    }
    if constexpr (HD * sizeof(KT) % 32 == 0)
      return widen_keys_steps<HD, 8>(src, stride, n, kt, [ks](const KT *rows, int64_t step, float *out) {
        widen_keys8_avx2<HD>(rows, step, out, ks);
      });
  }
  portable::widen_keys<HD>(src, stride, scales, scale_stride, n, kt, ks);
}

/// attend_group_avx512 or _avx2 for nq vectors, by a template of G.
template <int HD, int G = 1>
inline void attend_group_x86(bool avx512, int nq, const float *q, const float *kt, int64_t ks, const float *v, int n,
                             const int32_t *live, float *s, float *m, float *l, float *acc, const Ahead &ahead) {
  if constexpr (G < 8) {
    if (nq != G)
      return attend_group_x86<HD, G + 1>(avx512, nq, q, kt, ks, v, n, live, s, m, l, acc, ahead);
  }
  if (avx512)
    return attend_group_avx512<HD, G>(q, kt, ks, v, n, live, s, m, l, acc, ahead);
  attend_group_avx2<HD, G>(q, kt, ks, v, n, live, s, m, l, acc, ahead);
}

/// The decode block of runtime/attention.h (portable::attend_group): the
/// AVX-512 form where chosen, AVX2 otherwise (head_dim a multiple of 16).
template <int HD>
inline void attend_group(int nq, const float *q, const float *kt, int64_t ks, const float *v, int n,
                         const int32_t *live, float *s, float *m, float *l, float *acc, const Ahead &ahead) {
  if constexpr (HD % 16 == 0)
    return attend_group_x86<HD>(attention_avx512(), nq, q, kt, ks, v, n, live, s, m, l, acc, ahead);
  portable::attend_group<HD>(nq, q, kt, ks, v, n, live, s, m, l, acc, ahead);
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
