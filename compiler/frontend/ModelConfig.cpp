//===- ModelConfig.cpp - config.json and generation_config.json -----------===//
#include "compiler/frontend/ModelConfig.h"
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/JsonFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <sys/stat.h>

using nlohmann::json;

namespace qwenc {
namespace {

bool fileExists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// Reads an optional positive integer field.
void readInt(const json &j, const std::string &path, const char *key, int64_t &out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return;
  if (!it->is_number_integer())
    throw InputError(path, std::string("field '") + key + "' must be an integer");
  out = it->get<int64_t>();
  if (out <= 0)
    throw InputError(path, std::string("field '") + key + "' must be positive, got " +
                               std::to_string(out));
}

void readDouble(const json &j, const std::string &path, const char *key, double &out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return;
  if (!it->is_number())
    throw InputError(path, std::string("field '") + key + "' must be a number");
  out = it->get<double>();
  // JSON has no inf or nan, but a number past the double range reads as inf;
  // the float range is where the runtime uses these values.
  if (!std::isfinite(float(out)))
    throw InputError(path, std::string("field '") + key + "' is out of range: " + it->dump());
}

void readBool(const json &j, const std::string &path, const char *key, bool &out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return;
  if (!it->is_boolean())
    throw InputError(path, std::string("field '") + key + "' must be true or false");
  out = it->get<bool>();
}

/// Reads an optional string field.
std::string readString(const json &j, const std::string &path, const char *key, const std::string &fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return fallback;
  if (!it->is_string())
    throw InputError(path, std::string("field '") + key + "' must be a string");
  return it->get<std::string>();
}

/// eos_token_id may be one id or a list of ids.
std::vector<int64_t> readIdList(const json &j, const std::string &path, const char *key) {
  std::vector<int64_t> ids;
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return ids;
  auto one = [&](const json &v) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      throw InputError(path, std::string("field '") + key + "' must hold token ids");
    ids.push_back(v.get<int64_t>());
  };
  if (it->is_array())
    for (const json &v : *it)
      one(v);
  else
    one(*it);
  return ids;
}

} // namespace

