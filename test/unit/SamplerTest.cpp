// Each sampling stage against distributions worked out by hand, following
// transformers' RepetitionPenalty, Temperature, TopK, TopP and MinP processors.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

// Top-k selects against a rising threshold, top-p and min-p without top-k
// sort only the most likely; they must keep exactly what a sort of the whole
// vocabulary keeps (top-k: the k first and every tie of the k-th), give the
// same probabilities (top-k: bit for bit; without, the sum over the
// vocabulary is added in another order) and draw the same ids. Logits on a
// coarse grid (many ties, as bf16 logits have), with NaN or infinities,
// over vocabularies of a few blocks up to Qwen's.
TEST(Sampler, CutsMatchAFullSortWithTiesNaNAndInfinities) {
  Rng gen(7);
  for (int vocab : {37, 1000, 151936})
    for (int k : {0, 1, 2, 20, 50, 36}) {
      if (k >= vocab)
        continue;
      for (int trial = 0; trial < 4; ++trial) {
        std::vector<float> l(static_cast<size_t>(vocab));
        const int levels = trial == 0 ? 8 : 4000; // few: ties across the k-th, a flat distribution
        for (float &v : l)
          v = float(int(gen.next() % uint64_t(levels))) / 16.0f;
        l[size_t(gen.next() % uint64_t(vocab))] = -INFINITY;
        if (trial == 0)
          l[size_t(gen.next() % uint64_t(vocab))] = std::nanf("");
        if (trial == 2)
          l[size_t(gen.next() % uint64_t(vocab))] = INFINITY;
        SamplingParams p = plain();
        p.top_k = k;
        p.temperature = 0.7f;
        p.top_p = trial == 1 || trial == 0 ? 0.8f : 1.0f;
        p.min_p = trial == 3 ? 0.05f : 0.0f;

        // The reference: every logit sorted (descending, ties by id, NaN last).
        std::vector<float> t = l;
        for (float &v : t)
          v /= p.temperature;
        auto key = [](float v) { return std::isnan(v) ? -INFINITY : v; };
        std::vector<int32_t> order(static_cast<size_t>(vocab));
        for (int i = 0; i < vocab; ++i)
          order[size_t(i)] = i;
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
          return key(t[a]) > key(t[b]) || (key(t[a]) == key(t[b]) && a < b);
        });
        int keep = k == 0 ? vocab : k;
        while (keep < vocab && t[order[size_t(keep)]] >= t[order[size_t(k - 1)]])
          ++keep;
        std::vector<double> prob(static_cast<size_t>(keep));
        double sum = 0;
        for (int i = 0; i < keep; ++i)
          sum += prob[size_t(i)] = std::exp(double(t[order[size_t(i)]]) - t[order[0]]);
        if (p.top_p < 1.0f) {
          double cum = 0;
          int cut = keep;
          for (int i = keep - 1; i > 0 && (cum += prob[size_t(i)] / sum) <= 1.0 - double(p.top_p); --i)
            cut = i;
          keep = cut;
          sum = 0;
          for (int i = 0; i < keep; ++i)
            sum += prob[size_t(i)];
        }
        if (p.min_p > 0.0f) {
          int cut = 1;
          while (cut < keep && prob[size_t(cut)] >= double(p.min_p) * prob[0])
            ++cut;
          keep = cut;
          sum = 0;
          for (int i = 0; i < keep; ++i)
            sum += prob[size_t(i)];
        }
        std::vector<float> want(static_cast<size_t>(vocab), 0.0f);
        for (int i = 0; i < keep; ++i)
          want[size_t(order[size_t(i)])] = float(prob[size_t(i)] / sum);

        std::vector<float> got = l;
        sampling_distribution(got.data(), vocab, p);
        int differ = 0;
        for (int i = 0; i < vocab; ++i)
          differ += !(std::isnan(got[size_t(i)]) && std::isnan(want[size_t(i)])) && // (+inf: NaN, any sign)
                    (k > 0 ? std::memcmp(&got[size_t(i)], &want[size_t(i)], sizeof(float)) != 0
                           : (got[size_t(i)] == 0) != (want[size_t(i)] == 0) ||
                                 std::fabs(got[size_t(i)] - want[size_t(i)]) > 1e-6f * want[size_t(i)]);
        EXPECT_EQ(differ, 0) << "vocab " << vocab << " k " << k << " trial " << trial;

        // Draws: the reference walks the whole vocabulary by id.
        for (uint64_t seed = 1; seed <= 20; ++seed) {
          Rng a(seed), b(seed);
          std::vector<float> m = l;
          const int32_t id = sample_next(m.data(), vocab, {}, p, a);
          const double u = b.uniform();
          double cum = 0;
          int32_t expect = 0;
          for (int i = 0; i < vocab; ++i) {
            if (want[size_t(i)] <= 0.0f)
              continue;
            cum += want[size_t(i)];
            expect = i;
            if (u < cum)
              break;
          }
          EXPECT_EQ(id, expect) << "vocab " << vocab << " k " << k << " seed " << seed;
        }
      }
    }
}

} // namespace
