// tokenizer-tool MODEL_DIR encode|chat|bench [FILE]
// Compiles MODEL_DIR's tokenizer.json as `qwenc compile` does and runs the
// runtime's tokenizer on JSON lines from stdin, one JSON line out for each:
//   encode: {"text": S}                       -> {"ids": [...], "decoded": S'}
//   chat:   {"messages": [...], "add_generation_prompt": B} -> {"ids": [...]}
//   bench FILE: encodes FILE line by line, prints MB/s
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/TokenizerTables.h"
#include "runtime/chat.h"
#include "runtime/tokenizer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

using nlohmann::json;

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tokenizer-tool MODEL_DIR encode|chat|bench [FILE]\n");
    return 2;
  }
  std::string mode = argv[2];
  std::optional<qwenc::TokenizerTables> tables;
  try {
    tables = qwenc::compileTokenizer(argv[1]);
  } catch (const qwenc::InputError &e) {
    std::fprintf(stderr, "tokenizer-tool: %s\n", e.what());
    return 1;
  }
  if (!tables) {
    std::fprintf(stderr, "tokenizer-tool: %s has no tokenizer.json\n", argv[1]);
    return 1;
  }
  qwenc_rt::Tokenizer tok;
  std::string err;
  if (!tok.load(tables->tables.data(), tables->tables.size(), err)) {
    std::fprintf(stderr, "tokenizer-tool: %s\n", err.c_str());
    return 1;
  }
  if (mode == "bench") {
    if (argc < 4)
      return 2;
    std::ifstream in(argv[3], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      end = end == std::string::npos ? text.size() : end + 1;
      lines.push_back(text.substr(start, end - start));
      start = end;
    }
    std::vector<int32_t> ids;
    auto t0 = std::chrono::steady_clock::now();
    for (const std::string &l : lines)
      if (!tok.encode(l, ids, err)) {
        std::fprintf(stderr, "tokenizer-tool: %s\n", err.c_str());
        return 1;
      }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.4f, \"mb_per_s\": %.2f}\n",
                text.size(), ids.size(), s, text.size() / 1e6 / s);
    return 0;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    json in = json::parse(line, nullptr, false);
    json out;
    std::vector<int32_t> ids;
    if (mode == "encode") {
      if (!tok.encode(in.at("text").get<std::string>(), ids, err))
        out["error"] = err;
      out["decoded"] = qwenc_rt::decode(tok, ids);
    } else if (mode == "chat") {
      std::vector<qwenc_rt::ChatMessage> msgs;
      for (const json &m : in.at("messages"))
        msgs.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
      qwenc_rt::ChatPrompt prompt = qwenc_rt::render_chat(msgs, in.value("add_generation_prompt", true),
                                                          tables->defaultSystemPrompt);
      if (!prompt.encode(tok, in.value("parse_special", false), ids, err))
        out["error"] = err;
    } else {
      std::fprintf(stderr, "tokenizer-tool: unknown mode '%s'\n", mode.c_str());
      return 2;
    }
    out["ids"] = ids;
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return 0;
}
