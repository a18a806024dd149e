// A model.safetensors.index.json of arbitrary bytes beside two valid shards.
#include "compiler/frontend/Checkpoint.h"
#include "compiler/frontend/InputError.h"
#include "test/fuzz/FuzzDir.h"

#include <cstring>

using namespace qwenc;

namespace {

/// A shard holding one F32 tensor of two elements.
std::string shard(const std::string &tensor) {
  std::string header = "{\"" + tensor + "\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}";
  std::string out(8, '\0');
  uint64_t n = header.size();
  std::memcpy(&out[0], &n, 8);
  return out + header + std::string(8, '\0');
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool shards = (fuzz::writeFile("model-00001-of-00002.safetensors", shard("a")),
                              fuzz::writeFile("model-00002-of-00002.safetensors", shard("b")), true);
  (void)shards;
  fuzz::writeFile("model.safetensors.index.json", data, size);
  try {
    Checkpoint::open(fuzz::scratchDir());
  } catch (const InputError &) {
  }
  return 0;
}
