// Causal grouped-query attention over the KV cache, tiled (flash-style), for
// every CPU target: prefill and decode alike never hold more than a block of
// scores per query vector, whatever the depth.
//
// Work is split into items (kv head, tile of query rows, piece of the
// positions). An item takes its kv head's `group` query heads for as many
// rows as fill kLanes query vectors: each block of kBlock cached positions
// is widened to float once and serves all of them (the cache is read once
// per tile, not once per query head), with the softmax kept online
// (running max m, running sum l, output rescaled as m grows). The block
// step is arch::attend_lanes (the vectors side by side in register lanes:
// scores and value sums as small matrix products) or, for a decode step's
// few vectors, arch::attend_group (the block's keys widened as columns,
// arch::widen_keys, so that scores lie positions side by side in lanes).
// When a call has a single tile (decode), the positions are cut into pieces
// so that every thread has work even with one or two kv heads; the pieces'
// partial (m, l, out) are merged after the loop. Nothing is allocated: the
// caller's scratch holds each thread's block buffers and the pieces'
// partials (scratch_per_thread / scratch_shared floats).
#ifndef QWENC_ATTENTION_H
#define QWENC_ATTENTION_H

#include "bf16.h"
#include "portable_hooks.h"
#include "quant_rule.h"
#include "qwenc_runtime.h"
#include "thread_pool.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace qwenc_rt {

/// Cache rows of each --kv-type: stored from float (bf16 rounded to
/// nearest even; int8 per kv head by quant_rule.h: scale = max|x| / 127) and read back as
/// float by widen (int8 without its scale, which the readers apply per row and head).
inline void kv_store_row(const float *x, int, int n, float *dst, float *) {
  std::memcpy(dst, x, size_t(n) * sizeof(float));
}
inline void kv_store_row(const float *x, int, int n, bf16 *dst, float *) {
  for (int i = 0; i < n; ++i)
    dst[i].bits = bf16_round(x[i]);
}
inline void kv_store_row(const float *x, int heads, int n, int8_t *dst, float *scales) {
  const int hd = n / heads;
  for (int h = 0; h < heads; ++h) { // runtime/quant_rule.h's int8, one group per head
    const float scale = quant::group_scale(x + h * hd, hd, true), inv = scale > 0 ? 1.0f / scale : 0.0f;
    scales[h] = scale;
    for (int i = 0; i < hd; ++i)
      dst[h * hd + i] = int8_t(quant::quantize(x[h * hd + i], inv, true));
  }
}

/// This step's K and V rows into the layer's cache, at their positions.
template <int KV, int NKV, typename KT>
void store_kv(const float *k, const float *v, const int32_t *positions, int rows, KT *k_cache, KT *v_cache,
              float *k_scales, float *v_scales) {
  for (int r = 0; r < rows; ++r) {
    const int64_t p = positions[r];
    kv_store_row(k + int64_t(r) * KV, NKV, KV, k_cache + p * KV, k_scales + p * NKV);
    kv_store_row(v + int64_t(r) * KV, NKV, KV, v_cache + p * KV, v_scales + p * NKV);
  }
}

