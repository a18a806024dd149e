// runtime/server/json_schema: the byte-level matcher against documents that
// do and do not fit a schema, its shortest completion from every prefix of
// a valid document (which must then parse and fit), and what compiling
// refuses.
#include "runtime/server/json_schema.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace qwenc_rt::server;

namespace {

const char *kPerson = R"({"type": "object", "properties": {
  "name": {"type": "string"}, "age": {"type": "integer"}, "score": {"type": "number"},
  "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
  "role": {"enum": ["admin", "user", null]}, "next": {"$ref": "#/$defs/node"}},
  "required": ["name", "tags"],
  "$defs": {"node": {"type": "object", "properties": {"v": {"type": "boolean"}}, "required": ["v"]}}})";

std::shared_ptr<const Schema> compile(const char *text) {
  std::string error;
  auto s = Schema::compile(text, error);
  EXPECT_TRUE(s) << error;
  return s;
}

/// Whether the matcher takes the whole text and ends complete.
bool accepts(const std::shared_ptr<const Schema> &s, const std::string &text) {
  Matcher m(s);
  return m.step(text) && m.complete();
}

TEST(JsonSchema, AcceptsWhatFitsAndRefusesWhatDoesNot) {
  auto s = compile(kPerson);
  EXPECT_TRUE(accepts(s, R"({"name":"Ann","tags":["a"]})"));
  EXPECT_TRUE(accepts(s, R"({ "tags" : ["a", "b"], "name": "A\"\u00e9", "age": -12, "score": 1.5e+3, "role": null })"));
  EXPECT_TRUE(accepts(s, R"({"name":"x","tags":["a"],"next":{"v":true}})"));
  EXPECT_FALSE(accepts(s, R"({"name":"Ann"})"));                      // a required key missing
  EXPECT_FALSE(accepts(s, R"({"name":"A","tags":[]})"));              // minItems
  EXPECT_FALSE(accepts(s, R"({"name":"A","tags":["a","b","c"]})"));   // maxItems
  EXPECT_FALSE(accepts(s, R"({"name":"A","tags":["a"],"age":1.5})")); // not an integer
  EXPECT_FALSE(accepts(s, R"({"name":"A","tags":["a"],"role":"boss"})"));
  EXPECT_FALSE(accepts(s, R"({"name":"A","tags":["a"],"extra":1})")); // no other keys
  EXPECT_FALSE(accepts(s, R"({"name":"A","name":"B","tags":["a"]})")); // a key twice
  EXPECT_FALSE(accepts(s, R"({"name":"A","tags":["a"]} )"));           // nothing after the value
  EXPECT_FALSE(accepts(s, R"({"name":"A)"));                           // not whole
  Matcher m(s);
  EXPECT_TRUE(m.step(std::string_view("{\"na")));
  EXPECT_FALSE(m.step('x')); // a refused byte leaves the matcher as it was
  EXPECT_TRUE(m.step(std::string_view("me\"")));
}

TEST(JsonSchema, CompletionFromEveryPrefixFits) {
  auto s = compile(kPerson);
  const std::string doc = R"({"age": -7, "tags": ["x\n", "yz"], "score": 2.5E-1, "next": {"v": false}, "name": "\u0041b"})";
  ASSERT_TRUE(accepts(s, doc));
  for (size_t k = 0; k <= doc.size(); ++k) {
    Matcher m(s);
    ASSERT_TRUE(m.step(std::string_view(doc).substr(0, k)));
    const std::string whole = doc.substr(0, k) + m.completion();
    ASSERT_TRUE(m.step(m.completion()) && m.complete()) << whole;
    const nlohmann::json v = nlohmann::json::parse(whole);
    ASSERT_TRUE(v.contains("name") && v["tags"].is_array() && !v["tags"].empty()) << whole;
  }
}

// Strings are valid UTF-8 and escapes valid JSON, as parsers check them:
// an answer the matcher takes is one every client can parse.
TEST(JsonSchema, StringsAreValidUtf8AndEscapes) {
  auto s = compile(R"({"type": "string"})");
  EXPECT_TRUE(accepts(s, "\"h\xc3\xa9 \xe4\xbd\xa0 \xf0\x9f\x98\x80\""));
  EXPECT_TRUE(accepts(s, R"("\ud83d\ude00 \u00e9")"));
  EXPECT_FALSE(accepts(s, "\"\xc3\""));         // a character cut short
  EXPECT_FALSE(accepts(s, "\"\xc0\xaf\""));     // overlong
  EXPECT_FALSE(accepts(s, "\"\xed\xa0\x80\"")); // a surrogate in UTF-8
  EXPECT_FALSE(accepts(s, R"("\ud83d")"));         // a high surrogate alone
  EXPECT_FALSE(accepts(s, R"("\ude00")"));         // a low surrogate alone
  EXPECT_FALSE(accepts(s, "\"\t\""));            // a raw control character
  // Completions from inside a character or an escape are valid.
  for (const char *prefix : {"\"\xe4", "\"\xf0\x9f", "\"\\ud83d", "\"\\ud8", "\"\\ud83d\\u"}) {
    Matcher m(s);
    ASSERT_TRUE(m.step(std::string_view(prefix))) << prefix;
    const std::string whole = std::string(prefix) + m.completion();
    ASSERT_TRUE(m.step(m.completion()) && m.complete()) << whole;
    EXPECT_FALSE(nlohmann::json::parse(whole, nullptr, false).is_discarded()) << whole;
  }
  auto n = compile(R"({"type": "number"})");
  EXPECT_TRUE(accepts(n, "-1.5e+99"));
  EXPECT_FALSE(accepts(n, "1e999")); // exponents of two digits: a finite double
}

TEST(JsonSchema, AnyObjectAndAlternatives) {
  auto any = Schema::any_object();
  EXPECT_TRUE(accepts(any, R"({"a":[1,{"b":null}],"c":"d","e":true})"));
  EXPECT_FALSE(accepts(any, R"([1])"));
  auto alt = compile(R"({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"const": "k"}}]})");
  EXPECT_TRUE(accepts(alt, "42"));
  EXPECT_TRUE(accepts(alt, R"(["k","k"])"));
  EXPECT_FALSE(accepts(alt, R"(["j"])"));
  EXPECT_FALSE(accepts(alt, "4.5"));
}

TEST(JsonSchema, RefusesWhatItDoesNotSupport) {
  for (const char *text : {R"({"type": "string", "pattern": "a"})", R"({"type": "integer", "minimum": 1})",
                           R"({"$ref": "other.json#/x"})", R"({"type": "object", "properties": {}, "required": ["a"]})",
                           R"({"type": "thing"})", R"(false)", R"({"type": "array", "minItems": 3, "maxItems": 1})",
                           "not json"}) {
    std::string error;
    EXPECT_FALSE(Schema::compile(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

} // namespace
