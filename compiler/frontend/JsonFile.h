//===- JsonFile.h - the frontend's one JSON file reader ---------*- C++ -*-===//
#ifndef QWENC_FRONTEND_JSONFILE_H
#define QWENC_FRONTEND_JSONFILE_H

#include <nlohmann/json.hpp>

#include <string>

namespace qwenc {

/// Parses the JSON object in `path`; throws InputError naming the file if it
/// cannot be read, is not JSON, or is not an object.
nlohmann::json readJsonObject(const std::string &path);

} // namespace qwenc
#endif
