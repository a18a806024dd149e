// Portable fp32 kernels of the `cpp` target. Dimensions are template
// parameters so the compiler sees constant trip counts; weights are read in
// their stored type and widened exactly to float.
#ifndef QWENC_KERNELS_H
#define QWENC_KERNELS_H

#include "qwenc_runtime.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qwenc_rt {

inline float widen(float x) { return x; }
inline float widen(bf16 x) {
  uint32_t bits = uint32_t(x.bits) << 16; // bf16 is the top half of an fp32
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline float widen(f16 x) {
  uint32_t sign = uint32_t(x.bits & 0x8000) << 16;
  uint32_t exp = (x.bits >> 10) & 0x1f, man = x.bits & 0x3ff, bits;
  if (exp == 0x1f) { // inf / nan
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) { // normal: rebias 15 -> 127
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else { // subnormal half: normalise into an fp32 normal
    int e = -1;
    do { ++e; man <<= 1; } while (!(man & 0x400));
    bits = sign | uint32_t(112 - e) << 23 | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Dot product of a float vector with a stored weight row. Eight partial sums
/// let the compiler vectorise without reassociating (no -ffast-math).
template <int K, typename W>
inline float dot(const float *x, const W *w) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int k = 0;
  for (; k + 8 <= K; k += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += x[k + j] * widen(w[k + j]);
  for (; k < K; ++k)
    acc[k & 7] += x[k] * widen(w[k]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Weight views: how a kernel reads row n of a [N, K] weight. Each has
//   dot(n, x): sum_k W[n, k] * x[k]   and   row(n, out): W[n, :] as floats.

/// Rows stored as float, bf16 or f16.
template <typename T, int K>
struct Dense {
  const T *p;
  float dot(int64_t n, const float *x) const { return qwenc_rt::dot<K>(x, p + n * K); }
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k)
      out[k] = widen(p[n * K + k]);
  }
};

/// int8 rows, one float scale per row.
template <int K>
struct Int8Rows {
  static_assert(K % 8 == 0, "int8 rows are read eight columns at a time");
  const int8_t *q;
  const float *scale;
  float dot(int64_t n, const float *x) const {
    const int8_t *r = q + n * K;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < K; k += 8)
      for (int j = 0; j < 8; ++j)
        acc[j] += x[k + j] * float(r[k + j]);
    return (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) * scale[n];
  }
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k)
      out[k] = float(q[n * K + k]) * scale[n];
  }
};

/// int4 rows (two per byte, stored q + 8), one float scale per G columns.
template <int K, int G>
struct Int4Groups {
  static_assert(G % 8 == 0 && K % G == 0, "int4 groups are read eight columns at a time");
  const uint8_t *q;
  const float *scale;
  float dot(int64_t n, const float *x) const {
    const uint8_t *r = q + n * (K / 2);
    const float *s = scale + n * (K / G);
    float total = 0;
    for (int g = 0; g < K / G; ++g) {
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int k = 0; k < G; k += 8)
        for (int j = 0; j < 8; j += 2) {
          const uint8_t b = r[(g * G + k + j) / 2];
          acc[j] += x[g * G + k + j] * float(int(b & 15) - 8);
          acc[j + 1] += x[g * G + k + j + 1] * float(int(b >> 4) - 8);
        }
      total += (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) * s[g];
    }
    return total;
  }
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k) {
      const uint8_t b = q[n * (K / 2) + k / 2];
      out[k] = float(int(k & 1 ? b >> 4 : b & 15) - 8) * scale[n * (K / G) + k / G];
    }
  }
};

template <int V, int H, typename Table>
void embedding(Table table, const int32_t *ids, int rows, float *out) {
  for (int r = 0; r < rows; ++r)
    table.row(ids[r], out + int64_t(r) * H);
}

template <int H, typename W>
void rms_norm(const float *x, const W *weight, double eps, int rows, float *out) {
  for (int r = 0; r < rows; ++r) {
    const float *xr = x + int64_t(r) * H;
    double ss = 0;
    for (int c = 0; c < H; ++c)
      ss += double(xr[c]) * xr[c];
    float scale = float(1.0 / std::sqrt(ss / H + eps));
    for (int c = 0; c < H; ++c)
      out[int64_t(r) * H + c] = xr[c] * scale * widen(weight[c]);
  }
}

/// sum = a + b, normed = rms_norm(sum): the residual stream and the next
/// norm in one pass.
template <int H, typename W>
void add_rms_norm(const float *a, const float *b, const W *weight, double eps, int rows,
                  float *sum, float *normed) {
  for (int64_t i = 0; i < int64_t(rows) * H; ++i)
    sum[i] = a[i] + b[i];
  rms_norm<H>(sum, weight, eps, rows, normed);
}

