// config.json / generation_config.json: transformers' defaults, and clear
// errors for configs the architecture cannot run.
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/ModelConfig.h"
#include "test/unit/TestDir.h"

#include <gtest/gtest.h>

using namespace qwenc;
using qwenc::test::TestDir;

namespace {

const char *kMinimal = R"({"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
  "num_key_value_heads": 2, "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 100})";

void expectConfigError(const std::string &json, const std::string &what) {
  TestDir d;
  d.write("config.json", json);
  try {
    loadModelConfig(d.path());
    FAIL() << "no error for " << what;
  } catch (const InputError &e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, ReadsFieldsAndDefaults) {
  TestDir d;
  d.write("config.json", kMinimal);
  ModelConfig c = loadModelConfig(d.path());
  EXPECT_EQ(c.hiddenSize, 64);
  EXPECT_EQ(c.headDim(), 16);
  EXPECT_EQ(c.numKvHeads, 2);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-6);      // Qwen2Config default
  EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);    // Qwen2Config default
  EXPECT_EQ(c.maxPositions, 32768);
  EXPECT_FALSE(c.tieWordEmbeddings);
}

TEST(ModelConfig, NullKvHeadsMeansMultiHead) {
  TestDir d;
  d.write("config.json", R"({"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
                             "num_key_value_heads": null})");
  EXPECT_EQ(loadModelConfig(d.path()).numKvHeads, 4);
}

TEST(ModelConfig, RejectsMissingFile) {
  TestDir d;
  EXPECT_THROW(loadModelConfig(d.path()), InputError);
}

TEST(ModelConfig, RejectsInvalidJson) { expectConfigError("{\"hidden_size\": ", "not valid JSON"); }

TEST(ModelConfig, RejectsOtherArchitectures) {
  expectConfigError(R"({"model_type": "llama"})", "only Qwen2-architecture models");
}

TEST(ModelConfig, RejectsHiddenNotDivisibleByHeads) {
  expectConfigError(R"({"model_type": "qwen2", "hidden_size": 66, "num_attention_heads": 4,
                        "num_key_value_heads": 2})",
                    "hidden_size 66 is not divisible by num_attention_heads 4");
}

TEST(ModelConfig, RejectsHeadsNotDivisibleByKvHeads) {
  expectConfigError(R"({"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
                        "num_key_value_heads": 3})",
                    "num_attention_heads 4 is not divisible by num_key_value_heads 3");
}

TEST(ModelConfig, RejectsMistypedField) {
  expectConfigError(R"({"model_type": "qwen2", "hidden_size": "64"})",
                    "field 'hidden_size' must be an integer");
}

TEST(ModelConfig, RejectsNonPositiveField) {
  expectConfigError(R"({"model_type": "qwen2", "num_hidden_layers": 0})",
                    "field 'num_hidden_layers' must be positive");
}

TEST(ModelConfig, RejectsUnsupportedActivation) {
  expectConfigError(R"({"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
                        "num_key_value_heads": 2, "hidden_act": "gelu"})",
                    "hidden_act 'gelu' is not supported");
}

TEST(GenerationConfig, ReadsSamplingDefaultsAndEosList) {
  TestDir d;
  d.write("config.json", std::string(kMinimal).replace(1, 0, "\"eos_token_id\": 7, "));
  d.write("generation_config.json", R"({"eos_token_id": [5, 6], "do_sample": true,
    "temperature": 0.7, "top_k": 20, "top_p": 0.8, "repetition_penalty": 1.05})");
  GenerationConfig g = loadGenerationConfig(d.path());
  EXPECT_EQ(g.eosTokenIds, (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(g.doSample);
  EXPECT_DOUBLE_EQ(g.temperature, 0.7);
  EXPECT_EQ(g.topK, 20);
  EXPECT_DOUBLE_EQ(g.topP, 0.8);
  EXPECT_DOUBLE_EQ(g.repetitionPenalty, 1.05);
}

TEST(GenerationConfig, FallsBackToConfigEos) {
  TestDir d;
  d.write("config.json", std::string(kMinimal).replace(1, 0, "\"eos_token_id\": 7, "));
  GenerationConfig g = loadGenerationConfig(d.path());
  EXPECT_EQ(g.eosTokenIds, (std::vector<int64_t>{7}));
  EXPECT_FALSE(g.doSample);
  EXPECT_EQ(g.topK, 50); // transformers' GenerationConfig default
}

TEST(GenerationConfig, RejectsInvalidTopP) {
  TestDir d;
  d.write("config.json", kMinimal);
  d.write("generation_config.json", R"({"top_p": 1.5})");
  EXPECT_THROW(loadGenerationConfig(d.path()), InputError);
}

} // namespace

namespace {

TEST(GenerationConfig, BaseModelWholeNumbers) {
  // Qwen2.5 base models' generation_config.json, and whole-number floats.
  TestDir d;
  d.write("config.json", kMinimal);
  d.write("generation_config.json", R"({"bos_token_id": 151643, "do_sample": false,
    "eos_token_id": 151643, "max_new_tokens": 2048, "temperature": 1, "top_p": 1.0})");
  GenerationConfig g = loadGenerationConfig(d.path());
  EXPECT_EQ(g.eosTokenIds, (std::vector<int64_t>{151643}));
  EXPECT_EQ(g.bosTokenId, 151643);
  EXPECT_DOUBLE_EQ(g.temperature, 1.0);
  EXPECT_DOUBLE_EQ(g.topP, 1.0);
}

TEST(GenerationConfig, RejectsOutOfRangeNumbers) {
  for (const char *json : {R"({"temperature": 1e999})", R"({"top_k": 1, "temperature": 3.5e38})", R"({"repetition_penalty": 1e39})",
                           R"({"eos_token_id": 4294967296})"}) {
    TestDir d;
    d.write("config.json", kMinimal);
    d.write("generation_config.json", json);
    try {
      loadGenerationConfig(d.path());
      ADD_FAILURE() << "no error for " << json;
    } catch (const InputError &e) {
      EXPECT_NE(std::string(e.what()).find("generation_config.json"), std::string::npos) << e.what();
    }
  }
}

TEST(ModelConfig, RejectsOutOfRangeFloat) {
  expectConfigError(R"({"model_type": "qwen2", "rope_theta": 1e39})", "field 'rope_theta' is out of range");
}

} // namespace
