// Next-token choice as transformers' generate() makes it: repetition penalty,
// then temperature, top-k and top-p, then a draw from the softmax.
#ifndef QWENC_SAMPLER_H
#define QWENC_SAMPLER_H

#include <cstdint>
#include <vector>

namespace qwenc_rt {

struct SamplingParams {
  bool greedy = false;       // argmax after the penalty; ignores the rest
  float temperature = 1.0f;  // 0 means greedy
  int top_k = 50;            // 0 disables
  float top_p = 1.0f;        // 1 disables
  float repetition_penalty = 1.0f;
  float min_p = 0.0f;        // keep tokens at least min_p times as likely as the most likely; 0 disables
};

/// Deterministic for a given seed on every platform (own generator).
class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next(); // splitmix64
  double uniform(); // [0, 1) with 53 random bits

private:
  uint64_t state_;
};

/// RepetitionPenaltyLogitsProcessor: every id already in the sequence has its
/// logit divided by the penalty if positive, multiplied if negative.
void apply_repetition_penalty(float *logits, int vocab, const std::vector<int32_t> &seen,
                              float penalty);

/// Turns logits into the probabilities the draw uses, in place: temperature,
/// top-k, top-p, min-p (min_tokens_to_keep = 1) and softmax; removed tokens get 0.
void sampling_distribution(float *logits, int vocab, const SamplingParams &p);

/// The whole step: penalty, then argmax (greedy) or a draw.
int32_t sample_next(float *logits, int vocab, const std::vector<int32_t> &seen,
                    const SamplingParams &p, Rng &rng);

} // namespace qwenc_rt
#endif
