#include "chat.h"

namespace qwenc_rt {

void ChatPrompt::message(std::string_view s) {
  if (!s.empty())
    messages_.push_back({text_.size(), text_.size() + s.size()});
  text_ += s;
}

void ChatPrompt::turn(std::string_view role, std::string_view content) {
  control("<|im_start|>");
  control(role);
  control("\n");
  message(content);
  control("<|im_end|>\n");
}

bool ChatPrompt::encode(Tokenizer &tok, bool parse_special, std::vector<int32_t> &ids,
                        std::string &error) const {
  return tok.encode(text_, ids, error, parse_special ? nullptr : &messages_);
}

ChatPrompt render_chat(const std::vector<ChatMessage> &messages, bool add_generation_prompt,
                       const std::string &default_system) {
  ChatPrompt out;
  if ((messages.empty() || messages[0].role != "system") && !default_system.empty())
    out.turn("system", default_system);
  for (const ChatMessage &m : messages)
    out.turn(m.role, m.content);
  if (add_generation_prompt)
    out.generation_prompt();
  return out;
}

bool MessageReader::add(std::string_view line, bool more_pending) {
  if (!line.empty() && line.back() == '\r') // typed or pasted with CRLF
    line.remove_suffix(1);
  const bool more = !line.empty() && line.back() == '\\';
  if (more)
    line.remove_suffix(1);
  if (open_)
    message_ += '\n';
  message_ += line;
  open_ = more || more_pending;
  return !open_;
}

std::string MessageReader::take() {
  open_ = false;
  return std::move(message_);
}

} // namespace qwenc_rt
