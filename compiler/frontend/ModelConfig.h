//===- ModelConfig.h - config.json and generation_config.json ---*- C++ -*-===//
#ifndef QWENC_FRONTEND_MODELCONFIG_H
#define QWENC_FRONTEND_MODELCONFIG_H

#include "runtime/rope.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace qwenc {

/// The architecture hyper-parameters of a Qwen2ForCausalLM checkpoint, with
/// the defaults of transformers' Qwen2Config where a field is absent.
struct ModelConfig {
  int64_t hiddenSize = 4096;
  int64_t intermediateSize = 22016;
  int64_t numLayers = 32;
  int64_t numHeads = 32;
  int64_t numKvHeads = 32;
  int64_t vocabSize = 151936;
  int64_t maxPositions = 32768;
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  bool tieWordEmbeddings = false;
  /// rope_scaling (YaRN; factor 0 for none).
  qwenc_rt::rotary::Scaling ropeScaling;

  int64_t headDim() const { return hiddenSize / numHeads; }
  /// The positions the model takes: with YaRN, factor x the original
  /// window (the Qwen2.5 cards keep max_position_embeddings at the original).
  int64_t contextLength() const {
    if (ropeScaling.factor <= 0)
      return maxPositions;
    return std::max<int64_t>(maxPositions, int64_t(ropeScaling.factor * ropeScaling.original_max_positions));
  }
};

/// Defaults of generation when generation_config.json is absent or silent:
/// those of transformers' GenerationConfig.
struct GenerationConfig {
  std::vector<int64_t> eosTokenIds;
  int64_t bosTokenId = -1;
  bool doSample = false;
  double temperature = 1.0;
  int64_t topK = 50;
  double topP = 1.0;
  double repetitionPenalty = 1.0;
};

/// Reads MODEL_DIR/config.json; throws InputError naming the file on anything
/// missing, mistyped or unsupported.
ModelConfig loadModelConfig(const std::string &modelDir);

/// Reads MODEL_DIR/generation_config.json if present (eos ids fall back to
/// config.json's eos_token_id).
GenerationConfig loadGenerationConfig(const std::string &modelDir);

} // namespace qwenc
#endif