/// y[r, n] = W[n, :] . x[r, :] (+ bias[n]). The weight row is the outer loop
/// so each row of W is read once per call, whatever the row count.
template <int N, int K, typename Weights, typename B>
void linear(const float *x, Weights w, const B *bias, int rows, float *y) {
  for (int n = 0; n < N; ++n) {
    const float b = bias ? widen(bias[n]) : 0.0f;
    for (int r = 0; r < rows; ++r)
      y[int64_t(r) * N + n] = w.dot(n, x + int64_t(r) * K) + b;
  }
}

/// y = silu(x gate^T) * (x up^T).
template <int N, int K, typename Weights>
void gated_linear(const float *x, Weights gate, Weights up, int rows, float *y) {
  for (int n = 0; n < N; ++n)
    for (int r = 0; r < rows; ++r) {
      const float *xr = x + int64_t(r) * K;
      const float g = gate.dot(n, xr);
      y[int64_t(r) * N + n] = g / (1.0f + std::exp(-g)) * up.dot(n, xr);
    }
}

/// Columns [offset, offset + OUT) of each row.
template <int IN, int OUT>
void slice(const float *x, int offset, int rows, float *out) {
  for (int r = 0; r < rows; ++r)
    std::memcpy(out + int64_t(r) * OUT, x + int64_t(r) * IN + offset, OUT * sizeof(float));
}

/// Rotate-half RoPE: column i of a head pairs with column i + HD/2. Angles in
/// double so that large positions keep full float precision.
template <int C, int HD>
void rope(const float *x, const int32_t *positions, double theta, int rows, float *out) {
  constexpr int half = HD / 2;
  for (int r = 0; r < rows; ++r) {
    float cosv[half], sinv[half];
    for (int i = 0; i < half; ++i) {
      double angle = double(positions[r]) * std::pow(theta, -2.0 * i / HD);
      cosv[i] = float(std::cos(angle));
      sinv[i] = float(std::sin(angle));
    }
    for (int h = 0; h < C / HD; ++h) {
      const float *xh = x + int64_t(r) * C + h * HD;
      float *oh = out + int64_t(r) * C + h * HD;
      for (int i = 0; i < half; ++i) {
        float a = xh[i], b = xh[i + half];
        oh[i] = a * cosv[i] - b * sinv[i];
        oh[i + half] = b * cosv[i] + a * sinv[i];
      }
    }
  }
}

/// Causal grouped-query attention. Stores this step's K and V rows into the
/// layer's cache at their positions, then each query row attends to cached
/// positions 0..its own. `scores` holds one row of ctx floats.
template <int NH, int NKV, int HD>
void attention(const float *q, const float *k, const float *v, const int32_t *positions,
               int rows, float *k_cache, float *v_cache, float *scores, float *out) {
  constexpr int KV = NKV * HD, group = NH / NKV;
  for (int r = 0; r < rows; ++r) {
    std::memcpy(k_cache + int64_t(positions[r]) * KV, k + int64_t(r) * KV, KV * sizeof(float));
    std::memcpy(v_cache + int64_t(positions[r]) * KV, v + int64_t(r) * KV, KV * sizeof(float));
  }
  const float scale = float(1.0 / std::sqrt(double(HD)));
  for (int r = 0; r < rows; ++r) {
    const int len = positions[r] + 1;
    for (int h = 0; h < NH; ++h) {
      const float *qh = q + int64_t(r) * NH * HD + h * HD;
      const int kvh = h / group;
      float mx = -INFINITY;
      for (int t = 0; t < len; ++t) {
        scores[t] = dot<HD>(qh, k_cache + int64_t(t) * KV + kvh * HD) * scale;
        mx = scores[t] > mx ? scores[t] : mx;
      }
      double sum = 0;
      for (int t = 0; t < len; ++t) {
        scores[t] = std::exp(scores[t] - mx);
        sum += scores[t];
      }
      const float inv = float(1.0 / sum);
      float *oh = out + int64_t(r) * NH * HD + h * HD;
      for (int d = 0; d < HD; ++d)
        oh[d] = 0.0f;
      for (int t = 0; t < len; ++t) {
        const float p = scores[t] * inv;
        const float *vt = v_cache + int64_t(t) * KV + kvh * HD;
        for (int d = 0; d < HD; ++d)
          oh[d] += p * vt[d];
      }
    }
  }
}

template <int N>
void silu_mul(const float *gate, const float *up, int rows, float *out) {
  for (int64_t i = 0; i < int64_t(rows) * N; ++i) {
    float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

template <int N>
void add(const float *a, const float *b, int rows, float *out) {
  for (int64_t i = 0; i < int64_t(rows) * N; ++i)
    out[i] = a[i] + b[i];
}

/// Output head. Only the last row unless every row's logits are wanted.
template <int V, int H, typename Weights>
void logits(const float *x, Weights w, int rows, bool all_rows, float *out) {
  if (all_rows) {
    linear<V, H>(x, w, static_cast<const float *>(nullptr), rows, out);
    return;
  }
  linear<V, H>(x + int64_t(rows - 1) * H, w, static_cast<const float *>(nullptr), 1, out);
}

} // namespace qwenc_rt
#endif
