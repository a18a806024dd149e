// The kernels of every compiled model: templates whose dimensions are
// template parameters, so the compiler sees constant trip counts; weights are
// read in their stored type and widened exactly to float. Portable C++: the
// few loops an ISA does better (f16 widening, the activation quantizer, SiLU
// in vectors) are hooks in namespace `arch`, which the arch header the
// generated code includes binds: arch/portable.h, arch/x86-64/kernels.h,
// arch/aarch64/kernels.h. Include one of those, not this file.
#ifndef QWENC_KERNELS_H
#define QWENC_KERNELS_H

#ifndef QWENC_ARCH_SELECTED
#error "include an arch header (runtime/arch/portable.h, arch/x86-64/kernels.h, arch/aarch64/kernels.h)"
#endif

#include "attention.h"
#include "bf16.h"
#include "int4_layout.h"
#include "int8_layout.h"
#include "portable_hooks.h"
#include "quant_rule.h"
#include "qwenc_runtime.h"
#include "thread_pool.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace qwenc_rt {

/// Rows of integer activations (see QuantRows) from a given row on: row i of
/// K columns starts at q + i * K, its block scales and sums at d, sum8 + i * K / block.
template <typename T>
struct QuantView {
  const T *q;
  const float *d, *sum8;
};

/// The Input of a weight view that reads float activations as they are.
struct FloatRows {};

/// Rows of x as integers T (int8, int16) in blocks of B columns, scale =
/// max|x| / qmax, for weights that multiply in integers; sum8 is 8 * scale *
/// the block's sum of q, what the +8 of stored int4 adds. With a span (int4:
/// 128), q is stored in the order of the int4 weights (Int4Groups): each
/// span as runs of 32 that take, block by block, span/32-th of each block;
/// d and sum8 stay in block order. Kept between calls
/// (quant_scratch), and reserved at start for the model's widest input
/// (reserve_inputs in the generated code), so forward() allocates nothing.
template <typename T>
struct QuantRows {
  std::vector<T> q;
  std::vector<float> d, sum8;
  void reserve(int rows, int k, int block) {
    q.reserve(size_t(rows) * k);
    d.reserve(size_t(rows) * (k / block));
    sum8.reserve(size_t(rows) * (k / block));
  }
  void quantize(const float *x, int rows, int k, int block, int qmax, int span = 0) {
    q.resize(size_t(rows) * k);
    d.resize(size_t(rows) * k / block);
    sum8.resize(d.size());
    if (span <= block) {
      // Blocks are independent; prefill has thousands of them.
      parallel_for(int64_t(rows) * k / block, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          quantize_block(x + i * block, block, qmax, q.data() + i * block, d[size_t(i)], sum8[size_t(i)]);
      }, 64);
      return;
    }
    const int blocks = span / block, runs = span / 32, piece = block / runs;
    parallel_for(int64_t(rows) * k / span, [&](int64_t begin, int64_t end) {
      T natural[128]; // spans of at most 128 columns (int4)
      for (int64_t i = begin; i < end; ++i) {
        for (int b = 0; b < blocks; ++b) {
          const int64_t blk = i * blocks + b;
          quantize_block(x + blk * block, block, qmax, natural + b * block, d[size_t(blk)], sum8[size_t(blk)]);
        }
        T *out = q.data() + i * span;
        // In words of 8 bytes (a piece is 8 or 16 int8): copies of a
        // variable length were a call each, 16 per span.
        for (int run = 0; run < runs; ++run)
          for (int b = 0; b < blocks; ++b)
            for (size_t byte = 0; byte < piece * sizeof(T); byte += 8)
              std::memcpy(reinterpret_cast<char *>(out + run * 32 + b * piece) + byte,
                          reinterpret_cast<const char *>(natural + b * block + run * piece) + byte, 8);
      }
    }, 16);
  }
  static void quantize_block(const float *x, int block, int qmax, T *q, float &d, float &sum8) {
    arch::quantize_block(x, block, qmax, q, d, sum8);
  }
};