namespace flash {

constexpr int kBlock = 64;          // cached positions per block
constexpr int kLanes = 64;          // query vectors an item takes at most (the block hook's lanes)
constexpr int kMaxPieces = 16;      // pieces of the positions (one-tile calls)
constexpr int kMinPiece = 4 * kBlock; // positions a piece has at least

/// Query rows per tile: as many as fill kLanes with the group's heads.
constexpr int tile_rows(int group) { return group >= kLanes ? 1 : kLanes / group; }
/// Lanes of an item's buffers: its query vectors, rounded up to the hooks'
/// unit of 16 lanes.
constexpr int tile_lanes(int group) { return (tile_rows(group) * group + 15) / 16 * 16; }
/// Floats of scratch per thread: a block's K and V rows as float, its
/// scores (kBlock x kLanes), then the item's query vectors and output sums
/// lane-major (head_dim x lanes each), and m, l.
constexpr size_t scratch_per_thread(int heads, int kv_heads, int head_dim) {
  const size_t lanes = size_t(tile_lanes(heads / kv_heads));
  return 2 * size_t(kBlock) * size_t(head_dim) + size_t(kBlock) * kLanes + 2 * lanes * size_t(head_dim) + 2 * lanes;
}
/// Floats of scratch shared by the threads: every piece's partial (m, l, out).
constexpr size_t scratch_shared(int heads, int kv_heads, int head_dim) {
  const int group = heads / kv_heads;
  return size_t(kv_heads) * kMaxPieces * size_t(tile_rows(group)) * size_t(group) * size_t(head_dim + 2);
}

constexpr int kGroup = 8; // an item of at most this many query vectors runs arch::attend_group

/// An item's buffers (thread scratch): its query vectors (scaled) and output
/// sums, the running max and sum of each. Items of more than kGroup query
/// vectors keep them lane-major ([HD][QS]: lane i is vector i) for
/// arch::attend_lanes, the others as rows ([nq][HD]) for arch::attend_group:
/// a decode step's few vectors would leave most lanes idle.
template <int HD, int QS>
struct Sums {
  float *qt, *ot, *m, *l;
  bool lane_major; // set by the item's number of query vectors
  Sums(float *p, int nq) : qt(p), ot(p + HD * QS), m(ot + HD * QS), l(m + QS), lane_major(nq > kGroup) {}
  float &at(int i, int d) const { return lane_major ? ot[d * QS + i] : ot[i * HD + d]; }
};

/// One item: for each of the nkvh kv heads kvh0 + h, nq = nrows * group
/// query vectors (vector h * nq + i: row row0 + i / group, head
/// (kvh0 + h) * group + i % group) against cached positions [t0, t1), each
/// row only up to its own position. Leaves the unnormalised output sums,
/// the running max and sum in sums (sums.at, m, l). Lane-major items take
/// one kv head; decode items take several, so that a thread reads whole
/// cache rows: reading one head's part of every row (128 of 256 bytes)
/// streamed from memory at 13.6 GB/s here, whole rows at 47.
template <int NH, int NKV, int HD, typename KT>
void attend_item(const float *q, const int32_t *positions, int row0, int nrows, int kvh0, int nkvh, int64_t t0,
                 int64_t t1, const KT *k_cache, const KT *v_cache, const float *k_scales, const float *v_scales,
                 float *buf, const Sums<HD, tile_lanes(NH / NKV)> &sums) {
  constexpr int KV = NKV * HD, group = NH / NKV, QS = tile_lanes(group);
  const float scale = float(1.0 / std::sqrt(double(HD)));
  float *kb = buf, *vb = kb + kBlock * HD, *scores = vb + kBlock * HD; // [kBlock, HD] twice, [kBlock, kLanes]
  const int nq = nrows * group, all = nkvh * nq;
  auto query = [&](int j) {
    const int h = j / nq, i = j % nq;
    return q + int64_t(row0 + i / group) * NH * HD + int64_t((kvh0 + h) * group + i % group) * HD;
  };
  int32_t len[QS], live[QS]; // each vector's causal length; its positions in the block
  for (int i = 0; i < QS; ++i) {
    len[i] = i < nq ? positions[row0 + i / group] + 1 : 0; // padding lanes see nothing
    sums.m[i] = -INFINITY;
    sums.l[i] = 0.0f;
  }
  for (int j = 0; j < (sums.lane_major ? QS : all); ++j)
    for (int d = 0; d < HD; ++d) {
      sums.at(j, d) = 0.0f;
      const float qd = j < all ? query(j)[d] * scale : 0.0f;
      (sums.lane_major ? sums.qt[d * QS + j] : sums.qt[j * HD + d]) = qd;
    }
  for (int64_t b = t0; b < t1; b += kBlock) {
    const int n = int(t1 - b < kBlock ? t1 - b : kBlock);
    for (int i = 0; i < QS; ++i)
      live[i] = int32_t(len[i] - b < n ? (len[i] - b > 0 ? len[i] - b : 0) : n);
    for (int h = 0; h < nkvh; ++h) {
      const int kvh = kvh0 + h;
      if (sums.lane_major)
        arch::widen_rows<HD>(k_cache + b * KV + kvh * HD, KV, k_scales + b * NKV + kvh, NKV, n, kb);
      else // kb [HD][kBlock]
        arch::widen_keys<HD>(k_cache + b * KV + kvh * HD, KV, k_scales + b * NKV + kvh, NKV, n, kb, kBlock);
      arch::widen_rows<HD>(v_cache + b * KV + kvh * HD, KV, v_scales + b * NKV + kvh, NKV, n, vb);
      if (!sums.lane_major) {
        // The head's rows of the next block, fetched while this one is computed.
        const int64_t after = b + n, next = t1 - after < kBlock ? t1 - after : kBlock;
        const Ahead ahead{reinterpret_cast<const char *>(k_cache + after * KV + kvh * HD),
                          reinterpret_cast<const char *>(v_cache + after * KV + kvh * HD),
                          int64_t(KV * sizeof(KT)), int(next), int(HD * sizeof(KT) + 63) / 64};
        arch::attend_group<HD>(nq, sums.qt + h * nq * HD, kb, kBlock, vb, n, live, scores, sums.m + h * nq,
                               sums.l + h * nq, sums.ot + h * nq * HD, ahead);
        continue;
      }
      for (int i0 = 0; i0 < nq; i0 += kLanes)
        arch::attend_lanes<HD>(nq - i0 < kLanes ? nq - i0 : kLanes, sums.qt + i0, QS, kb, vb, n, live + i0, scores,
                               sums.m + i0, sums.l + i0, sums.ot + i0);
    }
  }
}

/// Attention of `rows` query rows (q [rows, NH * HD]) at `positions` over
/// the cache, which already holds their K and V rows; out [rows, NH * HD].
/// scratch: scratch_shared floats, then scratch_per_thread per thread.
template <int NH, int NKV, int HD, typename KT>
void attention(const float *q, const int32_t *positions, int rows, const KT *k_cache, const KT *v_cache,
               const float *k_scales, const float *v_scales, float *scratch, float *out) {
  constexpr int group = NH / NKV, TR = tile_rows(group), QMAX = TR * group, QS = tile_lanes(group);
  constexpr size_t per_thread = scratch_per_thread(NH, NKV, HD);
  float *shared = scratch, *threads = scratch + scratch_shared(NH, NKV, HD);
  const int tiles = (rows + TR - 1) / TR;
  // Decode items take as many kv heads as their buffers hold (whole cache
  // rows, see attend_item); one tile's positions are cut into pieces, two
  // items per thread.
  const int nq1 = (rows < TR ? rows : TR) * group, most_heads = QS / nq1;
  const int per_item = tiles == 1 && nq1 <= kGroup ? (most_heads < NKV ? most_heads : NKV) : 1;
  const int head_items = (NKV + per_item - 1) / per_item;
  int64_t longest = 0;
  for (int r = 0; r < rows; ++r)
    longest = positions[r] + 1 > longest ? positions[r] + 1 : longest;
  int pieces = 1;
  if (tiles == 1) {
    pieces = (2 * num_threads() + head_items - 1) / head_items;
    const int64_t most = (longest + kMinPiece - 1) / kMinPiece;
    pieces = int(pieces < most ? pieces : most);
    pieces = pieces < kMaxPieces ? pieces : kMaxPieces;
    pieces = pieces > 0 ? pieces : 1;
  }
  const int64_t piece_len = ((longest + pieces - 1) / pieces + kBlock - 1) / kBlock * kBlock;
  // A piece's partial for query vector i of kv head kvh: m, l, HD sums.
  auto partial = [&](int kvh, int piece, int i) {
    return shared + ((int64_t(kvh) * kMaxPieces + piece) * QMAX + i) * (HD + 2);
  };
  parallel_for(int64_t(head_items) * tiles * pieces, [&](int64_t begin, int64_t end) {
    float *buf = threads + int64_t(thread_index()) * per_thread;
    for (int64_t item = begin; item < end; ++item) {
      const int piece = int(item % pieces), tile = int(item / pieces % tiles);
      const int kvh0 = int(item / pieces / tiles) * per_item, nkvh = NKV - kvh0 < per_item ? NKV - kvh0 : per_item;
      const int row0 = tile * TR, nrows = rows - row0 < TR ? rows - row0 : TR, nq = nrows * group;
      const Sums<HD, QS> sums(buf + 2 * kBlock * HD + kBlock * kLanes, nq);
      int64_t tile_len = 0;
      for (int r = row0; r < row0 + nrows; ++r)
        tile_len = positions[r] + 1 > tile_len ? positions[r] + 1 : tile_len;
      const int64_t t0 = piece * piece_len, t1 = t0 + piece_len < tile_len ? t0 + piece_len : tile_len;
      if (pieces > 1 && t0 >= t1) { // past every row's length: an empty piece
        for (int h = 0; h < nkvh; ++h)
          for (int i = 0; i < nq; ++i)
            partial(kvh0 + h, piece, i)[0] = -INFINITY, partial(kvh0 + h, piece, i)[1] = 0.0f;
        continue;
      }
      attend_item<NH, NKV, HD>(q, positions, row0, nrows, kvh0, nkvh, t0, pieces > 1 ? t1 : tile_len, k_cache,
                               v_cache, k_scales, v_scales, buf, sums);
      for (int h = 0; h < nkvh; ++h)
        for (int i = 0; i < nq; ++i) {
          const int j = h * nq + i, kvh = kvh0 + h;
          if (pieces == 1) { // the finished output
            float *o = out + int64_t(row0 + i / group) * NH * HD + int64_t(kvh * group + i % group) * HD;
            const float inv = 1.0f / sums.l[j];
            for (int d = 0; d < HD; ++d)
              o[d] = sums.at(j, d) * inv;
          } else {
            float *part = partial(kvh, piece, i);
            part[0] = sums.m[j];
            part[1] = sums.l[j];
            for (int d = 0; d < HD; ++d)
              part[2 + d] = sums.at(j, d);
          }
        }
    }
  });
  if (pieces == 1)
    return;
  // Merge the pieces: out = sum_p e^(m_p - M) sums_p / sum_p e^(m_p - M) l_p.
  for (int kvh = 0; kvh < NKV; ++kvh)
    for (int i = 0; i < rows * group; ++i) {
      float mx = -INFINITY;
      for (int p = 0; p < pieces; ++p)
        mx = partial(kvh, p, i)[0] > mx ? partial(kvh, p, i)[0] : mx;
      float o[HD] = {}, den = 0.0f;
      for (int p = 0; p < pieces; ++p) {
        const float *part = partial(kvh, p, i);
        if (part[0] == -INFINITY)
          continue;
        const float w = std::exp(part[0] - mx);
        den += w * part[1];
        for (int d = 0; d < HD; ++d)
          o[d] += w * part[2 + d];
      }
      float *dst = out + int64_t(i / group) * NH * HD + int64_t(kvh * group + i % group) * HD;
      for (int d = 0; d < HD; ++d)
        dst[d] = o[d] / den;
    }
}

} // namespace flash

