// The chat's input of arbitrary bytes: lines (a line's last byte odd: more
// pasted input waiting) assembled into messages, rendered as a conversation
// and tokenized with Qwen's real tables. Whatever a message holds, the only
// control tokens in the ids are the template's own.
#include "compiler/frontend/TokenizerTables.h"
#include "runtime/chat.h"

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
      std::fprintf(stderr, "cannot load the Qwen tokenizer (run scripts/install-deps.sh)\n");
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
