#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qwenc_rt {

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

void apply_repetition_penalty(float *logits, int vocab, const std::vector<int32_t> &seen,
                              float penalty) {
  if (penalty == 1.0f)
    return;
  static thread_local std::vector<uint8_t> done; // kept: a step allocates nothing
  done.assign(size_t(vocab), 0);
  for (int32_t id : seen) {
    if (id < 0 || id >= vocab || done[size_t(id)])
      continue;
    done[size_t(id)] = 1;
    float &l = logits[id];
    l = l < 0 ? l * penalty : l / penalty;
  }
}

void sampling_distribution(float *logits, int vocab, const SamplingParams &p) {
  if (p.temperature != 1.0f)
    for (int i = 0; i < vocab; ++i)
      logits[i] /= p.temperature;
  // Kept between calls: a step allocates nothing.
  static thread_local std::vector<int32_t> order;
  static thread_local std::vector<double> prob;
  order.resize(size_t(vocab));
  // Room for every token at once: top-k keeps the ties of its k-th logit
  // (many, with bf16 logits), so the kept count varies from step to step.
  prob.reserve(size_t(vocab));
  std::iota(order.begin(), order.end(), 0);
  // Descending by logit, ties by lower id first, NaN last: a total order, so
  // the in-place sorts (which allocate nothing, unlike stable_sort) are exact.
  auto key = [&](int32_t i) { return std::isnan(logits[i]) ? -INFINITY : logits[i]; };
  auto desc = [&](int32_t a, int32_t b) { return key(a) > key(b) || (key(a) == key(b) && a < b); };
  int keep = vocab;
  if (p.top_k > 0 && p.top_k < vocab) {
    keep = p.top_k;
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), desc);
    // TopKLogitsWarper removes logits below the k-th largest: ties with it stay.
    const float kth = logits[order[size_t(keep - 1)]];
    for (int i = keep; i < vocab; ++i)
      if (logits[order[size_t(i)]] >= kth)
        std::swap(order[size_t(keep++)], order[size_t(i)]);
    std::sort(order.begin(), order.begin() + keep, desc);
  } else {
    std::sort(order.begin(), order.end(), desc);
  }
  const float mx = logits[order[0]];
  double sum = 0;
  prob.resize(size_t(keep));
  for (int i = 0; i < keep; ++i)
    sum += prob[size_t(i)] = std::exp(double(logits[order[size_t(i)]]) - mx);
  if (p.top_p < 1.0f) {
    // TopPLogitsWarper: drop the tokens whose cumulative probability, summed
    // from the least likely, stays <= 1 - top_p; the most likely always stays.
    double cum = 0;
    int cut = keep;
    for (int i = keep - 1; i > 0; --i) {
      cum += prob[size_t(i)] / sum;
      if (cum <= 1.0 - double(p.top_p))
        cut = i;
      else
        break;
    }
    keep = cut;
    sum = 0;
    for (int i = 0; i < keep; ++i)
      sum += prob[size_t(i)];
  }
  if (p.min_p > 0.0f) {
    // MinPLogitsWarper: drop the tokens less likely than min_p times the most
    // likely one (prob is in descending order).
    int cut = 1;
    while (cut < keep && prob[size_t(cut)] >= double(p.min_p) * prob[0])
      ++cut;
    keep = cut;
    sum = 0;
    for (int i = 0; i < keep; ++i)
      sum += prob[size_t(i)];
  }
  // order[0, keep) survive, with their probabilities; the rest get 0.
  std::fill(logits, logits + vocab, 0.0f);
  for (int i = 0; i < keep; ++i)
    logits[order[size_t(i)]] = float(prob[size_t(i)] / sum);
}

int32_t sample_next(float *logits, int vocab, const std::vector<int32_t> &seen,
                    const SamplingParams &p, Rng &rng) {
  apply_repetition_penalty(logits, vocab, seen, p.repetition_penalty);
  if (p.greedy || p.temperature <= 0.0f) {
    // The first index of the largest logit (NaN never wins unless all are):
    // the maximum in eight independent lanes, then where it first occurs;
    // one compare chained on the last was 1 % of a decode step.
    float lane[8];
    for (float &m : lane)
      m = -INFINITY;
    int i = 0;
    for (; i + 8 <= vocab; i += 8)
      for (int j = 0; j < 8; ++j)
        lane[j] = logits[i + j] > lane[j] ? logits[i + j] : lane[j];
    float best = -INFINITY;
    for (float m : lane)
      best = m > best ? m : best;
    for (; i < vocab; ++i)
      best = logits[i] > best ? logits[i] : best;
    for (int k = 0; k < vocab; ++k)
      if (logits[k] == best)
        return k;
    return 0; // every logit NaN
  }
  sampling_distribution(logits, vocab, p);
  double u = rng.uniform(), cum = 0;
  int32_t last = 0;
  for (int i = 0; i < vocab; ++i) {
    if (logits[i] <= 0.0f)
      continue;
    cum += logits[i];
    last = i;
    if (u < cum)
      return i;
  }
  return last; // rounding: u beyond the summed mass
}

} // namespace qwenc_rt
