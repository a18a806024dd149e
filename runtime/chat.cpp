#include "chat.h"

namespace qwenc_rt {

std::string chatml_message(const std::string &role, const std::string &content) {
  return "<|im_start|>" + role + "\n" + content + "<|im_end|>\n";
}

std::string render_chat(const std::vector<ChatMessage> &messages, bool add_generation_prompt,
                        const std::string &default_system) {
  std::string out;
  if ((messages.empty() || messages[0].role != "system") && !default_system.empty())
    out += chatml_message("system", default_system);
  for (const ChatMessage &m : messages)
    out += chatml_message(m.role, m.content);
  if (add_generation_prompt)
    out += chatml_generation_prompt();
  return out;
}

} // namespace qwenc_rt