/// One set of quantized rows per integer type, shared by all products.
template <typename Rows>
Rows &quant_scratch() {
  static Rows rows;
  return rows;
}

// Weight views: how a kernel reads row n of a [N, K] weight. Each has
//   dot(n, x): sum_k W[n, k] * x[k]   and   row(n, out): W[n, :] as floats.

/// Rows stored as float, bf16 or f16.
template <typename T, int K>
struct Dense {
  using Input = FloatRows;
  static constexpr int kWeightRows = 1, kTokenRows = 4;
  const T *p;
  float dot(int64_t n, const float *x) const { return arch::dot<K>(x, p + n * K); }
  /// R tokens against one row (arch::dot_rows: each weight widened once for
  /// the R tokens).
  template <int NW, int R>
  void dotR(int64_t n, const float *x, int64_t stride, float *out) const {
    static_assert(NW == kWeightRows, "one weight row at a time");
    if constexpr (R == 1 || K % 8 != 0) {
      for (int i = 0; i < R; ++i)
        out[i] = dot(n, x + i * stride);
    } else {
      arch::dot_rows<K, R>(p + n * K, x, stride, out);
    }
  }
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k)
      out[k] = widen(p[n * K + k]);
  }
};

/// int8 rows, one float scale per row. dotR computes NW weight rows against
/// R rows of x at once (out[j * R + i]), so prefill widens each weight once
/// for R tokens and loads each token's columns once for NW weight rows.
template <int K>
struct Int8Rows {
  static_assert(K % 8 == 0, "int8 rows are read eight columns at a time");
  static constexpr int kWeightRows = 2, kTokenRows = 6;
  const int8_t *q;
  const float *scale;
  // x as int16 rows (one scale per row, a hundredth of the int8 weights'
  // error), multiplied in integers, which GCC vectorises (x86: SSE2 pmaddwd,
  // aarch64: smlal); int8 -> float conversions it did not (GCC 12 -O2: 0.5B
  // int8 decoded at 17.6 tok/s, bf16 at 41). dotR is the float product
  // behind dot() (a reference for tests). Builds with Halide kernels run
  // int8 products there (int16_rows below).
  using Input = QuantRows<int16_t>;
  static constexpr int kColumns = K, kInputBlock = K, kInputMax = 32767, kInputSpan = 0;
  template <int NW, int R>
  void dotQ(int64_t n, const QuantView<int16_t> &x, float *out) const {
    constexpr int B = 128; // |a block's sum| <= 128 * 127 * 32767 < 2^31
    for (int j = 0; j < NW; ++j) {
      const int8_t *r = q + (n + j) * K;
      for (int i = 0; i < R; ++i) {
        const int16_t *xi = x.q + int64_t(i) * K;
        int64_t total = 0;
        for (int b = 0; b + B <= K; b += B)
          total += block_dot<B>(r + b, xi + b);
        if constexpr (K % B != 0)
          total += block_dot<K % B>(r + K / B * B, xi + K / B * B);
        out[j * R + i] = float(total) * (x.d[i] * scale[n + j]);
      }
    }
  }
  template <int B>
  static int32_t block_dot(const int8_t *w, const int16_t *x) {
    int32_t sum = 0;
    for (int k = 0; k < B; ++k)
      sum += int32_t(w[k]) * int32_t(x[k]);
    return sum;
  }
  template <int NW, int R>
  void dotR(int64_t n, const float *x, int64_t stride, float *out) const {
    for (int j = 0; j < NW; ++j)
      for (int i = 0; i < R; ++i) {
        const int8_t *r = q + (n + j) * K;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int k = 0; k < K; k += 8)
          for (int c = 0; c < 8; ++c)
            acc[c] += x[i * stride + k + c] * float(r[k + c]);
        out[j * R + i] = (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) * scale[n + j];
      }
  }
  float dot(int64_t n, const float *x) const {
    float out;
    dotR<1, 1>(n, x, 0, &out);
    return out;
  }
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k)
      out[k] = float(q[n * K + k]) * scale[n];
  }
};

