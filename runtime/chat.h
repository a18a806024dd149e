// The ChatML conversation format of Qwen2.5's chat template:
//   <|im_start|>system\n{system}<|im_end|>\n
//   <|im_start|>user\n{text}<|im_end|>\n
//   <|im_start|>assistant\n            (the generation prompt)
// A conversation without a system message gets the template's default one.
#ifndef QWENC_CHAT_H
#define QWENC_CHAT_H

#include <string>
#include <vector>

namespace qwenc_rt {

struct ChatMessage {
  std::string role; // system, user, assistant
  std::string content;
};

std::string chatml_message(const std::string &role, const std::string &content);
inline const char *chatml_generation_prompt() { return "<|im_start|>assistant\n"; }

/// The text the template renders for `messages`.
std::string render_chat(const std::vector<ChatMessage> &messages, bool add_generation_prompt,
                        const std::string &default_system);

} // namespace qwenc_rt
#endif
