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

TEST(ModelConfig, ReadsYarnScaling) {
  TestDir d;
  d.write("config.json", R"({"model_type": "qwen2", "max_position_embeddings": 32768,
      "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}})");
  ModelConfig c = loadModelConfig(d.path());
  EXPECT_EQ(c.ropeScaling.factor, 4.0);
  EXPECT_EQ(c.ropeScaling.original_max_positions, 32768.0);
  EXPECT_EQ(c.contextLength(), 131072); // the Qwen2.5 cards' 128K
  EXPECT_NEAR(qwenc_rt::rotary::attention_factor(c.ropeScaling), 1.1386294361119891, 1e-15);
  // rope_type (newer transformers) and an absent original window (the config's).
  d.write("config.json", R"({"model_type": "qwen2", "max_position_embeddings": 256,
      "rope_scaling": {"factor": 2, "rope_type": "yarn"}})");
  c = loadModelConfig(d.path());
  EXPECT_EQ(c.contextLength(), 512);
  d.write("config.json", R"({"model_type": "qwen2", "rope_scaling": {"rope_type": "default"}})");
  EXPECT_EQ(loadModelConfig(d.path()).ropeScaling.factor, 0.0);
}

TEST(ModelConfig, RejectsOtherRopeScaling) {
  expectConfigError(R"({"model_type": "qwen2", "rope_scaling": {"type": "linear", "factor": 2}})",
                    "rope_scaling type 'linear' is not supported (supported: yarn");
  expectConfigError(R"({"model_type": "qwen2", "rope_scaling": {"type": "dynamic", "factor": 2}})",
                    "rope_scaling type 'dynamic' is not supported (supported: yarn");
  expectConfigError(R"({"model_type": "qwen2", "rope_scaling": {"type": "yarn", "factor": 0.5}})",
                    "rope_scaling.factor must be a number in [1, 1024] for yarn");
  expectConfigError(R"({"model_type": "qwen2", "rope_scaling": {"type": "yarn"}})",
                    "rope_scaling.factor must be a number in [1, 1024] for yarn");
  expectConfigError(R"({"model_type": "qwen2", "rope_scaling": [1, 2]})", "rope_scaling must be an object");
}

// The frequencies against transformers' own (float32) for micro-yarn-f32
// (test/data/golden/micro-yarn-f32/summary.json: model.rope).
TEST(Rope, YarnFrequenciesAreTransformers) {
  const double transformers[32] = {
      1.0, 0.5952665209770203, 0.351413756608963, 0.20538148283958435, 0.11855196207761765,
      0.06736227869987488, 0.037494707852602005, 0.02029031328856945, 0.010540925897657871,
      0.00513381278142333, 0.0033338037319481373, 0.0021649107802659273, 0.0014058533124625683,
      0.0009129353566095233, 0.0005928434547968209, 0.00038498162757605314, 0.0002500000118743628,
      0.00016234541544690728, 0.00010542412201175466, 6.846048927400261e-05, 4.4456985051510856e-05,
      2.8869548259535804e-05, 1.8747356079984456e-05, 1.2174188668723218e-05, 7.905693564680405e-06,
      5.133812464919174e-06, 3.3338035336782923e-06, 2.1649109385180054e-06, 1.405853367941745e-06,
      9.129353202297352e-07, 5.928434347879374e-07, 3.8498163235090033e-07};
  qwenc_rt::rotary::Scaling y;
  y.factor = 4;
  y.original_max_positions = 256;
  std::vector<double> f = qwenc_rt::rotary::inv_freq(64, 1e6, y);
  ASSERT_EQ(f.size(), 32u);
  for (int i = 0; i < 32; ++i)
    EXPECT_NEAR(f[size_t(i)], transformers[i], 1e-7 * transformers[i]) << i; // float32's rounding
  // Without scaling: theta^(-2i/D).
  std::vector<double> plain = qwenc_rt::rotary::inv_freq(64, 1e6, {});
  EXPECT_DOUBLE_EQ(plain[16], 1e-3);
}

} // namespace
