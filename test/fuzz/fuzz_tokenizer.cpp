// The executable's tokenizer (Qwen's real tables) on arbitrary bytes: invalid
// UTF-8 is refused with its offset; valid text encodes to ids that decode back
// to the same text, whole or streamed token by token.
#include "compiler/frontend/TokenizerTables.h"
#include "runtime/tokenizer.h"

#include <cstdio>
#include <cstdlib>

namespace {

struct Qwen {
  qwenc::TokenizerTables tables;
  qwenc_rt::Tokenizer tok;
  Qwen() {
    const char *dir = std::getenv("QWENC_FUZZ_TOKENIZER_DIR");
    auto t = qwenc::compileTokenizer(dir ? dir : QWENC_QWEN_TOKENIZER_DIR);
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

Qwen *qwen = nullptr;

} // namespace

// Compiling Qwen's tokenizer.json takes seconds (more under the sanitizers):
// once, before the first input, outside any input's time limit.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  qwen = new Qwen();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Qwen &q = *qwen;
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::vector<int32_t> ids;
  std::string err;
  bool ok = q.tok.encode(text, ids, err);
  if (ok != qwenc_rt::check_utf8(text, err))
    std::abort();
  if (!ok)
    return 0;
  for (int32_t id : ids)
    if (!q.tok.is_valid(id))
      std::abort();
  // NFC may change the text, so the round trip holds for the normalized form:
  // encoding the decoded text again gives the same ids.
  std::string back = qwenc_rt::decode(q.tok, ids);
  std::vector<int32_t> again;
  if (!q.tok.encode(back, again, err) || again != ids) {
    std::fprintf(stderr, "encode(decode(ids)) != ids\n");
    std::abort();
  }
  qwenc_rt::StreamDecoder stream(q.tok);
  std::string streamed;
  for (int32_t id : ids)
    streamed += stream.push(id);
  streamed += stream.flush();
  if (streamed != back) {
    std::fprintf(stderr, "streamed decode differs from whole decode\n");
    std::abort();
  }
  return 0;
}
