// RoPE's frequencies: the one home of the formulas that the compiler (which
// writes each model's table into its code) and the AX630C emulated engine
// use. Plain RoPE: inv_freq[i] = theta^(-2i/D). YaRN, as Hugging Face
// transformers' _compute_yarn_parameters does it (static: the same scaling
// at every length, as vLLM): with s = factor, L = the original window,
//   extrapolation[i] = theta^(-2i/D), interpolation[i] = extrapolation[i] / s,
//   corr_dim(r) = D ln(L / (2 pi r)) / (2 ln theta),
//   low = max(floor(corr_dim(beta_fast)), 0), high = min(ceil(corr_dim(beta_slow)), D - 1)
//   (high += 0.001 where they meet), ramp[i] = clamp((i - low) / (high - low), 0, 1),
//   inv_freq[i] = interpolation[i] ramp[i] + extrapolation[i] (1 - ramp[i]),
// and cos and sin are both multiplied by the attention factor
// (0.1 ln s + 1 unless the config gives one).
#ifndef QWENC_ROPE_H
#define QWENC_ROPE_H

#include <algorithm>
#include <cmath>
#include <vector>

namespace qwenc_rt::rotary {

/// rope_scaling of config.json; factor 0 means none.
struct Scaling {
  double factor = 0;
  double original_max_positions = 0; // L
  double beta_fast = 32, beta_slow = 1;
  double attention_factor = 0; // 0: 0.1 ln(factor) + 1
};

inline double attention_factor(const Scaling &s) {
  if (s.factor <= 0)
    return 1.0;
  if (s.attention_factor > 0)
    return s.attention_factor;
  return s.factor <= 1 ? 1.0 : 0.1 * std::log(s.factor) + 1.0;
}

/// The D/2 inverse frequencies of a head of D columns.
inline std::vector<double> inv_freq(int D, double theta, const Scaling &s) {
  std::vector<double> f(size_t(D / 2));
  for (int i = 0; i < D / 2; ++i)
    f[size_t(i)] = std::pow(theta, -2.0 * i / D);
  if (s.factor <= 0)
    return f;
  const double pi = 3.14159265358979323846;
  auto corr_dim = [&](double r) { return D * std::log(s.original_max_positions / (2 * pi * r)) / (2 * std::log(theta)); };
  const double low = std::max(std::floor(corr_dim(s.beta_fast)), 0.0);
  double high = std::min(std::ceil(corr_dim(s.beta_slow)), double(D - 1));
  if (low == high)
    high += 0.001;
  for (int i = 0; i < D / 2; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    f[size_t(i)] = f[size_t(i)] / s.factor * ramp + f[size_t(i)] * (1 - ramp);
  }
  return f;
}

} // namespace qwenc_rt::rotary
#endif
