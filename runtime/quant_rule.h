// How a group of weights becomes integers: the one rule that the compiler's
// packing (targets/common/WeightPacking.cpp) and the AX630C emulated engine's
// fake quantization (runtime/device/ax630c/emulator/) share.
//
// int8: q in [-127, 127], scale = max|w| / 127 (a group is a whole row).
// int4: q in [-8, 7]; the scale is the one of max|w| / {6, 6.25, ..., 8}
// with the least squared error on the group (clipping the largest weight
// can pay).
#ifndef QWENC_QUANT_RULE_H
#define QWENC_QUANT_RULE_H

#include <cmath>
#include <cstdint>

namespace qwenc_rt::quant {

inline int qmin(bool int8) { return int8 ? -127 : -8; }
inline int qmax(bool int8) { return int8 ? 127 : 7; }

/// w / scale rounded and clamped to the format's range.
inline int quantize(float w, float inv_scale, bool int8) {
  long v = std::lrint(w * inv_scale);
  return int(v > qmax(int8) ? qmax(int8) : v < qmin(int8) ? qmin(int8) : v);
}

/// The scale of the n weights of one group.
inline float group_scale(const float *w, int64_t n, bool int8) {
  float amax = 0;
  for (int64_t c = 0; c < n; ++c)
    amax = std::fmax(amax, std::fabs(w[c]));
  float best = amax / 127.0f, best_err = INFINITY;
  for (float d = int8 ? 127.0f : 6.0f; d <= (int8 ? 127.0f : 8.0f); d += 0.25f) {
    const float scale = amax / d, inv = scale > 0 ? 1.0f / scale : 0.0f;
    float err = 0;
    for (int64_t c = 0; c < n; ++c) {
      const float e = w[c] - float(quantize(w[c], inv, int8)) * scale;
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      best = scale;
    }
  }
  return best;
}

} // namespace qwenc_rt::quant
#endif
