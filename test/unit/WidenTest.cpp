// bf16 and f16 weights widen to fp32 exactly: checked for all 65536 bit
// patterns against the value each format defines.
#include "runtime/arch/portable.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {

TEST(Widen, Bf16IsTopHalfOfF32) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float expected;
    uint32_t bits = h << 16;
    std::memcpy(&expected, &bits, 4);
    float got = qwenc_rt::widen(qwenc_rt::bf16{uint16_t(h)});
    uint32_t gotBits;
    std::memcpy(&gotBits, &got, 4);
    ASSERT_EQ(gotBits, bits) << "bf16 0x" << std::hex << h;
  }
}

TEST(Widen, F16MatchesIeeeValueForEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const bool negative = h & 0x8000;
    float got = qwenc_rt::widen(qwenc_rt::f16{uint16_t(h)});
    if (e == 0x1f) {
      if (m == 0)
        ASSERT_TRUE(std::isinf(got) && std::signbit(got) == negative) << h;
      else
        ASSERT_TRUE(std::isnan(got)) << h;
      continue;
    }
    double v = e ? std::ldexp(1.0 + m / 1024.0, e - 15) : std::ldexp(m / 1024.0, -14);
    float expected = float(negative ? -v : v);
    ASSERT_EQ(got, expected) << "f16 0x" << std::hex << h;
    ASSERT_EQ(std::signbit(got), negative) << h;
  }
}

} // namespace
