// The executable's tokenizer (Qwen's real tables) on arbitrary bytes: invalid
// UTF-8 is refused with its offset; valid text encodes to ids that decode back
// to the same text, whole or streamed token by token.
#include "runtime/tokenizer.h"
#include "test/fuzz/QwenTokenizer.h"

#include <cstdio>
#include <cstdlib>

namespace {
qwenc::fuzz::QwenTokenizer *qwen = nullptr;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  qwen = new qwenc::fuzz::QwenTokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qwenc::fuzz::QwenTokenizer &q = *qwen;
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
