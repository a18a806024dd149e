// The packed layouts of targets/cpp/WeightPacking and the runtime's weight
// views agree: what a kernel reads back is what the packer meant, and the
// quantization error is what the report says.
#include "runtime/arch/portable.h"
#include "targets/common/WeightPacking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace qwenc;

namespace {

struct Fixture {
  static constexpr int N = 16, K = 256;
  std::vector<float> values;
  TensorRef tensor;
  Fixture() {
    std::mt19937 rng(5);
    std::normal_distribution<float> dist(0.0f, 0.05f);
    values.resize(N * K);
    for (float &v : values)
      v = dist(rng);
    tensor = {"w", DType::F32, {N, K}, reinterpret_cast<const uint8_t *>(values.data()),
              values.size() * 4, "test"};
  }
};

template <typename View>
void checkView(const Fixture &f, const View &view, double snrDb, double minSnr) {
  std::vector<float> row(Fixture::K), x(Fixture::K);
  for (int k = 0; k < Fixture::K; ++k)
    x[size_t(k)] = std::sin(0.1f * k);
  double signal = 0, noise = 0;
  for (int n = 0; n < Fixture::N; ++n) {
    view.row(n, row.data());
    double expect = 0;
    for (int k = 0; k < Fixture::K; ++k) {
      double w = f.values[size_t(n * Fixture::K + k)], e = w - row[size_t(k)];
      signal += w * w;
      noise += e * e;
      expect += double(row[size_t(k)]) * x[size_t(k)];
    }
    EXPECT_NEAR(view.dot(n, x.data()), expect, 1e-4) << "row " << n;
  }
  EXPECT_NEAR(10 * std::log10(signal / noise), snrDb, 1e-6); // the report's number
  EXPECT_GT(snrDb, minSnr);
}

TEST(QuantKernels, Int8RowsReadWhatWasPacked) {
  Fixture f;
  PackedWeight p = packRows({&f.tensor}, Storage::Int8, Fixture::K);
  qwenc_rt::Int8Rows<Fixture::K> view{reinterpret_cast<const int8_t *>(p.bytes.data()),
                                      reinterpret_cast<const float *>(p.bytes.data() + p.scalesOffset)};
  checkView(f, view, p.snrDb[0], 35.0);
}

// The column tiles of int8_layout.h: the packed rows rearranged hold every
// byte once, where the tied table's gather (Int8Tiles::row) finds it.
TEST(QuantKernels, Int8TilesHoldWhatRowsHeld) {
  Fixture f;
  static_assert(Fixture::N % qwenc_rt::int8::kTile == 0, "one whole tile");
  PackedWeight rows = packRows({&f.tensor}, Storage::Int8, Fixture::K);
  PackedWeight tiles = rows;
  int8RowsToTiles(tiles.bytes.data(), Fixture::N, Fixture::K);
  EXPECT_NE(rows.bytes, tiles.bytes);
  const float *scales = reinterpret_cast<const float *>(rows.bytes.data() + rows.scalesOffset);
  qwenc_rt::Int8Rows<Fixture::K> r{reinterpret_cast<const int8_t *>(rows.bytes.data()), scales};
  qwenc_rt::Int8Tiles<Fixture::K> t{reinterpret_cast<const int8_t *>(tiles.bytes.data()), scales};
  std::vector<float> a(Fixture::K), b(Fixture::K);
  for (int n = 0; n < Fixture::N; ++n) {
    r.row(n, a.data());
    t.row(n, b.data());
    EXPECT_EQ(a, b) << "row " << n;
  }
  for (int n = 0; n < Fixture::N; ++n)
    for (int k = 0; k < Fixture::K; ++k)
      ASSERT_EQ(tiles.bytes[size_t(n / 16 * 16 * Fixture::K + k / 2 * 32 + n % 16 * 2 + k % 2)],
                rows.bytes[size_t(n * Fixture::K + k)]);
}

// The int4 column tiles (groups of 128): the same weights and scales.
TEST(QuantKernels, Int4TilesHoldWhatRowsHeld) {
  Fixture f;
  constexpr int G = qwenc_rt::int4::kTileGroup;
  PackedWeight rows = packRows({&f.tensor}, Storage::Int4, G);
  PackedWeight tiles = rows;
  int4RowsToTiles(tiles.bytes.data(), reinterpret_cast<float *>(tiles.bytes.data() + tiles.scalesOffset), Fixture::N,
                  Fixture::K);
  EXPECT_NE(rows.bytes, tiles.bytes);
  qwenc_rt::Int4Groups<Fixture::K, G> r{rows.bytes.data(),
                                        reinterpret_cast<const float *>(rows.bytes.data() + rows.scalesOffset)};
  qwenc_rt::Int4Tiles<Fixture::K, G> t{tiles.bytes.data(),
                                       reinterpret_cast<const float *>(tiles.bytes.data() + tiles.scalesOffset)};
  std::vector<float> a(Fixture::K), b(Fixture::K);
  for (int n = 0; n < Fixture::N; ++n) {
    r.row(n, a.data());
    t.row(n, b.data());
    EXPECT_EQ(a, b) << "row " << n;
  }
}

TEST(QuantKernels, Int4GroupsReadWhatWasPacked) {
  Fixture f;
  for (int g : {32, 64, 128}) {
    PackedWeight p = packRows({&f.tensor}, Storage::Int4, g);
    const float *scales = reinterpret_cast<const float *>(p.bytes.data() + p.scalesOffset);
    if (g == 32)
      checkView(f, qwenc_rt::Int4Groups<Fixture::K, 32>{p.bytes.data(), scales}, p.snrDb[0], 17.0);
    if (g == 64)
      checkView(f, qwenc_rt::Int4Groups<Fixture::K, 64>{p.bytes.data(), scales}, p.snrDb[0], 17.0);
    if (g == 128)
      checkView(f, qwenc_rt::Int4Groups<Fixture::K, 128>{p.bytes.data(), scales}, p.snrDb[0], 17.0);
  }
}

TEST(QuantKernels, Bf16RoundsToNearestEven) {
  float v[3] = {1.0f, 1.00390625f /* halfway: stays 1 */, 1.01171875f /* halfway: up */};
  TensorRef t{"v", DType::F32, {3}, reinterpret_cast<const uint8_t *>(v), 12, "test"};
  PackedWeight p = packRows({&t}, Storage::BF16, 0);
  const auto *h = reinterpret_cast<const qwenc_rt::bf16 *>(p.bytes.data());
  EXPECT_EQ(qwenc_rt::widen(h[0]), 1.0f);
  EXPECT_EQ(qwenc_rt::widen(h[1]), 1.0f);
  EXPECT_EQ(qwenc_rt::widen(h[2]), 1.015625f);
}

} // namespace
