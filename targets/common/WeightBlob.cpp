//===- WeightBlob.cpp -----------------------------------------------------===//
#include "targets/common/WeightBlob.h"
#include "passes/KernelChoice.h"
#include "runtime/int4_layout.h"
#include "runtime/int8_layout.h"
#include "runtime/weights.h"
#include "targets/common/WeightPacking.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace mlir;

namespace qwenc {
namespace {

constexpr uint64_t kWeightAlign = 64;

bool matchesDType(Type t, DType d) {
  return (d == DType::F32 && t.isF32()) || (d == DType::BF16 && t.isBF16()) ||
         (d == DType::F16 && t.isF16());
}

} // namespace

FailureOr<SmallVector<qwen::WeightOp>> weightParts(Value v) {
  SmallVector<qwen::WeightOp> parts;
  if (auto w = v.getDefiningOp<qwen::WeightOp>()) {
    parts.push_back(w);
  } else if (auto c = v.getDefiningOp<qwen::ConcatOp>()) {
    for (Value in : c.getInputs()) {
      auto w = in.getDefiningOp<qwen::WeightOp>();
      if (!w)
        return failure();
      parts.push_back(w);
    }
  } else {
    return failure();
  }
  return parts;
}

bool WeightBlob::inTiles(Value v) const {
  auto type = cast<RankedTensorType>(v.getType());
  if (!columnTiles || type.getRank() != 2 || !mlir::qwen::halideTakesWeight(v))
    return false;
  const int64_t n = type.getDimSize(0), k = type.getDimSize(1);
  if (type.getElementType().isInteger(8)) {
    if (!qwenc_rt::int8::tiles_fit(n, k))
      return false;
  } else if (type.getElementType().isInteger(4)) {
    int64_t group = 0;
    quantizedViewType(v, &group);
    if (!qwenc_rt::int4::tiles_fit(n, k, int(group)))
      return false;
  } else {
    return false;
  }
  return llvm::all_of(v.getUsers(), [](Operation *u) {
    return isa<qwen::EmbeddingOp>(u) || (isa<qwen::LinearOp, qwen::GatedLinearOp, qwen::LogitsOp>(u) &&
                                         mlir::qwen::kernelOf(u) == mlir::qwen::Kernel::Halide);
  });
}

std::string quantizedViewType(Value v, int64_t *group) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t k = type.getDimSize(1);
  if (type.getElementType().isInteger(8)) {
    if (group)
      *group = 0;
    return llvm::formatv("Int8Rows<{0}>", k).str();
  }
  int64_t g = 0;
  // Held by name: a range-for over *weightParts(v) would read the parts after
  // the temporary holding them is gone (AddressSanitizer found it).
  FailureOr<SmallVector<qwen::WeightOp>> parts = weightParts(v);
  for (qwen::WeightOp w : *parts)
    g = *w.getGroupSize();
  if (group)
    *group = g;
  return llvm::formatv("Int4Groups<{0}, {1}>", k, g).str();
}

void WeightBlob::beginProgress() {
  if (!progress)
    return;
  for (const auto &[name, t] : model.checkpoint->tensors())
    checkpointBytes += t.numBytes;
  progress->begin("pack weights");
}

FailureOr<uint64_t> WeightBlob::pack(Value v) {
  if (packed.count(v))
    return packed.lookup(v);
  auto parts = weightParts(v);
  if (failed(parts))
    return emitError(v.getLoc(), "the C++ lowering reads weights only from qwen.weight or a "
                                 "qwen.concat of them");
  auto type = cast<RankedTensorType>(v.getType());
  Type element = type.getElementType();
  std::optional<Storage> format = formatOf(element);
  if (!format)
    return emitError(v.getLoc(), "a weight of element type ") << element << " has no storage format";
  const Storage storage = *format;
  std::vector<const TensorRef *> tensors;
  int64_t group = 0;
  for (qwen::WeightOp w : *parts) {
    std::string name = w.getName().str();
    const TensorRef *t = model.checkpoint->find(name);
    if (!t)
      return w.emitOpError() << "names tensor '" << name << "', which the checkpoint lacks";
    if (w.getType().getShape() != llvm::ArrayRef<int64_t>(t->shape))
      return w.emitOpError() << "shape of " << w.getType() << " disagrees with the checkpoint's "
                             << "tensor '" << name << "'";
    if (storage == Storage::F16 && t->dtype != DType::F16)
      return w.emitOpError("only an F16 checkpoint tensor can be stored as f16");
    group = w.getGroupSize().value_or(0);
    tensors.push_back(t);
    if (progress)
      progress->update(packedBytes += t->numBytes, checkpointBytes);
  }
  uint64_t offset;
  if (tensors.size() == 1 && matchesDType(element, tensors[0]->dtype)) {
    // Stored as the checkpoint has it: the bytes go straight from the map.
    offset = append(tensors[0]->data, tensors[0]->numBytes);
    Checkpoint::releasePages(*tensors[0]);
    model.report.push_back({tensors[0]->name, dtypeName(tensors[0]->dtype), tensors[0]->shape,
                            INFINITY, tensors[0]->numBytes});
  } else {
    PackedWeight p = packRows(tensors, storage, group);
    const bool tiles = inTiles(v);
    if (tiles && storage == Storage::Int8)
      int8RowsToTiles(p.bytes.data(), type.getDimSize(0), type.getDimSize(1));
    else if (tiles)
      int4RowsToTiles(p.bytes.data(), reinterpret_cast<float *>(p.bytes.data() + p.scalesOffset),
                      type.getDimSize(0), type.getDimSize(1));
    offset = append(p.bytes.data(), p.bytes.size());
    for (const TensorRef *t : tensors)
      Checkpoint::releasePages(*t);
    scales[v] = offset + p.scalesOffset;
    std::string name;
    llvm::raw_string_ostream os(name);
    os << element;
    if (group)
      os << " g" << group;
    for (size_t i = 0; i < tensors.size(); ++i)
      model.report.push_back({tensors[i]->name, os.str(), tensors[i]->shape, p.snrDb[i],
                              uint64_t(tensors[i]->numElements() * bytesPerElement(storage))});
  }
  packed[v] = offset;
  uint64_t bytes = model.blobBytes - offset;
  bool gatherOnly = llvm::all_of(v.getUsers(), [](Operation *u) { return isa<qwen::EmbeddingOp>(u); });
  model.bytesReadPerToken += gatherOnly ? bytes / uint64_t(type.getDimSize(0)) : bytes;
  return offset;
}

