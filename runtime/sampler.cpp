#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

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

namespace {

/// Descending by logit, ties by lower id first, NaN last: a total order, so
/// the in-place sorts and selections (which allocate nothing, unlike
/// stable_sort) are exact.
struct Descending {
  const float *logits;
  static float key(float v) { return std::isnan(v) ? -INFINITY : v; }
  bool operator()(int32_t a, int32_t b) const {
    const float ka = key(logits[a]), kb = key(logits[b]);
    return ka > kb || (ka == kb && a < b);
  }
};

/// TopKLogitsWarper's survivors into `order`, in Descending order: the k
/// first and every other logit equal to the k-th (ties stay). One pass over
/// the vocabulary against a rising threshold (the k-th largest seen so far)
/// instead of a sort of it: candidates below it can never be among the k.
void top_k_survivors(const float *logits, int vocab, int k, std::vector<int32_t> &order) {
  const Descending desc{logits};
  order.clear();
  size_t limit = size_t(std::max(4 * k, 1024));
  float t = -INFINITY; // a candidate's key is >= t
  auto shrink = [&] {
    std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), desc);
    t = Descending::key(logits[order[size_t(k - 1)]]);
    size_t n = size_t(k);
    for (size_t i = n; i < order.size(); ++i)
      if (Descending::key(logits[order[i]]) >= t)
        order[n++] = order[i];
    order.resize(n);
    if (order.size() * 2 > limit) // ties fill it: let it grow
      limit *= 2;
  };
  constexpr int kBlock = 16;
  int i = 0;
  for (; i + kBlock <= vocab; i += kBlock) {
    if (t != -INFINITY) { // skip a block none of whose logits reach t (NaN never does)
      bool any = false;
      for (int j = 0; j < kBlock; ++j)
        any |= logits[i + j] >= t;
      if (!any)
        continue;
    }
    for (int j = i; j < i + kBlock; ++j)
      if (Descending::key(logits[j]) >= t)
        order.push_back(j);
    if (order.size() >= limit)
      shrink();
  }
  for (; i < vocab; ++i)
    if (Descending::key(logits[i]) >= t)
      order.push_back(i);
  // The k first; then, as the warper, the others whose raw logit is >= the
  // k-th's (a NaN k-th keeps none).
  std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), desc);
  const float kth = logits[order[size_t(k - 1)]];
  size_t n = size_t(k);
  for (size_t j = n; j < order.size(); ++j)
    if (logits[order[j]] >= kth)
      order[n++] = order[j];
  order.resize(n);
  std::sort(order.begin(), order.end(), desc);
}

/// The survivors of every warper and their probabilities (not yet divided
/// by `sum`): in Descending order, or by id where no warper cuts.
struct Survivors {
  std::vector<int32_t> order;
  std::vector<double> prob;
  std::vector<double> whole; // every token's, by id (top-p without top-k)
  double sum = 0;
  bool by_id = false;
};

