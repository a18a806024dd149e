// The C++ matrix kernels compiled as the x86-64-avx2 target compiles them
// (this file is built with -mavx2 -mfma; the target's int8 and int4 products
// are Halide kernels, tested in HalideKernelTest.cpp) against a
// double-precision product of the same packed weights: every tiling path —
// weight-row pairs, token blocks and their remainders, one token (decode) —
// for int8 rows and int4 groups.
#include "runtime/arch/x86-64/kernels.h"
#include "targets/common/WeightPacking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qwenc;

namespace {

constexpr int N = 21, K = 256; // N odd: a weight row left over after the pairs and tiles

struct Case {
  std::vector<float> w, x;
  TensorRef tensor;
  Case() {
    std::mt19937 rng(9);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    w.resize(N * K);
    x.resize(13 * K);
    for (float &v : w)
      v = 0.05f * dist(rng);
    for (float &v : x)
      v = dist(rng);
    tensor = {"w", DType::F32, {N, K}, reinterpret_cast<const uint8_t *>(w.data()), w.size() * 4, "test"};
  }
};

/// linear() over `rows` tokens against sum_k row(n)[k] * x[k] in double;
/// returns the largest error relative to the largest |output|.
template <typename View>
double relativeError(const View &view, const std::vector<float> &x, int rows) {
  std::vector<float> y(size_t(rows) * N), wrow(K);
  qwenc_rt::linear<N, K>(x.data(), view, static_cast<const float *>(nullptr), rows, y.data());
  double maxErr = 0, maxOut = 0;
  for (int n = 0; n < N; ++n) {
    view.row(n, wrow.data());
    for (int r = 0; r < rows; ++r) {
      double expect = 0;
      for (int k = 0; k < K; ++k)
        expect += double(wrow[size_t(k)]) * x[size_t(r * K + k)];
      maxErr = std::max(maxErr, std::fabs(expect - y[size_t(r * N + n)]));
      maxOut = std::max(maxOut, std::fabs(expect));
    }
  }
  return maxErr / maxOut;
}

bool hostHasAvx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// int8 rows multiply int16 activations (one scale per row: a step of
// 1/32767 of the row's largest), on every target.
TEST(MatmulKernels, Int8RowsInt16Activations) {
  if (!hostHasAvx2())
    GTEST_SKIP() << "no AVX2/FMA on this CPU";
  Case c;
  PackedWeight p = packRows({&c.tensor}, Storage::Int8, K);
  qwenc_rt::Int8Rows<K> view{reinterpret_cast<const int8_t *>(p.bytes.data()),
                             reinterpret_cast<const float *>(p.bytes.data() + p.scalesOffset)};
  for (int rows : {1, 5, 6, 13}) // decode; a block of six with and without remainders
    EXPECT_LT(relativeError(view, c.x, rows), 1e-4) << rows << " rows";
}

template <int G>
void checkInt4(const Case &c) {
  PackedWeight p = packRows({&c.tensor}, Storage::Int4, G);
  qwenc_rt::Int4Groups<K, G> view{p.bytes.data(), reinterpret_cast<const float *>(p.bytes.data() + p.scalesOffset)};
  // Activations are int8 per group (about 40 dB): the products carry that error, no more.
  for (int rows : {1, 4, 7, 13})
    EXPECT_LT(relativeError(view, c.x, rows), 2e-2) << "g" << G << ", " << rows << " rows";
}

TEST(MatmulKernels, Int4GroupsInt8Activations) {
  if (!hostHasAvx2())
    GTEST_SKIP() << "no AVX2/FMA on this CPU";
  Case c;
  checkInt4<32>(c);
  checkInt4<64>(c);
  checkInt4<128>(c);
}

/// QuantRows<T>::quantize against lrint(x / scale) element by element, and
/// its block sums, for the int8 (per group) and int16 (per row) inputs.
template <typename T>
void checkQuantRows(const std::vector<float> &x, int rows, int block, int qmax) {
  qwenc_rt::QuantRows<T> q;
  q.quantize(x.data(), rows, K, block, qmax);
  for (int b = 0; b < rows * K / block; ++b) {
    const float *xb = x.data() + size_t(b) * block;
    float amax = 0;
    for (int j = 0; j < block; ++j)
      amax = std::max(amax, std::fabs(xb[j]));
    ASSERT_FLOAT_EQ(q.d[size_t(b)], amax / float(qmax));
    long sum = 0;
    for (int j = 0; j < block; ++j) {
      const long expect = std::lrint(xb[j] * (1.0f / q.d[size_t(b)]));
      ASSERT_EQ(long(q.q[size_t(b) * block + j]), expect) << "block " << b << ", column " << j;
      sum += expect;
    }
    EXPECT_FLOAT_EQ(q.sum8[size_t(b)], 8.0f * q.d[size_t(b)] * float(sum));
  }
}

TEST(MatmulKernels, QuantRowsRoundToNearest) {
  Case c;
  checkQuantRows<int8_t>(c.x, 13, 32, 127);
  checkQuantRows<int8_t>(c.x, 13, 128, 127);
  checkQuantRows<int16_t>(c.x, 13, K, 8191);
}

/// With a span, the int4 kernels' input: the same values and block scales,
/// each column where the int4 weights store theirs.
template <int G>
void checkInterleaved(const std::vector<float> &x, int rows) {
  qwenc_rt::QuantRows<int8_t> natural, interleaved;
  natural.quantize(x.data(), rows, K, G, 127);
  interleaved.quantize(x.data(), rows, K, G, 127, 128);
  EXPECT_EQ(natural.d, interleaved.d);
  EXPECT_EQ(natural.sum8, interleaved.sum8);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < K; ++k)
      ASSERT_EQ(interleaved.q[size_t(r) * K + qwenc_rt::int4::stored_position(k, G)], natural.q[size_t(r) * K + k])
          << "g" << G << ", row " << r << ", column " << k;
}

TEST(MatmulKernels, QuantRowsInterleaveLikeInt4) {
  Case c;
  checkInterleaved<32>(c.x, 13);
  checkInterleaved<64>(c.x, 13);
  checkInterleaved<128>(c.x, 13);
}

// The vector exp behind the gated products' SiLU: within two float ulps of
// exp over the range it does not clamp, finite and >= 0 outside it.
TEST(MatmulKernels, Exp8IsWithinTwoUlps) {
  double worst = 0;
  for (float x = -100.0f; x < 100.0f; x += 0.0037f) {
    alignas(32) float in[8], out[8];
    for (int i = 0; i < 8; ++i)
      in[i] = x + float(i) * 0.0004f;
    _mm256_store_ps(out, qwenc_rt::x86::exp8(_mm256_load_ps(in)));
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(std::isfinite(out[i]) && out[i] >= 0) << in[i];
      if (in[i] >= -87.3f && in[i] <= 88.3f)
        worst = std::max(worst, std::fabs(out[i] - std::exp(double(in[i]))) / std::exp(double(in[i])));
    }
  }
  EXPECT_LT(worst, 2.4e-7);
}

} // namespace