/// A layer's attention step: this step's K and V rows into the cache (of
/// KT: float, bf16 or int8_t with scales), then flash::attention. With
/// row_slots (Session), each run of rows of one slot uses that slot's cache,
/// slot_rows cache rows after the previous slot's.
template <int NH, int NKV, int HD, typename KT>
void attention(const float *q, const float *k, const float *v, const int32_t *positions, int rows, KT *k_cache,
               KT *v_cache, float *k_scales, float *v_scales, const int32_t *row_slots, int64_t slot_rows,
               float *scratch, float *out) {
  constexpr int KV = NKV * HD, QD = NH * HD;
  for (int r0 = 0, r1; r0 < rows; r0 = r1) {
    r1 = row_slots ? r0 + 1 : rows;
    while (r1 < rows && row_slots[r1] == row_slots[r0])
      ++r1;
    const int64_t base = row_slots ? int64_t(row_slots[r0]) * slot_rows : 0;
    KT *kc = k_cache + base * KV, *vc = v_cache + base * KV;
    float *ks = k_scales + base * NKV, *vs = v_scales + base * NKV;
    store_kv<KV, NKV>(k + int64_t(r0) * KV, v + int64_t(r0) * KV, positions + r0, r1 - r0, kc, vc, ks, vs);
    flash::attention<NH, NKV, HD>(q + int64_t(r0) * QD, positions + r0, r1 - r0, kc, vc, ks, vs, scratch,
                                  out + int64_t(r0) * QD);
  }
}

} // namespace qwenc_rt
#endif
