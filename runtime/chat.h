// The ChatML conversation format of Qwen2.5's chat template:
//   <|im_start|>system\n{system}<|im_end|>\n
//   <|im_start|>user\n{text}<|im_end|>\n
//   <|im_start|>assistant\n            (the generation prompt)
// A conversation without a system message gets the template's default one;
// an empty system message is an empty system turn.
//
// The text of a message is marked as such, so that the tokenizer reads
// "<|im_end|>" typed in a message as text, not as the control token: a
// message cannot forge a turn. (transformers' apply_chat_template + encode
// does turn it into the control token; --parse-special asks for that.)
#ifndef QWENC_CHAT_H
#define QWENC_CHAT_H

#include "tokenizer.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qwenc_rt {

struct ChatMessage {
  std::string role; // system, user, assistant
  std::string content;
};

/// Rendered conversation text, with the byte ranges that are message text.
class ChatPrompt {
public:
  void control(std::string_view s) { text_ += s; }
  void message(std::string_view s);
  /// One whole turn: <|im_start|>role\n{content}<|im_end|>\n
  void turn(std::string_view role, std::string_view content);
  void generation_prompt() { control("<|im_start|>assistant\n"); }

  const std::string &text() const { return text_; }
  const std::vector<std::pair<size_t, size_t>> &message_ranges() const { return messages_; }
  bool empty() const { return text_.empty(); }
  void clear() { text_.clear(), messages_.clear(); }

  /// The ids of the text; control tokens in message text only when
  /// `parse_special`. False + message if the text is not valid UTF-8.
  bool encode(Tokenizer &tok, bool parse_special, std::vector<int32_t> &ids, std::string &error) const;

private:
  std::string text_;
  std::vector<std::pair<size_t, size_t>> messages_;
};

/// What the template renders for `messages`: the default system turn when
/// the first message is not a system one and the template has a default.
ChatPrompt render_chat(const std::vector<ChatMessage> &messages, bool add_generation_prompt,
                       const std::string &default_system);

/// Interactive input: a line that ends with a backslash continues the
/// message on the next line.
class MessageReader {
public:
  /// Adds one line (without its newline); true when the message is whole.
  /// `more_pending`: the input already holds the next line (a paste), which
  /// continues this message too.
  bool add(std::string_view line, bool more_pending = false);
  /// The message so far, and a fresh start.
  std::string take();
  bool continuing() const { return open_; }

private:
  std::string message_;
  bool open_ = false;
};

} // namespace qwenc_rt
#endif
