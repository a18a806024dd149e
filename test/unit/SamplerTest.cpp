// Each sampling stage against distributions worked out by hand, following
// transformers' RepetitionPenalty, Temperature, TopK, TopP and MinP processors.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace qwenc_rt;

namespace {

SamplingParams plain() {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  return p;
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  std::vector<float> l = {2.0f, -1.0f, 3.0f, 0.5f};
  apply_repetition_penalty(l.data(), 4, {0, 1, 1}, 2.0f); // id 1 twice: penalised once
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  EXPECT_FLOAT_EQ(l[1], -2.0f);
  EXPECT_FLOAT_EQ(l[2], 3.0f);
  EXPECT_FLOAT_EQ(l[3], 0.5f);
}

TEST(Sampler, SoftmaxOfLogLogits) {
  // logits ln(1), ln(2), ln(3), ln(4): probabilities 0.1 0.2 0.3 0.4.
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  sampling_distribution(l.data(), 4, plain());
  EXPECT_NEAR(l[0], 0.1, 1e-6);
  EXPECT_NEAR(l[1], 0.2, 1e-6);
  EXPECT_NEAR(l[2], 0.3, 1e-6);
  EXPECT_NEAR(l[3], 0.4, 1e-6);
}

TEST(Sampler, TemperatureDividesLogits) {
  // T = 0.5 doubles the logits: p ∝ 1, 4, 9, 16 -> /30.
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  SamplingParams p = plain();
  p.temperature = 0.5f;
  sampling_distribution(l.data(), 4, p);
  EXPECT_NEAR(l[0], 1.0 / 30, 1e-6);
  EXPECT_NEAR(l[3], 16.0 / 30, 1e-6);
}

TEST(Sampler, TopKKeepsTheKLargestAndTies) {
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  SamplingParams p = plain();
  p.top_k = 2; // 3 and 4 stay: 3/7, 4/7
  sampling_distribution(l.data(), 4, p);
  EXPECT_EQ(l[0], 0.0f);
  EXPECT_EQ(l[1], 0.0f);
  EXPECT_NEAR(l[2], 3.0 / 7, 1e-6);
  EXPECT_NEAR(l[3], 4.0 / 7, 1e-6);

  std::vector<float> tie = {1.0f, 2.0f, 2.0f, 0.0f};
  p.top_k = 1; // both logits equal to the largest stay
  sampling_distribution(tie.data(), 4, p);
  EXPECT_NEAR(tie[1], 0.5, 1e-6);
  EXPECT_NEAR(tie[2], 0.5, 1e-6);
  EXPECT_EQ(tie[0], 0.0f);
}

TEST(Sampler, TopPDropsTheTailWhoseMassStaysBelowOneMinusP) {
  // p = 0.1 0.2 0.3 0.4. top_p 0.65: cumulative from the smallest 0.1, 0.3,
  // 0.6, 1.0; those <= 0.35 go (0.1 and 0.2): 0.3/0.7 and 0.4/0.7 remain.
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  SamplingParams p = plain();
  p.top_p = 0.65f;
  sampling_distribution(l.data(), 4, p);
  EXPECT_EQ(l[0], 0.0f);
  EXPECT_EQ(l[1], 0.0f);
  EXPECT_NEAR(l[2], 3.0 / 7, 1e-6);
  EXPECT_NEAR(l[3], 4.0 / 7, 1e-6);
}

TEST(Sampler, TopPAlwaysKeepsTheMostLikely) {
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  SamplingParams p = plain();
  p.top_p = 0.01f;
  sampling_distribution(l.data(), 4, p);
  EXPECT_FLOAT_EQ(l[3], 1.0f);
  EXPECT_EQ(l[2], 0.0f);
}

TEST(Sampler, MinPDropsTokensLessLikelyThanAShareOfTheMost) {
  // 0.1 0.2 0.3 0.4 with min_p 0.45: keep >= 0.18 (0.2, 0.3, 0.4 -> 2/9, 3/9, 4/9).
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  SamplingParams p = plain();
  p.min_p = 0.45f;
  sampling_distribution(l.data(), 4, p);
  EXPECT_EQ(l[0], 0.0f);
  EXPECT_NEAR(l[1], 2.0 / 9, 1e-6);
  EXPECT_NEAR(l[3], 4.0 / 9, 1e-6);
}

TEST(Sampler, TopKThenTopP) {
  // top_k 3 leaves 2, 3, 4 (2/9, 3/9, 4/9); top_p 0.7 drops 2/9 <= 0.3.
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  SamplingParams p = plain();
  p.top_k = 3;
  p.top_p = 0.7f;
  sampling_distribution(l.data(), 4, p);
  EXPECT_EQ(l[1], 0.0f);
  EXPECT_NEAR(l[2], 3.0 / 7, 1e-6);
  EXPECT_NEAR(l[3], 4.0 / 7, 1e-6);
}

TEST(Sampler, GreedyIsArgmaxAfterPenalty) {
  std::vector<float> l = {1.0f, 3.0f, 2.5f};
  SamplingParams p;
  p.greedy = true;
  p.repetition_penalty = 1.5f; // 3.0 -> 2.0 for the seen id 1
  Rng rng(1);
  EXPECT_EQ(sample_next(l.data(), 3, {1}, p, rng), 2);
}

// Over more than one block of eight lanes and a tail: the first of equal
// maxima wins, wherever it lies, and a NaN never does.
TEST(Sampler, GreedyTakesTheFirstLargestAndSkipsNaN) {
  SamplingParams p;
  p.greedy = true;
  p.repetition_penalty = 1.0f;
  Rng rng(1);
  for (int at : {0, 7, 8, 19, 20}) {
    std::vector<float> l(21, -1.0f);
    l[size_t(at)] = 5.0f;
    l[20] = 5.0f;
    l[3] = std::nanf("");
    EXPECT_EQ(sample_next(l.data(), 21, {}, p, rng), at) << at;
  }
}

TEST(Sampler, DrawsFollowTheDistributionAndTheSeed) {
  std::vector<int> counts(4, 0);
  Rng rng(1234);
  const std::vector<float> base = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = base;
    counts[size_t(sample_next(l.data(), 4, {}, plain(), rng))]++;
  }
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(counts[size_t(k)] / double(n), 0.1 * (k + 1), 0.01) << k;

  Rng a(99), b(99);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(a.next(), b.next());
}

} // namespace
