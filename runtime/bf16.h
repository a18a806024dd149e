// bfloat16 conversions: the one home of the rounding rules the compiler's
// packing, the AX630C host and its emulated engine share.
#ifndef QWENC_BF16_H
#define QWENC_BF16_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qwenc_rt {

/// Round to nearest even (what transformers' .to(torch.bfloat16) does).
inline uint16_t bf16_round(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

/// The upper 16 bits (the AX630C embedding file is made so).
inline uint16_t bf16_truncate(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return uint16_t(bits >> 16);
}

inline float bf16_widen(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

} // namespace qwenc_rt
#endif