uint64_t WeightBlob::floatCopy(Value v) {
  if (!floats.count(v)) {
    std::vector<const TensorRef *> tensors;
    FailureOr<SmallVector<qwen::WeightOp>> parts = weightParts(v); // held: see quantizedViewType
    for (qwen::WeightOp part : *parts)
      tensors.push_back(model.checkpoint->find(part.getName().str()));
    PackedWeight p = packRows(tensors, Storage::F32, 0);
    floats[v] = append(p.bytes.data(), p.bytes.size());
  }
  return floats.lookup(v);
}

uint64_t WeightBlob::append(const uint8_t *data, uint64_t numBytes) {
  uint64_t offset = (model.blobBytes + kWeightAlign - 1) / kWeightAlign * kWeightAlign;
  if (!model.blob)
    model.blob = std::make_unique<BlobFile>();
  model.blob->write(offset, data, numBytes);
  model.blobBytes = offset + numBytes;
  return offset;
}

void BlobFile::write(uint64_t offset, const uint8_t *data, uint64_t numBytes) {
  if (!error.empty())
    return;
  if (!file && !(file = std::tmpfile())) {
    error = std::string("cannot make a temporary file for the weights: ") + std::strerror(errno);
    return;
  }
  for (uint64_t done = 0; done < numBytes;) {
    ssize_t n = ::pwrite(fileno(file), data + done, size_t(std::min<uint64_t>(numBytes - done, 1u << 30)),
                         off_t(offset + done));
    if (n <= 0) {
      error = std::string("cannot write the weights to a temporary file: ") + std::strerror(errno);
      return;
    }
    done += uint64_t(n);
  }
}

std::string appendBlob(const CppModel &model, const std::string &path, Progress *progress) {
  std::FILE *f = std::fopen(path.c_str(), "ab");
  if (!f)
    return "cannot open '" + path + "' to append the weights: " + std::strerror(errno);
  std::fseek(f, 0, SEEK_END);
  long end = std::ftell(f);
  uint64_t base = (uint64_t(end) + qwenc_rt::kWeightsAlignment - 1) /
                  qwenc_rt::kWeightsAlignment * qwenc_rt::kWeightsAlignment;
  std::vector<char> zeros(qwenc_rt::kWeightsAlignment, 0);
  bool ok = std::fwrite(zeros.data(), 1, base - uint64_t(end), f) == base - uint64_t(end);
  if (model.blob && !model.blob->error.empty()) {
    std::fclose(f);
    return model.blob->error;
  }
  // The packed blob, copied from its temporary file a chunk at a time (its
  // size made the blob's: a last empty entry may leave padding unwritten).
  if (model.blob && model.blob->file && ::ftruncate(fileno(model.blob->file), off_t(model.blobBytes)) != 0) {
    std::fclose(f);
    return std::string("cannot size the weights' temporary file: ") + std::strerror(errno);
  }
  std::vector<uint8_t> chunk(model.blobBytes ? size_t(std::min<uint64_t>(model.blobBytes, 8u << 20)) : 0);
  for (uint64_t written = 0; ok && written < model.blobBytes;) {
    const size_t want = size_t(std::min<uint64_t>(chunk.size(), model.blobBytes - written));
    const ssize_t n = ::pread(fileno(model.blob->file), chunk.data(), want, off_t(written));
    if (n <= 0) {
      std::fclose(f);
      return std::string("cannot read back the weights' temporary file: ") +
             (n < 0 ? std::strerror(errno) : "it is shorter than the blob");
    }
    ok = std::fwrite(chunk.data(), 1, size_t(n), f) == size_t(n);
    // Its disk space is given back as it is copied: a model's blob is on
    // disk once, not twice (a failure here costs only space).
    ::fallocate(fileno(model.blob->file), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(written), off_t(n));
    written += uint64_t(n);
    if (progress)
      progress->update(written, model.blobBytes);
  }
  uint64_t trailer[4];
  std::memcpy(&trailer[0], qwenc_rt::kWeightsMagic, 8);
  trailer[1] = base;
  trailer[2] = model.blobBytes;
  trailer[3] = qwenc_rt::kWeightsVersion;
  ok = ok && std::fwrite(trailer, 1, sizeof trailer, f) == sizeof trailer;
  ok = (std::fclose(f) == 0) && ok;
  return ok ? "" : "writing the weights to '" + path + "' failed (disk full?)";
}

} // namespace qwenc
