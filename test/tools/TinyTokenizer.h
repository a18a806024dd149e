// A small tokenizer.json in the real format: the 256 byte tokens, three
// merges and one added token. For tests and fuzz seeds.
#ifndef QWENC_TEST_TOOLS_TINYTOKENIZER_H
#define QWENC_TEST_TOOLS_TINYTOKENIZER_H

#include <nlohmann/json.hpp>

namespace qwenc::test {

inline const char *kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// A byte-level vocabulary: the 256 byte tokens in GPT-2 order, then merges.
inline nlohmann::json tinyTokenizer() {
  nlohmann::json vocab = nlohmann::json::object();
  int next = 256, id = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    int cp = printable ? b : next++;
    std::string s = cp < 0x80 ? std::string(1, char(cp))
                              : std::string{char(0xc0 | (cp >> 6)), char(0x80 | (cp & 0x3f))};
    vocab[s] = id++;
  }
  // "ab" (rank 0), "Ġa" (rank 1), "abc"... as in real files.
  vocab["ab"] = id++;
  vocab["Ġa"] = id++;
  vocab["abc"] = id++;
  nlohmann::json merges = nlohmann::json::array(
      {nlohmann::json::array({"a", "b"}), nlohmann::json::array({"Ġ", "a"}),
       nlohmann::json::array({"ab", "c"})});
  nlohmann::json added = {{{"id", 300}, {"content", "<|im_end|>"}, {"special", true}}};
  return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
          {"normalizer", {{"type", "NFC"}}},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", kPattern}}}, {"behavior", "Isolated"}},
              {{"type", "ByteLevel"}}}}}},
          {"added_tokens", added}};
}

} // namespace qwenc::test
#endif
