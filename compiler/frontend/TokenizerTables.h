//===- TokenizerTables.h - tokenizer.json to runtime tables -----*- C++ -*-===//
#ifndef QWENC_FRONTEND_TOKENIZERTABLES_H
#define QWENC_FRONTEND_TOKENIZERTABLES_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qwenc {

/// What the executable needs to tokenize and to chat.
struct TokenizerTables {
  std::vector<uint8_t> tables;     // the format of runtime/tokenizer_format.h
  std::string defaultSystemPrompt; // from the chat template, empty if none
};

/// Compiles MODEL_DIR/tokenizer.json (+ tokenizer_config.json) if present;
/// nullopt when the model directory has no tokenizer.json. Throws InputError
/// for a tokenizer this runtime cannot reproduce exactly.
std::optional<TokenizerTables> compileTokenizer(const std::string &modelDir);

/// The default system prompt a ChatML template inserts when the conversation
/// has none (Qwen2.5: "You are Qwen, created by Alibaba Cloud. ..."), or "".
std::string defaultSystemPromptOf(const std::string &chatTemplate);

} // namespace qwenc
#endif
