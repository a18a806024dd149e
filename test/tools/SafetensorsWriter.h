// Writes safetensors files for tests: well-formed ones, and (through
// rawHeader) deliberately broken ones.
#ifndef QWENC_TEST_SAFETENSORSWRITER_H
#define QWENC_TEST_SAFETENSORSWRITER_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace qwenc::test {

struct OutTensor {
  std::string name;
  std::string dtype; // "F32", "BF16", "F16"
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

/// The header JSON a well-formed file of these tensors has, data packed in order.
inline nlohmann::json safetensorsHeader(const std::vector<OutTensor> &tensors) {
  nlohmann::json h = nlohmann::json::object();
  uint64_t offset = 0;
  for (const OutTensor &t : tensors) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape},
                 {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  return h;
}

/// Writes [u64 header length][header][data]. `headerLenOverride` lets tests lie.
inline void writeSafetensors(const std::string &path, const std::string &header,
                             const std::vector<uint8_t> &data, int64_t headerLenOverride = -1) {
  std::ofstream out(path, std::ios::binary);
  uint64_t len = headerLenOverride >= 0 ? uint64_t(headerLenOverride) : header.size();
  for (int i = 0; i < 8; ++i)
    out.put(char((len >> (8 * i)) & 0xff));
  out << header;
  out.write(reinterpret_cast<const char *>(data.data()), long(data.size()));
}

inline void writeSafetensors(const std::string &path, const std::vector<OutTensor> &tensors) {
  std::vector<uint8_t> data;
  for (const OutTensor &t : tensors)
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  writeSafetensors(path, safetensorsHeader(tensors).dump(), data);
}

} // namespace qwenc::test
#endif
