//===- JsonFile.h - the frontend's one JSON reader ---------------*- C++ -*-===//
#ifndef QWENC_FRONTEND_JSONFILE_H
#define QWENC_FRONTEND_JSONFILE_H

#include "compiler/frontend/InputError.h"

#include <nlohmann/json.hpp>

#include <string>

namespace qwenc {

/// Every JSON document qwenc reads (configs, tokenizer files, safetensors
/// headers) nests no deeper than this: real ones stay under 10 levels, and a
/// deeper one would exhaust the stack of the recursive copies and dumps.
constexpr int kMaxJsonDepth = 64;
/// No JSON file qwenc reads is larger (Qwen's tokenizer.json is 7 MB).
constexpr uint64_t kMaxJsonFileBytes = uint64_t(256) << 20;

/// Parses the JSON object in [begin, end) of `path`; throws InputError naming
/// the file if it is not JSON, not an object, or nests too deep.
nlohmann::json parseJsonObject(const std::string &path, const char *begin, const char *end);

/// Reads and parses the JSON object in `path`; throws InputError naming the
/// file if it cannot be read or is too large, and as parseJsonObject.
nlohmann::json readJsonObject(const std::string &path);

/// What nlohmann's exception says, without its "[json.exception...] " tag.
std::string jsonProblem(const nlohmann::json::exception &e);

/// Runs `read`, which takes apart the JSON of `path`: a value of another type
/// than expected or a missing key, wherever no check of its own came first,
/// is an InputError naming the file rather than an exception nobody catches.
template <typename Read>
auto withJsonErrors(const std::string &path, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const nlohmann::json::exception &e) {
    throw InputError(path, "is malformed: " + jsonProblem(e));
  }
}

} // namespace qwenc
#endif