/// int8 weights in the column tiles of int8_layout.h, one float scale per
/// row: the layout the x86 Halide products read. Only the embedding gather
/// reads them through a view (a tied table), a row at a time.
template <int K>
struct Int8Tiles {
  static_assert(K % int8::kPair == 0, "tiles store columns in pairs");
  using Input = FloatRows;
  static constexpr int kColumns = K;
  const int8_t *q;
  const float *scale;
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k)
      out[k] = float(q[int8::tiled_offset(n, k, K)]) * scale[n];
  }
};

/// int4 weights (groups of int4::kTileGroup) in the column tiles of
/// int4_layout.h: as Int8Tiles, only the embedding gather reads them here.
template <int K, int G>
struct Int4Tiles {
  static_assert(G == int4::kTileGroup && K % int4::kSpan == 0, "tiles hold groups of 128");
  using Input = FloatRows;
  static constexpr int kColumns = K;
  const uint8_t *q;
  const float *scale;
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k) {
      const uint8_t byte = q[int4::tiled_byte(n, k, K)];
      const int v = (int4::tiled_high(k) ? byte >> 4 : byte & 15) - int4::kOffset;
      out[k] = float(v) * scale[int4::tiled_scale(n, k / G, K / G)];
    }
  }
};

/// int4 rows in the layout of int4_layout.h (two per byte, stored q + 8,
/// the groups of each 128 columns interleaved), one float scale per G columns.
template <int K, int G>
struct Int4Groups {
  static_assert(int4::valid_group(G) && K % int4::kSpan == 0,
                "int4 groups of 32, 64 or 128 interleave within spans of 128 columns");
  static constexpr int kColumns = K, kWeightRows = 1, kTokenRows = 4;
  static constexpr int kSpan = int4::kSpan, kGroupsPerSpan = kSpan / G, kRun = G / 4;
  const uint8_t *q;
  const float *scale;
  /// q of row n, column k.
  int at(int64_t n, int k) const {
    const int64_t p = int4::stored_position(k, G);
    const uint8_t b = q[n * (K / 2) + int4::byte_of(p)];
    return int(int4::high_nibble(p) ? b >> 4 : b & 15) - int4::kOffset;
  }
  template <int NW, int R>
  void dotR(int64_t n, const float *x, int64_t stride, float *out) const {
    static_assert(NW == kWeightRows, "one weight row at a time");
    // The float product behind dot() (a reference for tests): the model's
    // products multiply int4 by int8 activations (dotQ, or Halide kernels).
    const float *s = scale + n * (K / G);
    for (int i = 0; i < R; ++i) {
      const float *xi = x + i * stride;
      float t = 0;
      for (int g = 0; g < K / G; ++g) {
        float acc[8] = {};
        for (int k = g * G; k < (g + 1) * G; ++k)
          acc[k & 7] += xi[k] * float(at(n, k));
        t += (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) * s[g];
      }
      out[i] = t;
    }
  }
  float dot(int64_t n, const float *x) const {
    float out;
    dotR<1, 1>(n, x, 0, &out);
    return out;
  }
  void row(int64_t n, float *out) const {
    for (int k = 0; k < K; ++k)
      out[k] = float(at(n, k)) * scale[n * (K / G) + k / G];
  }
  // Activations are quantized to int8 per G columns and stored in the
  // weights' interleaved order (QuantRows with span kSpan).
  using Input = QuantRows<int8_t>;
  static constexpr int kInputBlock = G, kInputMax = 127, kInputSpan = kSpan;
  /// Against activations quantized to int8 per G columns, in the weights'
  /// interleaved order, in integers per group: the scheme of the x86 Halide
  /// kernels (targets/halide/MatMulGenerator.cpp), in plain loops. A
  /// group's stored columns sit at the same kRun offsets of each run of 32;
  /// a span's first two runs are in its 64 bytes' low nibbles, the last two
  /// in the high ones.
  /// (Multiplying floats by weights read back one by one ran the 0.5B at
  /// 4 tok/s.)
  template <int NW, int R>
  void dotQ(int64_t n, const QuantView<int8_t> &x, float *out) const {
    static_assert(NW == kWeightRows, "one weight row at a time");
    constexpr int groups = K / G;
    const uint8_t *r = q + n * (K / 2);
    const float *s = scale + n * groups;
    for (int i = 0; i < R; ++i) {
      const int8_t *xi = x.q + int64_t(i) * K;
      const float *d = x.d + i * groups, *sum8 = x.sum8 + i * groups;
      float total = 0;
      for (int b = 0; b < K / kSpan; ++b) {
        // Offset o of every run pair summed in int16 lane o (at most 4 * 15
        // * 127 < 2^15), then group g takes lanes g * kRun .. g * kRun +
        // kRun - 1 (loops over each group's kRun = 8 or 16 columns ran g32
        // 5x and g64 4x slower; g128 runs as fast as a direct reduction).
        int16_t lane[32] = {};
        const uint8_t *bytes = r + b * kSpan / 2;
        const int8_t *low = xi + b * kSpan, *high = low + 64;
        for (int o = 0; o < 64; ++o)
          lane[o % 32] = int16_t(lane[o % 32] + (bytes[o] & 15) * low[o] + (bytes[o] >> 4) * high[o]);
        for (int g = 0; g < kGroupsPerSpan; ++g) {
          int32_t sum = 0;
          for (int o = g * kRun; o < (g + 1) * kRun; ++o)
            sum += lane[o];
          const int group = b * kGroupsPerSpan + g;
          total += float(sum) * (s[group] * d[group]) - s[group] * sum8[group];
        }
      }
      out[i] = total;
    }
  }
};

