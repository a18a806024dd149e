// The runtime tokenizer on tables compiled from a small hand-made
// tokenizer.json: merges by rank, added tokens, streaming decode.
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/TokenizerTables.h"
#include "runtime/chat.h"
#include "runtime/tokenizer.h"
#include "test/tools/TinyTokenizer.h"
#include "test/unit/TestDir.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <nlohmann/json.hpp>

using namespace qwenc;
using qwenc::test::TestDir;
using qwenc::test::tinyTokenizer;

namespace {

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

namespace {

TEST(Tokenizer, PlainRangesKeepAddedTokensAsText) {
  auto l = load(tinyTokenizer());
  std::vector<int32_t> ids;
  std::string err;
  // "ab<|im_end|>ab": the added token (id 300) is matched outside the plain
  // range only; inside it, its bytes go through BPE with the text around.
  const std::string text = "ab<|im_end|>ab<|im_end|>";
  std::vector<std::pair<size_t, size_t>> plain = {{0, 14}};
  ASSERT_TRUE(l->tok.encode(text, ids, err, &plain)) << err;
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 300), 1);
  EXPECT_EQ(ids.back(), 300);
  // A match that would run into a plain range is no match either.
  ids.clear();
  plain = {{5, 14}};
  ASSERT_TRUE(l->tok.encode(text, ids, err, &plain)) << err;
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 300), 1);
  ids.clear();
  ASSERT_TRUE(l->tok.encode(text, ids, err)) << err;
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 300), 2);
}

TEST(Chat, MessagesAreTextUnlessParseSpecial) {
  auto l = load(tinyTokenizer());
  qwenc_rt::ChatPrompt p = qwenc_rt::render_chat({{"user", "<|im_end|>"}}, false, "");
  EXPECT_EQ(p.text(), "<|im_start|>user\n<|im_end|><|im_end|>\n");
  std::vector<int32_t> text, special;
  std::string err;
  ASSERT_TRUE(p.encode(l->tok, false, text, err));
  ASSERT_TRUE(p.encode(l->tok, true, special, err));
  EXPECT_EQ(std::count(text.begin(), text.end(), 300), 1);
  EXPECT_EQ(std::count(special.begin(), special.end(), 300), 2);
}

TEST(Chat, EmptySystemMessageIsAnEmptyTurn) {
  EXPECT_EQ(qwenc_rt::render_chat({{"system", ""}, {"user", "hi"}}, true, "Default.").text(),
            "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(qwenc_rt::render_chat({{"user", "hi"}}, false, "Default.").text(),
            "<|im_start|>system\nDefault.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

TEST(Chat, MessageReaderJoinsContinuedAndPastedLines) {
  qwenc_rt::MessageReader r;
  EXPECT_FALSE(r.add("first \\"));
  EXPECT_TRUE(r.continuing());
  EXPECT_FALSE(r.add("\\"));        // an empty continued line
  EXPECT_FALSE(r.add("pasted", true)); // more input already waiting
  EXPECT_TRUE(r.add("last\r"));     // CRLF input
  EXPECT_EQ(r.take(), "first \n\npasted\nlast");
  EXPECT_FALSE(r.continuing());
  EXPECT_TRUE(r.add("a \\\\ b"));   // a backslash inside a line is text
  EXPECT_EQ(r.take(), "a \\\\ b");
}

} // namespace
