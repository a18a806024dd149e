// Structured output's schema compiler and matcher on arbitrary input: the
// bytes before the first NUL are a schema, the rest an answer fed byte by
// byte (refused bytes skipped). Whatever the input, compiling ends with a
// schema or a message; and from wherever the answer got to, the matcher's
// completion is taken whole, completes the value, and parses as JSON.
#include "runtime/server/json_schema.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  const size_t nul = input.find('\0');
  const std::string schema_text(input.substr(0, nul));
  const std::string_view answer = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  std::string error;
  auto schema = qwenc_rt::server::Schema::compile(schema_text, error);
  if (!schema) {
    if (error.empty())
      std::abort(); // a refusal always says why
    return 0;
  }
  qwenc_rt::server::Matcher m(schema);
  std::string taken;
  for (char c : answer)
    if (m.step(uint8_t(c)))
      taken += c;
  const std::string rest = m.completion();
  if (!m.step(rest) || !m.complete()) {
    std::fprintf(stderr, "completion not taken: %s|%s\n", taken.c_str(), rest.c_str());
    std::abort();
  }
  if (nlohmann::json::parse(taken + rest, nullptr, false).is_discarded()) {
    std::fprintf(stderr, "completed answer is not JSON: %s%s\n", taken.c_str(), rest.c_str());
    std::abort();
  }
  return 0;
}