template <int V, int H, typename Table>
void embedding(Table table, const int32_t *ids, int rows, float *out) {
  for (int r = 0; r < rows; ++r)
    table.row(ids[r], out + int64_t(r) * H);
}

/// One row of RMSNorm. Eight independent double sums: a single chain of adds
/// waits out each add's latency (some four cycles a column), eight vectorize.
template <int H, typename W>
void rms_norm_row(const float *x, const W *weight, double eps, float *out) {
  double ss[8] = {};
  int c = 0;
  for (; c + 8 <= H; c += 8)
    for (int j = 0; j < 8; ++j)
      ss[j] += double(x[c + j]) * x[c + j];
  for (; c < H; ++c)
    ss[0] += double(x[c]) * x[c];
  const double sum = ((ss[0] + ss[1]) + (ss[2] + ss[3])) + ((ss[4] + ss[5]) + (ss[6] + ss[7]));
  const float scale = float(1.0 / std::sqrt(sum / H + eps));
  for (c = 0; c < H; ++c)
    out[c] = x[c] * scale * widen(weight[c]);
}

/// A prompt's rows are shared by the threads (a norm had run on one thread
/// while the other waited); one row runs on the caller's (parallel_for).
template <int H, typename W>
void rms_norm(const float *x, const W *weight, double eps, int rows, float *out) {
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      rms_norm_row<H>(x + r * H, weight, eps, out + r * H);
  });
}

/// sum = a + b, normed = rms_norm(sum): the residual stream and the next
/// norm in one pass.
template <int H, typename W>
void add_rms_norm(const float *a, const float *b, const W *weight, double eps, int rows,
                  float *sum, float *normed) {
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t i = r * H; i < (r + 1) * H; ++i)
        sum[i] = a[i] + b[i];
      rms_norm_row<H>(sum + r * H, weight, eps, normed + r * H);
    }
  });
}

/// x in the form a weight view reads it (its Input): floats as they are
/// (nullptr), or integers per kInputBlock columns, quantized once per call
/// before the threads start.
template <int K, typename Weights>
const typename Weights::Input *prepare_rows(const float *x, int rows) {
  using Input = typename Weights::Input;
  if constexpr (std::is_same_v<Input, FloatRows>) {
    return nullptr;
  } else {
    static_assert(K % Weights::kInputBlock == 0 && Weights::kInputBlock % 8 == 0,
                  "rows are quantized in whole blocks of eight");
    Input &rows_q = quant_scratch<Input>();
    rows_q.quantize(x, rows, K, Weights::kInputBlock, Weights::kInputMax, Weights::kInputSpan);
    return &rows_q;
  }
}

