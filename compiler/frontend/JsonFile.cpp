//===- JsonFile.cpp - the frontend's one JSON reader ----------------------===//
#include "compiler/frontend/JsonFile.h"
#include "compiler/frontend/InputError.h"

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace qwenc {

nlohmann::json parseJsonObject(const std::string &path, const char *begin, const char *end) {
  bool tooDeep = false;
  nlohmann::json::parser_callback_t depthLimit = [&](int depth, nlohmann::json::parse_event_t,
                                                      nlohmann::json &) {
    tooDeep |= depth > kMaxJsonDepth;
    return !tooDeep; // past the limit, nothing more is kept
  };
  nlohmann::json j = nlohmann::json::parse(begin, end, depthLimit, /*allow_exceptions=*/false);
  if (tooDeep)
    throw InputError(path, "nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (j.is_discarded())
    throw InputError(path, "is not valid JSON");
  if (!j.is_object())
    throw InputError(path, "must hold a JSON object");
  return j;
}

std::string jsonProblem(const nlohmann::json::exception &e) {
  std::string what = e.what();
  size_t tag = what.find("] ");
  return tag == std::string::npos ? what : what.substr(tag + 2);
}

nlohmann::json readJsonObject(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) > kMaxJsonFileBytes)
    throw InputError(path, "is " + std::to_string(st.st_size) + " bytes, larger than any JSON file qwenc reads (" +
                               std::to_string(kMaxJsonFileBytes >> 20) + " MiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, "cannot be opened");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  return parseJsonObject(path, text.data(), text.data() + text.size());
}

} // namespace qwenc
