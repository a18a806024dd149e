//===- WeightPacking.h - weights in the layout the kernels read -*- C++ -*-===//
#ifndef QWENC_TARGETS_CPP_WEIGHTPACKING_H
#define QWENC_TARGETS_CPP_WEIGHTPACKING_H

#include "compiler/frontend/Checkpoint.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qwenc {

/// How a weight is stored in the executable.
enum class Storage { F32, BF16, F16, Int8, Int4 };

/// Rows of one or more checkpoint tensors stacked, in `storage`:
///   float types: the elements, row-major;
///   Int8: int8 [rows][cols], then float scales [rows] (group = a row);
///   Int4: bytes [rows][cols/2], each q + 8 for q in [-8, 7], cols a
///         multiple of 128. Each 128 columns are stored as four runs of 32
///         that interleave the span's groups: run k holds, group by group,
///         columns k*w .. k*w+w-1 of each (w = group / 4), so that every
///         run meets all the span's groups in the same lanes (one int16 sum
///         serves all of them, see Int4Groups). Per span, byte j holds
///         stored column j in its low nibble and j + 64 in its high one.
///         Then float scales [rows][cols/group].
/// Symmetric, round to nearest: scale = max|w| / 127 (int8); int4 takes the
/// scale among max|w| / d, d in [6, 8], with the least squared error.
struct PackedWeight {
  std::vector<uint8_t> bytes;
  uint64_t scalesOffset = 0;        // within bytes; quantized storage only
  std::vector<double> snrDb;        // per part: 10 log10(sum w^2 / sum (w - w')^2)
};

PackedWeight packRows(const std::vector<const TensorRef *> &parts, Storage storage,
                      int64_t groupSize);

/// Bytes one element takes (int4: half a byte, rounded by the caller).
double storageBytesPerElement(Storage s);

} // namespace qwenc
#endif