/// Room for `rows` rows of the view's quantized input, made at start.
template <typename Weights>
bool reserve_inputs(int rows) {
  using Input = typename Weights::Input;
  if constexpr (!std::is_same_v<Input, FloatRows>)
    quant_scratch<Input>().reserve(rows, Weights::kColumns, Weights::kInputBlock);
  return true;
}

/// Dot products of weight rows with the rows of x (see prepare_rows).
template <int K, typename Weights>
struct RowDots {
  Weights w;
  const float *x;
  const typename Weights::Input *xq;
  static constexpr int kWeightRows = Weights::kWeightRows, kTokenRows = Weights::kTokenRows;
  /// out[j * R + i] = W[n + j, :] . x[r + i, :] for j < NW, i < R.
  template <int NW, int R>
  void run(int64_t n, int r, float *out) const {
    if constexpr (std::is_same_v<typename Weights::Input, FloatRows>) {
      w.template dotR<NW, R>(n, x + int64_t(r) * K, K, out);
    } else {
      const int64_t blocks = int64_t(r) * (K / Weights::kInputBlock);
      w.template dotQ<NW, R>(n, {xq->q.data() + int64_t(r) * K, xq->d.data() + blocks, xq->sum8.data() + blocks}, out);
    }
  }
};

/// Calls block.run<NW, R>(n, r, out) for weight rows [begin, end) and all
/// rows of x, then emit(n, r, value): the view's kWeightRows weight rows
/// against its kTokenRows tokens where it can, one by one for the tokens left
/// over (decode: one token). Weight rows go in tiles of 8, so that while a
/// tile's rows take turns on a block of tokens those stay in cache.
template <typename Block, typename Emit>
void for_row_blocks(const Block &block, int64_t begin, int64_t end, int rows, Emit emit) {
  constexpr int NW = Block::kWeightRows, R = Block::kTokenRows;
  float out[NW * R];
  for (int64_t tile = begin; tile < end; tile += 8) {
    const int64_t tile_end = tile + 8 < end ? tile + 8 : end;
    int r = 0;
    for (; r + R <= rows; r += R) {
      int64_t n = tile;
      for (; n + NW <= tile_end; n += NW) {
        block.template run<NW, R>(n, r, out);
        for (int j = 0; j < NW; ++j)
          for (int i = 0; i < R; ++i)
            emit(n + j, r + i, out[j * R + i]);
      }
      for (; n < tile_end; ++n) {
        block.template run<1, R>(n, r, out);
        for (int i = 0; i < R; ++i)
          emit(n, r + i, out[i]);
      }
    }
    for (; r < rows; ++r)
      for (int64_t n = tile; n < tile_end; ++n) {
        block.template run<1, 1>(n, r, out);
        emit(n, r, out[0]);
      }
  }
}

/// y[r, n] = W[n, :] . x[r, :] (+ bias[n]). Each row of W is read from memory
/// once per call, whatever the row count; output columns are split across
/// the threads.
template <int N, int K, typename Weights, typename B>
void linear(const float *x, Weights w, const B *bias, int rows, float *y) {
  const RowDots<K, Weights> dots{w, x, prepare_rows<K, Weights>(x, rows)};
  parallel_for(N, [&](int64_t begin, int64_t end) {
    for_row_blocks(dots, begin, end, rows, [&](int64_t n, int r, float v) {
      y[int64_t(r) * N + n] = v + (bias ? widen(bias[n]) : 0.0f);
    });
  }, 16);
}

/// The gate and up products of one output column, combined as silu(g) * u.
template <int K, typename Weights>
struct GatedDots {
  static constexpr int kWeightRows = Weights::kWeightRows, kTokenRows = Weights::kTokenRows;
  RowDots<K, Weights> gate, up;
  template <int NW, int R>
  void run(int64_t n, int r, float *out) const {
    // Whole vectors of eight (padded): prefill's scalar expf calls and
    // divisions were 8 % of its time on x86.
    constexpr int padded = (NW * R + 7) / 8 * 8;
    alignas(32) float g[padded] = {}, u[padded] = {}, y[padded];
    gate.template run<NW, R>(n, r, g);
    up.template run<NW, R>(n, r, u);
    for (int i = 0; i < padded; i += 8)
      arch::silu_mul8(g + i, u + i, y + i);
    std::memcpy(out, y, sizeof(float) * NW * R);
  }
};

