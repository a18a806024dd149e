// The runtime tokenizer on tables compiled from a small hand-made
// tokenizer.json: merges by rank, added tokens, streaming decode.
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/TokenizerTables.h"
#include "runtime/tokenizer.h"
#include "test/unit/TestDir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace qwenc;
using qwenc::test::TestDir;

namespace {

const char *kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// A byte-level vocabulary: the 256 byte tokens in GPT-2 order, then merges.
nlohmann::json tinyTokenizer() {
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

struct Loaded {
  TokenizerTables tables;
  qwenc_rt::Tokenizer tok;
};

std::unique_ptr<Loaded> load(const nlohmann::json &j) {
  TestDir d;
  d.write("tokenizer.json", j.dump());
  auto l = std::make_unique<Loaded>();
  l->tables = *compileTokenizer(d.path());
  std::string err;
  EXPECT_TRUE(l->tok.load(l->tables.tables.data(), l->tables.tables.size(), err)) << err;
  return l;
}

std::vector<int32_t> encode(qwenc_rt::Tokenizer &tok, const std::string &s) {
  std::vector<int32_t> ids;
  std::string err;
  EXPECT_TRUE(tok.encode(s, ids, err)) << err;
  return ids;
}

TEST(Tokenizer, MergesByRank) {
  auto l = load(tinyTokenizer());
  // "abc": a+b (rank 0) then ab+c (rank 2).
  EXPECT_EQ(encode(l->tok, "abc"), (std::vector<int32_t>{258}));
  // " ab": Ġ+a (rank 1) loses to a+b (rank 0): Ġ, ab.
  EXPECT_EQ(encode(l->tok, " ab"), (std::vector<int32_t>{32, 256})); // id 32: byte 0x20
  EXPECT_EQ(encode(l->tok, "ba"), (std::vector<int32_t>{'b', 'a'}));
}

TEST(Tokenizer, AddedTokensAreMatchedBeforeBpe) {
  auto l = load(tinyTokenizer());
  EXPECT_EQ(encode(l->tok, "ab<|im_end|>ab"), (std::vector<int32_t>{256, 300, 256}));
  EXPECT_TRUE(l->tok.is_special(300));
  EXPECT_EQ(l->tok.added_id("<|im_end|>"), 300);
}

TEST(Tokenizer, RejectsInvalidUtf8WithOffset) {
  auto l = load(tinyTokenizer());
  std::vector<int32_t> ids;
  std::string err;
  EXPECT_FALSE(l->tok.encode("ab\xed\xa0\x80", ids, err)); // a UTF-16 surrogate
  EXPECT_EQ(err, "the text is not valid UTF-8 (byte 2)");
}

TEST(Tokenizer, StreamDecoderNeverSplitsACharacter) {
  auto l = load(tinyTokenizer());
  qwenc_rt::StreamDecoder e(l->tok);
  std::vector<int32_t> eacute;
  std::string err;
  ASSERT_TRUE(l->tok.encode("\xc3\xa9", eacute, err));
  ASSERT_EQ(eacute.size(), 2u);
  EXPECT_EQ(e.push(eacute[0]), "");
  EXPECT_EQ(e.push(eacute[1]), "\xc3\xa9");
  // A lone continuation byte becomes U+FFFD, as errors="replace" does.
  EXPECT_EQ(qwenc_rt::decode(l->tok, {eacute[1]}), "\xEF\xBF\xBD");
  EXPECT_EQ(qwenc_rt::decode(l->tok, {eacute[0]}), "\xEF\xBF\xBD");
}

TEST(TokenizerTables, RejectsOtherPreTokenizers) {
  nlohmann::json j = tinyTokenizer();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
  TestDir d;
  d.write("tokenizer.json", j.dump());
  EXPECT_THROW(compileTokenizer(d.path()), InputError);
}

TEST(TokenizerTables, FindsTheDefaultSystemPrompt) {
  EXPECT_EQ(defaultSystemPromptOf(
                "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + "
                "messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou "
                "are Qwen.<|im_end|>\\n' }}{%- endif %}"),
            "You are Qwen.");
  EXPECT_EQ(defaultSystemPromptOf("{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"), "");
}

} // namespace
