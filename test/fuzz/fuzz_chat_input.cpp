// The chat's input of arbitrary bytes: lines (a line's last byte odd: more
// pasted input waiting) assembled into messages, rendered as a conversation
// and tokenized with Qwen's real tables. Whatever a message holds, the only
// control tokens in the ids are the template's own.
#include "runtime/chat.h"
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
  std::string_view input(reinterpret_cast<const char *>(data), size);
  qwenc_rt::MessageReader reader;
  std::vector<qwenc_rt::ChatMessage> messages;
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    bool pasted = !line.empty() && (line.back() & 1);
    if (reader.add(line, pasted)) {
      std::string m = reader.take();
      if (!m.empty())
        messages.push_back({messages.size() % 2 ? "assistant" : "user", std::move(m)});
    }
  }
  if (reader.continuing())
    messages.push_back({"user", reader.take()});
  qwenc_rt::ChatPrompt prompt = qwenc_rt::render_chat(messages, true, "You are Qwen.");
  std::vector<int32_t> ids;
  std::string err;
  if (!prompt.encode(q.tok, false, ids, err))
    return 0; // not UTF-8: the chat refuses such a message
  const size_t turns = messages.size() + 1; // and the default system turn
  size_t control = 0;
  for (int32_t id : ids)
    control += id >= 151643; // every added token of Qwen2.5's vocabulary
  if (control != 2 * turns + 1) {
    std::fprintf(stderr, "%zu control tokens for %zu turns\n", control, turns);
    std::abort();
  }
  return 0;
}
