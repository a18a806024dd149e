//===- TokenizerTables.cpp - tokenizer.json to runtime tables -------------===//
#include "compiler/frontend/TokenizerTables.h"
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/JsonFile.h"
#include "runtime/tokenizer_format.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <sys/stat.h>
#include <unordered_map>

using nlohmann::json;

namespace qwenc {
namespace {

// The pre-tokenizer split pattern of Qwen2/2.5 (and Qwen3); the runtime
// implements exactly this expression.
const char *kQwenSplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// GPT-2's byte-level alphabet: printable bytes stand for themselves, the
/// rest are shifted to U+0100 and up. Returns code point -> byte.
std::unordered_map<uint32_t, uint8_t> byteLevelDecoder() {
  std::unordered_map<uint32_t, uint8_t> m;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    m[printable ? b : next++] = uint8_t(b);
  }
  return m;
}

/// Decodes a byte-level token string (UTF-8 of alphabet code points) back to
/// raw bytes; false if a code point is outside the alphabet.
bool byteLevelToBytes(const std::string &s, const std::unordered_map<uint32_t, uint8_t> &dec,
                      std::string &out) {
  out.clear();
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    uint32_t cp;
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    if (i + len > s.size())
      return false;
    cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (int k = 1; k < len; ++k)
      cp = (cp << 6) | (s[i + k] & 0x3f);
    auto it = dec.find(cp);
    if (it == dec.end())
      return false;
    out.push_back(char(it->second));
    i += len;
  }
  return true;
}

void put32(std::vector<uint8_t> &v, uint32_t x) {
  for (int i = 0; i < 4; ++i)
    v.push_back(uint8_t(x >> (8 * i)));
}

} // namespace

std::string defaultSystemPromptOf(const std::string &tmpl) {
  // In the template source the newline is the two characters '\' 'n'.
  const std::string open = "<|im_start|>system\\n", close = "<|im_end|>";
  for (size_t at = tmpl.find(open); at != std::string::npos; at = tmpl.find(open, at + 1)) {
    size_t start = at + open.size();
    size_t end = tmpl.find(close, start);
    if (end == std::string::npos)
      break;
    std::string text = tmpl.substr(start, end - start);
    // A literal prompt, not an expression such as "' + messages[0]['content'] + '".
    if (!text.empty() && text.find('\'') == std::string::npos && text.find('{') == std::string::npos &&
        text.find('"') == std::string::npos)
      return text;
  }
  return "";
}

