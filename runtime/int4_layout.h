// The int4 weight layout: the one definition that the compiler's packing
// (targets/common/WeightPacking.cpp), its checks (the targets' verify) and
// every kernel that reads int4 (kernels.h's Int4Groups, the Halide
// generators in targets/halide/) share.
//
// A row of K columns (K a multiple of kSpan) is stored as K / 2 bytes, q + 8
// for q in [-8, 7], then one float scale per group of G columns. Each span
// of 128 columns is stored as four runs of 32 that interleave the span's
// groups: run k holds, group by group, columns k*w .. k*w+w-1 of each group
// (w = G / 4), so that every run meets all the span's groups in the same
// lanes and one integer sum serves all of them. Per span, byte j holds
// stored column j in its low nibble and j + 64 in its high one: one 64-byte
// load (or two of 32) and a shift and mask give the span in two halves.
// Activations multiplied by int4 weights are quantized to int8 per group and
// stored in the same interleaved order.
#ifndef QWENC_INT4_LAYOUT_H
#define QWENC_INT4_LAYOUT_H

#include <cstdint>

namespace qwenc_rt::int4 {

constexpr int kSpan = 128;   // columns whose groups interleave
constexpr int kRun = 32;     // stored columns of one run
constexpr int kOffset = 8;   // stored q + 8
constexpr int kGroupSizes[] = {32, 64, 128};
constexpr int kDefaultGroupSize = 128;

constexpr bool valid_group(int64_t g) { return g == 32 || g == 64 || g == 128; }

/// Where column k of a row is stored, for groups of G columns.
constexpr int64_t stored_position(int64_t k, int G) {
  const int64_t c = k % kSpan, o = c % G, w = G / 4;
  return k - c + o / w * kRun + c / G * w + o % w;
}

/// The column stored at position p (the inverse of stored_position).
constexpr int64_t column_at(int64_t p, int G) {
  const int64_t span = p - p % kSpan, run = p % kSpan / kRun, b = p % kRun, w = G / 4;
  return span + b / w * G + run * w + b % w;
}

/// The byte of a row that holds stored position p, and whether p is its
/// high nibble.
constexpr int64_t byte_of(int64_t p) { return p / kSpan * (kSpan / 2) + p % (kSpan / 2); }
constexpr bool high_nibble(int64_t p) { return p % kSpan >= kSpan / 2; }

/// The group (within its span) of stored position p.
constexpr int group_in_span(int64_t p, int G) { return int(p % kRun / (G / 4)); }

// Column tiles (the x86 target's layout for groups of 128, whose stored
// order is the columns' own): each kTileRows rows (outputs) are one tile,
// stored 8 columns at a time: at step j, row n of the tile has 4 bytes,
// byte b holding column 8j + b in its low nibble and 8j + 4 + b in its high
// one (q + 8 as above), so that one 64-byte vector holds 8 columns of 16
// outputs, 4 adjacent columns a lane in each half (vpdpbusd). The scales
// follow as [N / kTileRows][K / G][kTileRows]: a group's scales of a tile
// in one vector.
constexpr int kTileRows = 16;
constexpr int kTileGroup = 128; // the one group size stored in tiles

/// Whether a [N, K] int4 weight with groups of G can be stored in tiles.
constexpr bool tiles_fit(int64_t N, int64_t K, int G) { return G == kTileGroup && N % kTileRows == 0 && K % kSpan == 0; }

/// The byte of a tiled [N, K] weight holding (n, k), and whether k is its high nibble.
constexpr int64_t tiled_byte(int64_t n, int64_t k, int64_t K) {
  return n / kTileRows * (kTileRows * K / 2) + k / 8 * (kTileRows * 4) + n % kTileRows * 4 + k % 4;
}
constexpr bool tiled_high(int64_t k) { return k % 8 >= 4; }

/// The index among a tiled weight's scales of row n's group g.
constexpr int64_t tiled_scale(int64_t n, int64_t g, int64_t groups) {
  return n / kTileRows * (kTileRows * groups) + g * kTileRows + n % kTileRows;
}

static_assert(tiled_byte(0, 4, 256) == 0 && tiled_high(4) && tiled_byte(1, 0, 256) == 4 && tiled_byte(0, 8, 256) == 64,
              "8 columns of a row in 4 bytes, then the next row's");

static_assert(column_at(stored_position(77, 32), 32) == 77, "the maps are inverses");
static_assert(column_at(stored_position(200, 64), 64) == 200, "the maps are inverses");
static_assert(stored_position(5, 128) == 5, "groups of 128 store in order");

} // namespace qwenc_rt::int4

#endif
