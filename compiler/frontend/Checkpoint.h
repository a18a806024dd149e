//===- Checkpoint.h - memory-mapped safetensors checkpoints -----*- C++ -*-===//
#ifndef QWENC_FRONTEND_CHECKPOINT_H
#define QWENC_FRONTEND_CHECKPOINT_H

#include "compiler/frontend/ModelConfig.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qwenc {

enum class DType { F32, BF16, F16 };

size_t dtypeSize(DType t);
const char *dtypeName(DType t); // as safetensors spells it: "F32", "BF16", "F16"

/// One tensor of a checkpoint: its bytes stay in the memory-mapped file.
struct TensorRef {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr; // little-endian, row-major
  size_t numBytes = 0;
  std::string file; // the shard that holds it, for error messages
  uint64_t fileOffset = 0; // where data starts in that file

  int64_t numElements() const;
  /// Element i widened exactly to float.
  float valueAt(int64_t i) const;
};

/// A read-only memory mapping of a whole file.
class MappedFile {
public:
  static std::unique_ptr<MappedFile> open(const std::string &path);
  ~MappedFile();
  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  const std::string &path() const { return path_; }

private:
  MappedFile() = default;
  std::string path_;
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

/// The tensors of one safetensors file, with the header fully validated.
/// Throws InputError naming the file.
std::vector<TensorRef> parseSafetensors(const MappedFile &file);

/// All tensors of a model directory: model.safetensors, or the shards that
/// model.safetensors.index.json names.
class Checkpoint {
public:
  static std::unique_ptr<Checkpoint> open(const std::string &modelDir);

  const TensorRef *find(const std::string &name) const;
  const std::map<std::string, TensorRef> &tensors() const { return tensors_; }
  /// Gives back the memory of a tensor's mapped pages once it has been read
  /// (the map stays: a later read faults them in again from the file), so
  /// that reading a checkpoint tensor by tensor keeps few of it resident.
  static void releasePages(const TensorRef &t);
  const std::string &dir() const { return dir_; }

private:
  std::string dir_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorRef> tensors_;
};

/// The tensors a Qwen2ForCausalLM with this config has, with their shapes.
std::vector<std::pair<std::string, std::vector<int64_t>>>
expectedTensors(const ModelConfig &config);

/// Checks that the checkpoint holds exactly the expected tensors with the
/// expected shapes; throws InputError naming the shard (or config.json).
void validateCheckpoint(const ModelConfig &config, const Checkpoint &ckpt);

} // namespace qwenc
#endif