std::optional<TokenizerTables> compileTokenizer(const std::string &modelDir) {
  const std::string path = modelDir + "/tokenizer.json";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return std::nullopt;
  return withJsonErrors(path, [&] {
    json j = readJsonObject(path);

    const json &model = j.value("model", json::object());
    if (model.value("type", "") != "BPE" || !model.contains("vocab") || !model.contains("merges"))
      throw InputError(path, "model must be a byte-level BPE with vocab and merges");
    std::string pretok = j.value("pre_tokenizer", json::object()).dump();
    if (pretok.find("ByteLevel") == std::string::npos ||
        pretok.find(json(kQwenSplitPattern).dump()) == std::string::npos)
      throw InputError(path, "pre_tokenizer is not the Qwen2 split pattern + ByteLevel; "
                             "this tokenizer cannot be reproduced exactly");
    const json &norm = j["normalizer"];
    if (!norm.is_null() && norm.value("type", "") != "NFC")
      throw InputError(path, "only the NFC normalizer (or none) is supported");

    auto dec = byteLevelDecoder();
    uint32_t numIds = 0;
    std::unordered_map<std::string, uint32_t> vocab; // byte-level string -> id
    std::vector<std::string> bytesOf;
    std::vector<uint8_t> kinds;
    // The tables are indexed by id: ids must be about as dense as Qwen's
    // (0 .. entries - 1), or an id of 4e9 would size them at 100 GB.
    const json &addedTokens = j.value("added_tokens", json::array());
    const uint64_t maxId = 4 * (model["vocab"].size() + addedTokens.size()) + 1024;
    auto setToken = [&](uint64_t id64, const std::string &bytes, uint8_t kind) {
      if (id64 >= maxId)
        throw InputError(path, "token id " + std::to_string(id64) + " is far past the " +
                                   std::to_string(model["vocab"].size() + addedTokens.size()) +
                                   " tokens the file defines (ids must be dense)");
      const uint32_t id = uint32_t(id64);
      if (id >= bytesOf.size()) {
        bytesOf.resize(id + 1);
        kinds.resize(id + 1, qwenc_rt::kTokenUnused);
      }
      bytesOf[id] = bytes;
      kinds[id] = kind;
      numIds = std::max(numIds, id + 1);
    };
    std::string raw;
    for (auto &[tok, idj] : model["vocab"].items()) {
      if (!idj.is_number_unsigned())
        throw InputError(path, "vocab entry '" + tok + "' has no id");
      uint64_t id = idj.get<uint64_t>();
      if (!byteLevelToBytes(tok, dec, raw))
        throw InputError(path, "vocab entry " + json(tok).dump() + " is not byte-level encoded");
      setToken(id, raw, qwenc_rt::kTokenBpe);
      vocab[tok] = uint32_t(id);
    }
    std::vector<uint32_t> added;
    for (const json &a : addedTokens) {
      uint64_t id = a.at("id").get<uint64_t>();
      std::string content = a.at("content").get<std::string>();
      if (a.value("lstrip", false) || a.value("rstrip", false) || a.value("single_word", false))
        throw InputError(path, "added token '" + content + "' uses lstrip/rstrip/single_word");
      setToken(id, content, a.value("special", false) ? qwenc_rt::kTokenSpecial : qwenc_rt::kTokenAdded);
      added.push_back(uint32_t(id));
    }
    std::vector<uint32_t> byteTokens(256, qwenc_rt::kNoToken);
    for (auto &[cp, b] : dec) {
      std::string s;
      if (cp < 0x80)
        s = std::string(1, char(cp));
      else
        s = {char(0xc0 | (cp >> 6)), char(0x80 | (cp & 0x3f))};
      auto it = vocab.find(s);
      if (it == vocab.end())
        throw InputError(path, "vocab lacks the single-byte token for byte " + std::to_string(b));
      byteTokens[b] = it->second;
    }

    // Merges: ["a", "b"] pairs, or "a b" strings in older files.
    const json &merges = model["merges"];
    uint32_t slots = 1;
    while (slots < 2 * merges.size() + 2)
      slots <<= 1;
    std::vector<qwenc_rt::MergeSlot> table(slots, {qwenc_rt::kNoToken, 0, 0, 0});
    uint32_t rank = 0;
    for (const json &m : merges) {
      std::string l, r;
      if (m.is_array() && m.size() == 2) {
        l = m[0].get<std::string>();
        r = m[1].get<std::string>();
      } else if (m.is_string()) {
        std::string s = m.get<std::string>();
        size_t sp = s.find(' ');
        l = s.substr(0, sp);
        r = sp == std::string::npos ? "" : s.substr(sp + 1);
      }
      auto li = vocab.find(l), ri = vocab.find(r), res = vocab.find(l + r);
      if (li == vocab.end() || ri == vocab.end() || res == vocab.end())
        throw InputError(path, "merge " + m.dump() + " names tokens missing from the vocab");
      uint32_t h = qwenc_rt::merge_hash(li->second, ri->second) & (slots - 1);
      while (table[h].left != qwenc_rt::kNoToken) {
        if (table[h].left == li->second && table[h].right == ri->second)
          break; // a repeated merge keeps its first (lowest) rank
        h = (h + 1) & (slots - 1);
      }
      if (table[h].left == qwenc_rt::kNoToken)
        table[h] = {li->second, ri->second, rank, res->second};
      ++rank;
    }

    TokenizerTables out;
    std::vector<uint8_t> &v = out.tables;
    v.insert(v.end(), qwenc_rt::kTokenizerMagic, qwenc_rt::kTokenizerMagic + 8);
    std::string allBytes;
    std::vector<uint32_t> offsets;
    for (uint32_t id = 0; id < numIds; ++id) {
      offsets.push_back(uint32_t(allBytes.size()));
      allBytes += bytesOf[id];
    }
    offsets.push_back(uint32_t(allBytes.size()));
    put32(v, numIds);
    put32(v, slots);
    put32(v, rank);
    put32(v, uint32_t(added.size()));
    put32(v, uint32_t(allBytes.size()));
    put32(v, 0);
    for (uint32_t t : byteTokens)
      put32(v, t);
    for (uint32_t o : offsets)
      put32(v, o);
    v.insert(v.end(), kinds.begin(), kinds.end());
    while (v.size() % 4)
      v.push_back(0);
    for (const qwenc_rt::MergeSlot &m : table) {
      put32(v, m.left);
      put32(v, m.right);
      put32(v, m.rank);
      put32(v, m.result);
    }
    for (uint32_t a : added)
      put32(v, a);
    v.insert(v.end(), allBytes.begin(), allBytes.end());

    const std::string cfgPath = modelDir + "/tokenizer_config.json";
    if (::stat(cfgPath.c_str(), &st) == 0) {
      json cfg = readJsonObject(cfgPath);
      if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) {
        std::string tmpl = cfg["chat_template"].get<std::string>();
        if (tmpl.find("<|im_start|>") == std::string::npos)
          throw InputError(cfgPath, "chat_template is not ChatML (<|im_start|>role ... <|im_end|>)");
        out.defaultSystemPrompt = defaultSystemPromptOf(tmpl);
      }
    }
    return out;
  });
}

} // namespace qwenc