/// y = silu(x gate^T) * (x up^T).
template <int N, int K, typename Weights>
void gated_linear(const float *x, Weights gate, Weights up, int rows, float *y) {
  const auto *xq = prepare_rows<K, Weights>(x, rows); // shared by both products
  const GatedDots<K, Weights> dots{{gate, x, xq}, {up, x, xq}};
  parallel_for(N, [&](int64_t begin, int64_t end) {
    if (rows == 1) {
      // Decode: the sums of eight columns, then one SiLU of eight (scalar
      // expf calls were 1 % of a 0.5B int4 step on x86).
      for (int64_t n = begin; n < end; n += 8) {
        const int m = end - n < 8 ? int(end - n) : 8;
        alignas(32) float g[8] = {}, u[8] = {}, out[8];
        for (int j = 0; j < m; ++j) {
          dots.gate.template run<1, 1>(n + j, 0, g + j);
          dots.up.template run<1, 1>(n + j, 0, u + j);
        }
        arch::silu_mul8(g, u, out);
        std::memcpy(y + n, out, sizeof(float) * size_t(m));
      }
      return;
    }
    for_row_blocks(dots, begin, end, rows, [&](int64_t n, int r, float v) { y[int64_t(r) * N + n] = v; });
  }, 16);
}

/// Columns [offset, offset + OUT) of each row.
template <int IN, int OUT>
void slice(const float *x, int offset, int rows, float *out) {
  for (int r = 0; r < rows; ++r)
    std::memcpy(out + int64_t(r) * OUT, x + int64_t(r) * IN + offset, OUT * sizeof(float));
}

/// Rotate-half RoPE: column i of a head pairs with column i + HD/2, rotated
/// by position x inv_freq[i] (the compiler's table, runtime/rope.h), cos and
/// sin multiplied by `scale` (YaRN's attention factor, else 1). Angles in
/// double so that large positions keep full float precision.
template <int C, int HD>
void rope(const float *x, const int32_t *positions, const double *inv_freq, float scale, int rows, float *out) {
  constexpr int half = HD / 2;
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float cosv[half], sinv[half];
      for (int i = 0; i < half; ++i) {
        double angle = double(positions[r]) * inv_freq[i];
        cosv[i] = float(std::cos(angle)) * scale;
        sinv[i] = float(std::sin(angle)) * scale;
      }
      for (int h = 0; h < C / HD; ++h) {
        const float *xh = x + r * C + h * HD;
        float *oh = out + r * C + h * HD;
        for (int i = 0; i < half; ++i) {
          float a = xh[i], b = xh[i + half];
          oh[i] = a * cosv[i] - b * sinv[i];
          oh[i + half] = b * cosv[i] + a * sinv[i];
        }
      }
    }
  });
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

/// The largest int16 activation that int8 weights may meet in a row of K
/// columns: each int32 lane of the Halide kernels sums at most K / 8
/// products of |w| <= 127 with |x| <= this, which must stay below 2^31.
constexpr int int16_input_max(int K) {
  const int64_t bound = ((int64_t(1) << 31) - 1) / (int64_t(K / 8) * 127);
  return bound < 32767 ? int(bound) : 32767;
}

/// x as the int8 Halide kernels read it: int16 rows, one scale per row
/// (relative step 1 / int16_input_max(K), a hundredth of int8 weights' error).
template <int K>
const QuantRows<int16_t> &int16_rows(const float *x, int rows) {
  QuantRows<int16_t> &q = quant_scratch<QuantRows<int16_t>>();
  q.quantize(x, rows, K, K, int16_input_max(K));
  return q;
}

} // namespace qwenc_rt
#endif
