//===- WeightBlob.h - the weights of a compiled model, packed --*- C++ -*-===//
//
// The blob every executable target appends to its executable: each weight
// packed in the layout its kernels read (WeightPacking.h) where the lowering
// first reads it (a concat's parts together), 64-byte aligned; the
// tokenizer tables; the --report rows. appendBlob() writes it after an
// executable with the trailer runtime/weights.h reads at start:
//   [executable][zero padding to kWeightsAlignment][blob][magic, base, bytes, version]
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_COMMON_WEIGHTBLOB_H
#define QWENC_TARGETS_COMMON_WEIGHTBLOB_H

#include "compiler/dialect/QwenDialect.h"
#include "targets/common/CppLowering.h"

#include "llvm/ADT/DenseMap.h"

#include <string>

namespace qwenc {

/// The checkpoint tensors whose rows make up `v` (a qwen.weight or a
/// qwen.concat of them).
mlir::FailureOr<llvm::SmallVector<mlir::qwen::WeightOp>> weightParts(mlir::Value v);

/// The C++ view type of a packed integer weight (Int8Rows<K> or
/// Int4Groups<K, G> of runtime/kernels.h), and its int4 group (0 for int8).
std::string quantizedViewType(mlir::Value v, int64_t *group = nullptr);

/// Packs weights into model.blob as the lowering asks for them.
class WeightBlob {
public:
  /// columnTiles: the target's kernels read int8 and int4 g128 weights in
  /// column tiles (LoweringConfig::columnTiles).
  WeightBlob(CppModel &model, Progress *progress, bool columnTiles = false)
      : model(model), progress(progress), columnTiles(columnTiles) {}
  /// Whether `v` (an int8 or int4 weight or concat) is stored in the
  /// column tiles of runtime/int8_layout.h or int4_layout.h rather than
  /// rows: where the target's kernels take tiles, the shape (and int4's
  /// group) fits and every reader is a Halide product or the embedding
  /// gather (Int8Tiles, Int4Tiles) -- decided per weight, not per use, as
  /// the tied table is packed for the gather that reads it first.
  bool inTiles(mlir::Value v) const;
  /// Starts the progress line of packing (the checkpoint's bytes are its 100 %).
  void beginProgress();
  /// The blob offset of a weight or concat, packed on first use; errors are
  /// diagnostics on the weight.
  mlir::FailureOr<uint64_t> pack(mlir::Value v);
  /// Where the scales of a packed integer weight start.
  uint64_t scalesOf(mlir::Value v) const { return scales.lookup(v); }
  /// The offset of a float copy of a weight (kernels that add a float bias).
  uint64_t floatCopy(mlir::Value v);
  /// Places bytes in the blob (64-byte aligned); returns their offset.
  uint64_t append(const uint8_t *data, uint64_t numBytes);

private:
  CppModel &model;
  Progress *progress;
  bool columnTiles;
  llvm::DenseMap<mlir::Value, uint64_t> packed, scales, floats;
  uint64_t packedBytes = 0, checkpointBytes = 0;
};

/// Appends padding, the blob and its trailer to the executable at `path`.
/// Once: it gives the blob's temporary file its disk space back as it
/// copies it.
std::string appendBlob(const CppModel &model, const std::string &path, Progress *progress);

} // namespace qwenc
#endif
