// The portable products, as the `cpp` target runs them (this file is built
// without AVX2). Float weights (Dense views of f32, bf16, f16): for every row
// count, linear() gives each row exactly what a one-token dot product gives,
// whether the row went through a tile of four tokens (weights widened once
// for the four) or alone. int8 weights: linear() multiplies them by x
// quantized to int16 rows, in integers, within int16 rounding of the float
// product, for every row count and a width with a partial block. int4
// groups (32, 64, 128): by x quantized to int8 per group, within that
// rounding of the product with the weights as row() reads them back.
// rms_norm: each row against a double reference, one row and many (the rows
// then shared by the threads), with a width that leaves a tail past its
// eight-column steps.
#include "runtime/arch/portable.h"

#include <gtest/gtest.h>

#include <cmath>
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

TEST(PortableKernels, F32TileMatchesDot) { expectTileMatchesDot<float>(); }
TEST(PortableKernels, Bf16TileMatchesDot) { expectTileMatchesDot<bf16>(); }
TEST(PortableKernels, F16TileMatchesDot) { expectTileMatchesDot<f16>(); }

// And the dot product itself against double, so "matches" means "is right".
TEST(PortableKernels, Bf16DotIsAFloatDotProduct) {
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

#ifndef QWENC_AVX2
TEST(PortableKernels, Int8RowsOnInt16Rows) {
  constexpr int N8 = 10, K8 = 320; // two blocks of 128 columns and a partial one
  std::mt19937 rng(6);
  std::uniform_int_distribution<int> qd(-127, 127);
  std::normal_distribution<float> dist;
  std::vector<int8_t> q(size_t(N8) * K8);
  std::vector<float> scale(N8), x(size_t(kMaxRows) * K8), y(size_t(kMaxRows) * N8);
  for (int8_t &v : q)
    v = int8_t(qd(rng));
  for (float &v : scale)
    v = 0.01f + 0.001f * float(&v - scale.data());
  for (float &v : x)
    v = dist(rng);
  const Int8Rows<K8> view{q.data(), scale.data()};
  static_assert(std::is_same_v<Int8Rows<K8>::Input, QuantRows<int16_t>>, "the portable int8 path");
  for (int rows = 1; rows <= kMaxRows; ++rows) {
    linear<N8, K8>(x.data(), view, static_cast<const float *>(nullptr), rows, y.data());
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N8; ++n) {
        double expect = 0, bound = 0;
        for (int k = 0; k < K8; ++k) {
          expect += double(q[size_t(n) * K8 + k]) * x[size_t(r) * K8 + k];
          bound += std::fabs(double(q[size_t(n) * K8 + k]));
        }
        expect *= scale[size_t(n)];
        // x is rounded to a step of max|x| / 32767: each product is off by at
        // most half a step (an indexing mistake is O(1) of the output).
        double amax = 0;
        for (int k = 0; k < K8; ++k)
          amax = std::max(amax, std::fabs(double(x[size_t(r) * K8 + k])));
        bound *= scale[size_t(n)] * 0.5 * amax / 32767 * 1.01;
        ASSERT_NEAR(y[size_t(r) * N8 + n], expect, bound + 1e-5 * std::fabs(expect))
            << rows << " rows, row " << r << ", column " << n;
      }
  }
}

template <int G>
void expectInt4WithinRounding() {
  constexpr int N4 = 12, K4 = 256;
  std::mt19937 rng(7 + G);
  std::uniform_int_distribution<int> bytes(0, 255);
  std::normal_distribution<float> dist;
  std::vector<uint8_t> q(size_t(N4) * K4 / 2);
  std::vector<float> scale(size_t(N4) * K4 / G), x(size_t(kMaxRows) * K4), y(size_t(kMaxRows) * N4), w(K4);
  for (uint8_t &b : q)
    b = uint8_t(bytes(rng));
  for (float &v : scale)
    v = 0.01f * (1.0f + std::fabs(dist(rng)));
  for (float &v : x)
    v = dist(rng);
  const Int4Groups<K4, G> view{q.data(), scale.data()};
  for (int rows = 1; rows <= kMaxRows; ++rows) {
    linear<N4, K4>(x.data(), view, static_cast<const float *>(nullptr), rows, y.data());
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N4; ++n) {
        view.row(n, w.data());
        const float *xr = x.data() + size_t(r) * K4;
        double expect = 0, bound = 0;
        for (int g = 0; g < K4 / G; ++g) {
          double amax = 0, wsum = 0;
          for (int k = g * G; k < (g + 1) * G; ++k) {
            expect += double(w[size_t(k)]) * xr[k];
            amax = std::max(amax, std::fabs(double(xr[k])));
            wsum += std::fabs(double(w[size_t(k)]));
          }
          bound += wsum * 0.5 * amax / 127; // half an int8 step of the group's x
        }
        ASSERT_NEAR(y[size_t(r) * N4 + n], expect, bound * 1.01 + 1e-5)
            << "G " << G << ", " << rows << " rows, row " << r << ", column " << n;
      }
  }
}

TEST(PortableKernels, Int4GroupsOnInt8Groups) {
  expectInt4WithinRounding<32>();
  expectInt4WithinRounding<64>();
  expectInt4WithinRounding<128>();
}
#endif

TEST(PortableKernels, RmsNormEveryRowMatchesDouble) {
  constexpr int H = 804; // 100 steps of 8, and a tail of 4
  constexpr double eps = 1e-6;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> x(size_t(13) * H), w(H);
  for (float &v : x)
    v = dist(rng);
  for (float &v : w)
    v = 1.0f + 0.1f * dist(rng);
  set_num_threads(2);
  for (int rows : {1, 13}) {
    std::vector<float> out(size_t(rows) * H, 0.0f);
    rms_norm<H>(x.data(), w.data(), eps, rows, out.data());
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int c = 0; c < H; ++c)
        ss += double(x[size_t(r) * H + c]) * x[size_t(r) * H + c];
      const double scale = 1.0 / std::sqrt(ss / H + eps);
      for (int c = 0; c < H; ++c) {
        const double expect = x[size_t(r) * H + c] * scale * w[c];
        ASSERT_NEAR(out[size_t(r) * H + c], expect, 1e-6 * std::fabs(expect) + 1e-7)
            << rows << " rows, row " << r << ", column " << c;
      }
    }
  }
  set_num_threads(1);
}

} // namespace
