// tokenizer.json of arbitrary bytes compiled to the runtime's tables; tables
// that compile must load and tokenize.
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/TokenizerTables.h"
#include "runtime/tokenizer.h"
#include "test/fuzz/FuzzDir.h"

#include <cstdio>
#include <cstdlib>

using namespace qwenc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::writeFile("tokenizer.json", data, size);
  try {
    auto tables = compileTokenizer(fuzz::scratchDir());
    if (!tables)
      return 0;
    qwenc_rt::Tokenizer tok;
    std::string err;
    if (!tok.load(tables->tables.data(), tables->tables.size(), err)) {
      std::fprintf(stderr, "compiled tables do not load: %s\n", err.c_str());
      std::abort();
    }
    std::vector<int32_t> ids;
    if (!tok.encode("Hello world, <|im_end|> 你好 123", ids, err))
      std::abort();
    qwenc_rt::decode(tok, ids);
  } catch (const InputError &) {
  }
  return 0;
}
