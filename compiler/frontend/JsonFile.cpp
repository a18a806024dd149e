//===- JsonFile.cpp - the frontend's one JSON file reader -----------------===//
#include "compiler/frontend/JsonFile.h"
#include "compiler/frontend/InputError.h"

#include <fstream>
#include <sstream>

namespace qwenc {

nlohmann::json readJsonObject(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, "cannot be opened");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw InputError(path, "is not valid JSON");
  if (!j.is_object())
    throw InputError(path, "must hold a JSON object");
  return j;
}

} // namespace qwenc