void survivors(float *logits, int vocab, const SamplingParams &p, Survivors &s) {
  if (p.temperature != 1.0f)
    for (int i = 0; i < vocab; ++i)
      logits[i] /= p.temperature;
  // Room for every token: top-k keeps the ties of its k-th logit (many, with
  // bf16 logits), so the kept count varies from step to step; reserved once,
  // a step allocates nothing.
  s.order.reserve(size_t(vocab));
  s.prob.reserve(size_t(vocab));
  const Descending desc{logits};
  s.by_id = false;
  double sum = 0, cum = 0; // cum: the mass already known to go (top-p)
  bool tail = false;       // sum is every token's, cum the tail's
  bool whole = false;      // s.whole holds every token's probability
  if (p.top_k > 0 && p.top_k < vocab) {
    top_k_survivors(logits, vocab, p.top_k, s.order);
  } else {
    s.order.resize(size_t(vocab));
    std::iota(s.order.begin(), s.order.end(), 0);
    float mx = -INFINITY;
    bool nan = false;
    for (int i = 0; i < vocab; ++i) {
      mx = std::max(mx, Descending::key(logits[i]));
      nan = nan || std::isnan(logits[i]);
    }
    if (p.top_p >= 1.0f && p.min_p <= 0.0f && !nan) {
      // Every token stays: no order needed, the draw walks them by id.
      s.prob.resize(size_t(vocab));
      for (int i = 0; i < vocab; ++i)
        sum += s.prob[size_t(i)] = std::exp(double(logits[i]) - mx);
      s.sum = sum;
      s.by_id = true;
      return;
    }
    // Top-p and min-p cut the least likely: sort only the m most likely, m
    // growing until the tail beyond them is sure to go (a sort of the whole
    // vocabulary took 20 ms).
    size_t m = s.order.size();
    if (!nan) {
      whole = true;
      s.whole.resize(size_t(vocab));
      for (int i = 0; i < vocab; ++i)
        sum += s.whole[size_t(i)] = std::exp(double(logits[i]) - mx);
      for (size_t top = 1024; top < size_t(vocab); top *= 4) {
        std::nth_element(s.order.begin(), s.order.begin() + long(top), s.order.end(), desc);
        double mass = 0, most = 0;
        for (size_t i = top; i < s.order.size(); ++i) {
          mass += s.whole[size_t(s.order[i])];
          most = std::max(most, s.whole[size_t(s.order[i])]);
        }
        if ((p.top_p < 1.0f && mass / sum <= 1.0 - double(p.top_p)) || (p.min_p > 0.0f && most < double(p.min_p))) {
          m = top;
          cum = mass / sum;
          tail = true;
          break;
        }
      }
    }
    s.order.resize(m);
    std::sort(s.order.begin(), s.order.end(), desc);
  }
  int keep = int(s.order.size());
  const float mx = logits[s.order[0]];
  double kept_sum = 0;
  s.prob.resize(size_t(keep));
  for (int i = 0; i < keep; ++i) // (without NaN, `whole` holds them all, with the same mx)
    kept_sum += s.prob[size_t(i)] = whole ? s.whole[size_t(s.order[size_t(i)])]
                                          : std::exp(double(logits[s.order[size_t(i)]]) - mx);
  if (!tail)
    sum = kept_sum;
  if (p.top_p < 1.0f) {
    // TopPLogitsWarper: drop the tokens whose cumulative probability, summed
    // from the least likely, stays <= 1 - top_p; the most likely always stays.
    int cut = keep;
    for (int i = keep - 1; i > 0 && cum <= 1.0 - double(p.top_p); --i) {
      cum += s.prob[size_t(i)] / sum;
      if (cum <= 1.0 - double(p.top_p))
        cut = i;
    }
    keep = cut;
    sum = 0;
    for (int i = 0; i < keep; ++i)
      sum += s.prob[size_t(i)];
  }
  if (p.min_p > 0.0f) {
    // MinPLogitsWarper: drop the tokens less likely than min_p times the most
    // likely one (prob is in descending order).
    int cut = 1;
    while (cut < keep && s.prob[size_t(cut)] >= double(p.min_p) * s.prob[0])
      ++cut;
    keep = cut;
    sum = 0;
    for (int i = 0; i < keep; ++i)
      sum += s.prob[size_t(i)];
  }
  s.order.resize(size_t(keep));
  s.prob.resize(size_t(keep));
  s.sum = sum;
}

thread_local Survivors kept; // between calls: a step allocates nothing

/// The survivors' probabilities written over the logits, every other token 0.
void write_distribution(const Survivors &s, float *logits, int vocab) {
  if (s.by_id) {
    for (int i = 0; i < vocab; ++i)
      logits[i] = float(s.prob[size_t(i)] / s.sum);
    return;
  }
  std::fill(logits, logits + vocab, 0.0f);
  for (size_t i = 0; i < s.order.size(); ++i)
    logits[s.order[i]] = float(s.prob[i] / s.sum);
}

} // namespace

void sampling_distribution(float *logits, int vocab, const SamplingParams &p) {
  survivors(logits, vocab, p, kept);
  write_distribution(kept, logits, vocab);
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
  // The draw walks the survivors by id, adding the probabilities
  // sampling_distribution writes (zeros skipped): a few survivors put in id
  // order, many written out as the distribution.
  Survivors &s = kept;
  survivors(logits, vocab, p, s);
  const double u = rng.uniform();
  double cum = 0;
  int32_t last = 0;
  auto reaches = [&](int32_t id, float q) {
    if (q <= 0.0f)
      return false;
    cum += q;
    last = id;
    return u < cum;
  };
  constexpr size_t kFew = 4096;
  if (!s.by_id && s.order.size() <= kFew) {
    static thread_local std::vector<std::pair<int32_t, float>> few;
    few.clear();
    few.reserve(kFew);
    for (size_t i = 0; i < s.order.size(); ++i)
      few.emplace_back(s.order[i], float(s.prob[i] / s.sum));
    std::sort(few.begin(), few.end());
    for (const auto &[id, q] : few)
      if (reaches(id, q))
        return id;
  } else {
    write_distribution(s, logits, vocab);
    for (int i = 0; i < vocab; ++i)
      if (reaches(i, logits[i]))
        return i;
  }
  return last; // rounding: u beyond the summed mass
}

} // namespace qwenc_rt
