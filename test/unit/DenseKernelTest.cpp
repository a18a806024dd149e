// The portable float products (Dense views of f32, bf16 and f16 weights, as
// the `cpp` target runs them): for every row count, linear() gives each row
// exactly what a one-token dot product gives, whether the row went through a
// tile of four tokens (weights widened once for the four) or alone.
#include "runtime/kernels.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace {

using namespace qwenc_rt;

constexpr int N = 24, K = 96, kMaxRows = 9;

template <typename T>
T fromFloat(float f);
template <>
float fromFloat<float>(float f) { return f; }
template <>
bf16 fromFloat<bf16>(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bf16{uint16_t(bits >> 16)};
}
template <>
f16 fromFloat<f16>(float f) { // any pattern will do: a normal half near f
  return f16{uint16_t(0x3c00 | (uint16_t(std::fabs(f) * 1000) & 0x3ff) | (f < 0 ? 0x8000 : 0))};
}

template <typename T>
void expectTileMatchesDot() {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<T> w(size_t(N) * K);
  for (T &v : w)
    v = fromFloat<T>(dist(rng));
  std::vector<float> x(size_t(kMaxRows) * K), y(size_t(kMaxRows) * N);
  for (float &v : x)
    v = dist(rng);
  const Dense<T, K> view{w.data()};
  for (int rows = 1; rows <= kMaxRows; ++rows) {
    linear<N, K>(x.data(), view, static_cast<const float *>(nullptr), rows, y.data());
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N; ++n)
        ASSERT_EQ(y[size_t(r) * N + n], view.dot(n, x.data() + size_t(r) * K))
            << rows << " rows, row " << r << ", column " << n;
  }
}

TEST(DenseKernels, F32TileMatchesDot) { expectTileMatchesDot<float>(); }
TEST(DenseKernels, Bf16TileMatchesDot) { expectTileMatchesDot<bf16>(); }
TEST(DenseKernels, F16TileMatchesDot) { expectTileMatchesDot<f16>(); }

// And the dot product itself against double, so "matches" means "is right".
TEST(DenseKernels, Bf16DotIsAFloatDotProduct) {
  std::mt19937 rng(4);
  std::normal_distribution<float> dist;
  std::vector<bf16> w(K);
  std::vector<float> x(K);
  double expect = 0, scale = 0;
  for (int k = 0; k < K; ++k) {
    w[size_t(k)] = fromFloat<bf16>(dist(rng));
    x[size_t(k)] = dist(rng);
    expect += double(widen(w[size_t(k)])) * x[size_t(k)];
    scale += std::fabs(double(widen(w[size_t(k)])) * x[size_t(k)]);
  }
  const Dense<bf16, K> view{w.data()};
  EXPECT_NEAR(view.dot(0, x.data()), expect, 1e-6 * scale);
}

} // namespace
