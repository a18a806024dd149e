// The int8 column-tile layout: the one definition that the compiler's
// packing (targets/common/WeightPacking.cpp), the lowering's choice of it
// (targets/common/WeightBlob.cpp), the runtime's view of it (kernels.h's
// Int8Tiles) and the Halide generator (targets/halide/) share.
//
// A weight of N rows (output columns) and K columns, N a multiple of kTile,
// is stored as N / kTile tiles of kTile rows, each tile K * kTile bytes:
// for each pair of columns (2j, 2j + 1), the pair of every row of the tile
// in turn. A decode kernel then loads the weights of kTile outputs for two
// columns of x in one 32-byte read and meets them with x's pair broadcast
// (one vpdpwssd with AVX-512), so every weight byte is read once, in order,
// whatever the number of rows of x: the weights stream from one place. The
// float scales follow, one per row, as for rows (Int8Rows).
#ifndef QWENC_INT8_LAYOUT_H
#define QWENC_INT8_LAYOUT_H

#include <cstdint>

namespace qwenc_rt::int8 {

constexpr int kTile = 16; // rows a tile interleaves
constexpr int kPair = 2;  // adjacent columns of a row stored together

/// Whether a [N, K] weight can be stored in tiles.
constexpr bool tiles_fit(int64_t N, int64_t K) { return N % kTile == 0 && K % kPair == 0; }

/// The byte of weight (n, k) of a [N, K] weight stored in tiles.
constexpr int64_t tiled_offset(int64_t n, int64_t k, int64_t K) {
  return n / kTile * (kTile * K) + k / kPair * (kTile * kPair) + n % kTile * kPair + k % kPair;
}

static_assert(tiled_offset(0, 1, 8) == 1 && tiled_offset(1, 0, 8) == 2 && tiled_offset(0, 2, 8) == 32,
              "a row's pair, then the next row's");
static_assert(tiled_offset(16, 0, 8) == 128, "tiles follow each other");

} // namespace qwenc_rt::int8

#endif
