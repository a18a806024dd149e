//===- WeightPacking.h - weights in the layout the kernels read -*- C++ -*-===//
#ifndef QWENC_TARGETS_COMMON_WEIGHTPACKING_H
#define QWENC_TARGETS_COMMON_WEIGHTPACKING_H

#include "compiler/dialect/WeightFormat.h"
#include "compiler/frontend/Checkpoint.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qwenc {

/// How a weight is stored in the executable.
using Storage = WeightFormat;

/// Rows of one or more checkpoint tensors stacked, in `storage`:
///   float types: the elements, row-major;
///   Int8: int8 [rows][cols], then float scales [rows] (group = a row);
///   Int4: the layout of runtime/int4_layout.h: bytes [rows][cols/2],
///         then float scales [rows][cols/group].
/// Symmetric, round to nearest: scale = max|w| / 127 (int8); int4 takes the
/// scale among max|w| / d, d in [6, 8], with the least squared error.
struct PackedWeight {
  std::vector<uint8_t> bytes;
  uint64_t scalesOffset = 0;        // within bytes; quantized storage only
  std::vector<double> snrDb;        // per part: 10 log10(sum w^2 / sum (w - w')^2)
};

PackedWeight packRows(const std::vector<const TensorRef *> &parts, Storage storage,
                      int64_t groupSize);

/// Int8 bytes of a packed [rows, cols] weight (rows stacked as packRows
/// leaves them) rearranged in place into the column tiles of
/// runtime/int8_layout.h; rows must be a multiple of its kTile. A tile holds
/// the same bytes in either layout, so each moves within its own.
void int8RowsToTiles(uint8_t *q, int64_t rows, int64_t cols);

/// The same for int4 with groups of int4::kTileGroup: the bytes of a packed
/// [rows, cols] weight and its scales (at scales) into the column tiles of
/// runtime/int4_layout.h.
void int4RowsToTiles(uint8_t *q, float *scales, int64_t rows, int64_t cols);


} // namespace qwenc
#endif