ModelConfig loadModelConfig(const std::string &modelDir) {
  std::string path = modelDir + "/config.json";
  if (!fileExists(path))
    throw InputError(path, "not found (is '" + modelDir + "' a Hugging Face model directory?)");
  return withJsonErrors(path, [&] {
    json j = readJsonObject(path);

    bool isQwen2 = readString(j, path, "model_type", "") == "qwen2";
    if (auto arch = j.find("architectures"); arch != j.end() && arch->is_array())
      for (const json &a : *arch)
        isQwen2 |= a.is_string() && a.get<std::string>() == "Qwen2ForCausalLM";
    if (!isQwen2)
      throw InputError(path, "model_type is not 'qwen2' and architectures lacks "
                             "'Qwen2ForCausalLM'; only Qwen2-architecture models are supported");

    ModelConfig c;
    readInt(j, path, "hidden_size", c.hiddenSize);
    readInt(j, path, "intermediate_size", c.intermediateSize);
    readInt(j, path, "num_hidden_layers", c.numLayers);
    readInt(j, path, "num_attention_heads", c.numHeads);
    // Qwen2Config: an absent num_key_value_heads defaults to 32, an explicit
    // null means plain multi-head attention.
    if (j.contains("num_key_value_heads") && j["num_key_value_heads"].is_null())
      c.numKvHeads = c.numHeads;
    readInt(j, path, "num_key_value_heads", c.numKvHeads);
    readInt(j, path, "vocab_size", c.vocabSize);
    readInt(j, path, "max_position_embeddings", c.maxPositions);
    readDouble(j, path, "rms_norm_eps", c.rmsNormEps);
    readDouble(j, path, "rope_theta", c.ropeTheta);
    readBool(j, path, "tie_word_embeddings", c.tieWordEmbeddings);

    if (!(c.rmsNormEps > 0.0))
      throw InputError(path, "rms_norm_eps must be positive");
    if (!(c.ropeTheta > 0.0))
      throw InputError(path, "rope_theta must be positive");
    if (c.hiddenSize % c.numHeads != 0)
      throw InputError(path, "hidden_size " + std::to_string(c.hiddenSize) +
                                 " is not divisible by num_attention_heads " +
                                 std::to_string(c.numHeads));
    if (c.numHeads % c.numKvHeads != 0)
      throw InputError(path, "num_attention_heads " + std::to_string(c.numHeads) +
                                 " is not divisible by num_key_value_heads " +
                                 std::to_string(c.numKvHeads));
    if (c.headDim() % 2 != 0)
      throw InputError(path, "head_dim (hidden_size / num_attention_heads = " +
                                 std::to_string(c.headDim()) + ") must be even for RoPE");
    if (std::string act = readString(j, path, "hidden_act", "silu"); act != "silu")
      throw InputError(path, "hidden_act '" + act + "' is not supported (Qwen2 uses 'silu')");
    if (auto rs = j.find("rope_scaling"); rs != j.end() && !rs->is_null()) {
      // transformers: "rope_type", or the older "type"; YaRN only.
      if (!rs->is_object())
        throw InputError(path, "rope_scaling must be an object");
      std::string type = readString(*rs, path, "rope_type", readString(*rs, path, "type", ""));
      if (type != "default") {
        if (type != "yarn")
          throw InputError(path, "rope_scaling type '" + type +
                                     "' is not supported (supported: yarn, as the Qwen2.5 model cards give it)");
        qwenc_rt::rotary::Scaling &y = c.ropeScaling;
        readDouble(*rs, path, "factor", y.factor);
        if (!(y.factor >= 1.0) || y.factor > 1024)
          throw InputError(path, "rope_scaling.factor must be a number in [1, 1024] for yarn");
        int64_t original = c.maxPositions;
        readInt(*rs, path, "original_max_position_embeddings", original);
        y.original_max_positions = double(original);
        readDouble(*rs, path, "beta_fast", y.beta_fast);
        readDouble(*rs, path, "beta_slow", y.beta_slow);
        readDouble(*rs, path, "attention_factor", y.attention_factor);
        if (!(y.beta_fast > 0) || !(y.beta_slow > 0) || y.attention_factor < 0)
          throw InputError(path, "rope_scaling: beta_fast and beta_slow must be positive, attention_factor not negative");
      }
    }
    bool sliding = false;
    readBool(j, path, "use_sliding_window", sliding);
    if (sliding)
      throw InputError(path, "use_sliding_window=true is not supported yet");
    return c;
  });
}

GenerationConfig loadGenerationConfig(const std::string &modelDir) {
  GenerationConfig g;
  std::string cfgPath = modelDir + "/config.json";
  withJsonErrors(cfgPath, [&] {
    json cfg = readJsonObject(cfgPath);
    g.eosTokenIds = readIdList(cfg, cfgPath, "eos_token_id");
    if (auto ids = readIdList(cfg, cfgPath, "bos_token_id"); !ids.empty())
      g.bosTokenId = ids[0];
  });

  std::string path = modelDir + "/generation_config.json";
  if (!fileExists(path))
    return g;
  return withJsonErrors(path, [&] {
    json j = readJsonObject(path);
    if (auto ids = readIdList(j, path, "eos_token_id"); !ids.empty())
      g.eosTokenIds = ids;
    if (auto ids = readIdList(j, path, "bos_token_id"); !ids.empty())
      g.bosTokenId = ids[0];
    readBool(j, path, "do_sample", g.doSample);
    readDouble(j, path, "temperature", g.temperature);
    readDouble(j, path, "top_p", g.topP);
    readDouble(j, path, "repetition_penalty", g.repetitionPenalty);
    if (auto it = j.find("top_k"); it != j.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0)
        throw InputError(path, "field 'top_k' must be a non-negative integer");
      g.topK = it->get<int64_t>();
    }
    if (g.temperature < 0.0 || g.topP <= 0.0 || g.topP > 1.0 || g.repetitionPenalty <= 0.0)
      throw InputError(path, "temperature must be >= 0, top_p in (0, 1], repetition_penalty > 0");
    return g;
  });
}

} // namespace qwenc
