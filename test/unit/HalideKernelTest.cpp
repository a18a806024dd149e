// The Halide kernels of the x86-64-avx2 target, generated at build time by
// qwenc-kernelgen for small shapes (test/CMakeLists.txt), against double
// references: the int8 decode, batched decode and prefill matrix kernels on
// int16 rows, the int4 ones (groups of 32, 64, 128) on int8 rows per group,
// and the bf16 and f32 ones on float rows (every row count from 1 to 13: the
// prefill kernel's last four tokens overlap the ones before, as a batched
// kernel's last rows do), with bias and gated; and the int8 kernels of
// weights in column tiles, int8 and int4 g128 (tiles=true, runtime/int8_layout.h,
// int4_layout.h). Every kernel is built like a compiled model's, for AVX-512
// with VNNI and for AVX2; each test runs on both variants (the VNNI one where
// the CPU has it), calling each by its own symbol, and two more check that
// Halide's wrapper, which a model calls, runs the variant --isa picks.
#include "runtime/arch/x86-64/halide.h"

#include "test_bf16_batch4.h"
#include "test_bf16_decode.h"
#include "test_bf16_gated_prefill.h"
#include "test_bf16_prefill.h"
#include "test_f32_prefill.h"
#include "test_int4_g128_batch2.h"
#include "test_int4_g128_decode.h"
#include "test_int4_g128_gated_batch4.h"
#include "test_int4_g128_gated_prefill.h"
#include "test_int4_g128_prefill.h"
#include "test_int4_g32_batch4.h"
#include "test_int4_g32_decode.h"
#include "test_int4_g32_prefill.h"
#include "test_int4_g32_prefill_long.h"
#include "test_int4_g64_prefill.h"
#include "test_int8_batch4.h"
#include "test_int8_decode.h"
#include "test_int8_gated_batch3.h"
#include "test_int8_gated_prefill.h"
#include "test_int8_prefill.h"
#include "test_int8t_batch4.h"
#include "test_int8t_decode.h"
#include "test_int8t_gated_batch3.h"
#include "test_int8t_gated_prefill.h"
#include "test_int8t_prefill.h"
#include "test_int4t_batch4.h"
#include "test_int4t_decode.h"
#include "test_int4t_gated_batch3.h"
#include "test_int4t_gated_prefill.h"
#include "test_int4t_prefill.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <cstring>
#include <random>
#include <vector>

// Each kernel's two variants, name-target (Halide's multi-target output;
// quoted for the assembler, the names hold '-').
#define QWENC_MATMUL_PARAMS                                                                                  \
  halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,          \
      halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *
#define QWENC_VARIANTS(name, params)                                                                         \
  extern "C" int name##_vnni(params) __asm__("\"" #name "-" QWENC_HALIDE_TARGET_VNNI "\"");                \
  extern "C" int name##_avx2(params) __asm__("\"" #name "-" QWENC_HALIDE_TARGET_AVX2 "\"");
QWENC_VARIANTS(test_int8_decode, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8_gated_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_bf16_decode, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_bf16_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_bf16_gated_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_f32_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g32_decode, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g32_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g32_prefill_long, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g64_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g128_decode, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g128_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g128_gated_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8_batch4, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8_gated_batch3, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_bf16_batch4, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g32_batch4, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g128_batch2, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4_g128_gated_batch4, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8t_decode, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8t_batch4, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8t_gated_batch3, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8t_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int8t_gated_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4t_decode, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4t_batch4, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4t_gated_batch3, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4t_prefill, QWENC_MATMUL_PARAMS)
QWENC_VARIANTS(test_int4t_gated_prefill, QWENC_MATMUL_PARAMS)

using namespace qwenc_rt;
using namespace qwenc_rt::x86;

namespace {

constexpr int N = 40, K = 256, kMaxRows = 13;
constexpr int kTileN = 48; // the tile kernels' outputs: whole tiles of 16

bool hostHasAvx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

/// `count` draws of `dist`: a fixture's bias or rows of x.
std::vector<float> normals(size_t count, std::mt19937 &rng, std::normal_distribution<float> &dist) {
  std::vector<float> v(count);
  for (float &f : v)
    f = dist(rng);
  return v;
}

struct MatmulCase {
  int cols; // outputs: N, or kTileN for the kernels of weights in column tiles
  std::vector<int8_t> w, w2;
  std::vector<float> scale, scale2, bias, x;
  explicit MatmulCase(int cols = N) : cols(cols) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> q(-127, 127);
    std::normal_distribution<float> dist;
    for (auto *v : {&w, &w2}) {
      v->resize(size_t(cols) * K);
      for (int8_t &b : *v)
        b = int8_t(q(rng));
    }
    for (auto *v : {&scale, &scale2, &bias}) {
      v->resize(size_t(cols));
      for (float &f : *v)
        f = 0.01f * std::fabs(dist(rng)) + 1e-3f;
    }
    x = normals(size_t(kMaxRows) * K, rng, dist);
  }
  /// W[n, :] . x[r, :] in double, from float x (the int16 rows' error included in the bound).
  double dot(const std::vector<int8_t> &m, const std::vector<float> &s, int n, int r) const {
    double acc = 0;
    for (int k = 0; k < K; ++k)
      acc += double(m[size_t(n) * K + k]) * x[size_t(r) * K + k];
    return acc * s[size_t(n)];
  }
  /// The linear product with bias: what the decode and prefill kernels compute.
  double linear(int n, int r) const { return dot(w, scale, n, r) + bias[size_t(n)]; }
  /// The gated product: what the gated kernels compute.
  double gated(int n, int r) const {
    const double g = dot(w, scale, n, r), u = dot(w2, scale2, n, r);
    return g / (1.0 + std::exp(-g)) * u;
  }
};

using Kernel = int (*)(QWENC_MATMUL_PARAMS);

/// One variant of every test kernel.
struct Variant {
  const char *name;
  bool runsHere; // the CPU has its instructions
  Kernel int8_decode, int8_prefill, int8_gated_prefill, bf16_decode, bf16_prefill, bf16_gated_prefill,
      f32_prefill, int4_g32_decode, int4_g32_prefill, int4_g32_prefill_long, int4_g64_prefill, int4_g128_decode,
      int4_g128_prefill, int4_g128_gated_prefill, int8_batch4, int8_gated_batch3, bf16_batch4, int4_g32_batch4,
      int4_g128_batch2, int4_g128_gated_batch4, int8t_decode, int8t_batch4, int8t_gated_batch3, int8t_prefill,
      int8t_gated_prefill, int4t_decode, int4t_batch4, int4t_gated_batch3, int4t_prefill, int4t_gated_prefill;
};
#define QWENC_VARIANT(suffix, runs)                                                                          \
  Variant {                                                                                                  \
    #suffix, runs, test_int8_decode_##suffix, test_int8_prefill_##suffix, test_int8_gated_prefill_##suffix, \
        test_bf16_decode_##suffix, test_bf16_prefill_##suffix, test_bf16_gated_prefill_##suffix,             \
        test_f32_prefill_##suffix, test_int4_g32_decode_##suffix, test_int4_g32_prefill_##suffix,            \
        test_int4_g32_prefill_long_##suffix, test_int4_g64_prefill_##suffix, test_int4_g128_decode_##suffix, \
        test_int4_g128_prefill_##suffix, test_int4_g128_gated_prefill_##suffix, test_int8_batch4_##suffix,   \
        test_int8_gated_batch3_##suffix, test_bf16_batch4_##suffix, test_int4_g32_batch4_##suffix,            \
        test_int4_g128_batch2_##suffix, test_int4_g128_gated_batch4_##suffix, test_int8t_decode_##suffix,     \
        test_int8t_batch4_##suffix, test_int8t_gated_batch3_##suffix, test_int8t_prefill_##suffix,            \
        test_int8t_gated_prefill_##suffix, test_int4t_decode_##suffix, test_int4t_batch4_##suffix,             \
        test_int4t_gated_batch3_##suffix, test_int4t_prefill_##suffix, test_int4t_gated_prefill_##suffix         \
  }
const Variant &variant(const std::string &name) {
  static const Variant avx2 = QWENC_VARIANT(avx2, hostHasAvx2()),
                       vnni = QWENC_VARIANT(vnni, hostHasAvx2() && cpu_runs_vnni_kernels());
  return name == "avx2" ? avx2 : vnni;
}

/// A test of every kernel of one variant (the parameter: avx2 or vnni).
class HalideKernels : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (!variant(GetParam()).runsHere)
      GTEST_SKIP() << "this CPU cannot run the " << GetParam() << " kernels";
  }
  const Variant &k() const { return variant(GetParam()); }
};

/// Halide's heap allocations (halide_malloc) while installed.
std::atomic<int> g_kernelMallocs{0};
void *countingMalloc(void *user_context, size_t bytes) {
  ++g_kernelMallocs;
  return halide_default_malloc(user_context, bytes);
}

/// Counts the heap allocations of the kernels called while it lives: a
/// model calls its kernels on every forward, and generating allocates
/// nothing, so every kernel test expects none.
class KernelMallocs {
public:
  KernelMallocs() : before_(halide_set_custom_malloc(&countingMalloc)) { g_kernelMallocs = 0; }
  ~KernelMallocs() { halide_set_custom_malloc(before_); }
  int count() const { return g_kernelMallocs.load(); }

private:
  halide_malloc_t before_;
};

/// Runs `kernel` on its input buffers over `rows` rows of `cols` outputs;
/// returns the largest error relative to the largest |output| (and the
/// outputs in `outputs` if given). xm_ is x's group sums (int4); the other
/// formats ignore it. The kernel must take nothing from the heap
/// (KernelMallocs).
template <typename Expect>
double runKernel(Kernel kernel, HlBuf &x_, HlBuf &xs_, HlBuf &xm_, HlBuf &w_, HlBuf &s_, HlBuf &w2_, HlBuf &s2_,
                 HlBuf &b_, int rows, Expect expect, int cols = N, std::vector<float> *outputs = nullptr) {
  std::vector<float> y(size_t(rows) * cols);
  HlBuf y_(y.data(), halide_type_float, 32, cols, rows);
  {
    const KernelMallocs mallocs;
    EXPECT_EQ(kernel(&x_.b, &xs_.b, &xm_.b, &w_.b, &s_.b, &w2_.b, &s2_.b, &b_.b, &y_.b), 0);
    EXPECT_EQ(mallocs.count(), 0) << "heap allocations in the kernel, " << rows << " rows";
  }
  double maxErr = 0, maxOut = 0;
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < cols; ++n) {
      const double e = expect(n, r);
      maxErr = std::max(maxErr, std::fabs(e - y[size_t(r) * cols + n]));
      maxOut = std::max(maxOut, std::fabs(e));
    }
  if (outputs)
    *outputs = y;
  return maxErr / maxOut;
}

/// `w` [cols, K] in the column tiles of int8_layout.h.
std::vector<int8_t> inTiles(const std::vector<int8_t> &w, int cols) {
  std::vector<int8_t> t(w.size());
  for (int n = 0; n < cols; ++n)
    for (int k = 0; k < K; ++k)
      t[size_t(int8::tiled_offset(n, k, K))] = w[size_t(n) * K + k];
  return t;
}

/// An int8 kernel on int16 rows of x (int16_rows); with `tiles`, a kernel
/// made with tiles=true, given the weights in column tiles.
template <typename Expect>
double matmulError(const MatmulCase &c, Kernel kernel, int rows, Expect expect,
                   std::vector<float> *outputs = nullptr, bool tiles = false) {
  const int n = c.cols;
  const QuantRows<int16_t> &xq = int16_rows<K>(c.x.data(), rows);
  HlBuf x_(xq.q.data(), halide_type_int, 16, K, rows), xs_(xq.d.data(), halide_type_float, 32, 1, rows);
  HlBuf xm_(xq.d.data(), halide_type_float, 32, 1, 1);
  const std::vector<int8_t> w = tiles ? inTiles(c.w, n) : c.w, w2 = tiles ? inTiles(c.w2, n) : c.w2;
  const int wx = tiles ? int8::kTile * K : K, wy = tiles ? n / int8::kTile : n;
  HlBuf w_(w.data(), halide_type_int, 8, wx, wy), s_(c.scale.data(), halide_type_float, 32, 1, n);
  HlBuf w2_(w2.data(), halide_type_int, 8, wx, wy), s2_(c.scale2.data(), halide_type_float, 32, 1, n);
  HlBuf b_(c.bias.data(), halide_type_float, 32, n);
  return runKernel(kernel, x_, xs_, xm_, w_, s_, w2_, s2_, b_, rows, expect, n, outputs);
}

// x as int16 rows: about 2e-5 relative here; an indexing mistake is O(1).
constexpr double kInt16Bound = 2e-4;

TEST_P(HalideKernels, Int8DecodeWithBias) {
  MatmulCase c;
  for (int rows : {1, 2, 3})
    EXPECT_LT(matmulError(c, k().int8_decode, rows, [&](int n, int r) { return c.linear(n, r); }), kInt16Bound)
        << rows << " rows";
}

TEST_P(HalideKernels, Int8PrefillEveryRowCount) {
  MatmulCase c;
  for (int rows = 4; rows <= kMaxRows; ++rows)
    EXPECT_LT(matmulError(c, k().int8_prefill, rows, [&](int n, int r) { return c.linear(n, r); }), kInt16Bound)
        << rows << " rows";
}

// Batched decode: every row count from the batch up (the last rows overlap
// the ones before), gated too; and each row's outputs exactly those of the
// decode kernel on that row alone, as the server relies on (a sequence's
// answer does not depend on the others decoded with it).
TEST_P(HalideKernels, Int8BatchedDecodeEveryRowCount) {
  MatmulCase c;
  for (int rows = 4; rows <= kMaxRows; ++rows)
    EXPECT_LT(matmulError(c, k().int8_batch4, rows, [&](int n, int r) { return c.linear(n, r); }), kInt16Bound)
        << rows << " rows";
  for (int rows : {3, 5, 8})
    EXPECT_LT(matmulError(c, k().int8_gated_batch3, rows,
                          [&](int n, int r) { return c.gated(n, r); }),
              kInt16Bound)
        << rows << " rows, gated";
  const auto linear = [&](int n, int r) { return c.linear(n, r); };
  std::vector<float> batched, alone;
  matmulError(c, k().int8_batch4, 6, linear, &batched);
  for (int r = 0; r < 6; ++r) {
    MatmulCase one = c;
    one.x.assign(c.x.begin() + long(r) * K, c.x.begin() + long(r + 1) * K);
    matmulError(one, k().int8_decode, 1, linear, &alone);
    EXPECT_TRUE(std::equal(alone.begin(), alone.end(), batched.begin() + long(r) * N)) << "row " << r;
  }
}

TEST_P(HalideKernels, Int8GatedPrefill) {
  MatmulCase c;
  for (int rows : {4, 7, 13})
    EXPECT_LT(matmulError(c, k().int8_gated_prefill, rows,
                          [&](int n, int r) { return c.gated(n, r); }),
              kInt16Bound)
        << rows << " rows";
}

// Weights in column tiles (tiles=true, the x86 target's int8 layout): the
// decode, batched and prefill kernels (the prefill's tiles take 8 rows with
// VNNI, 4 with AVX2: from 8, as prefillRows gives them), gated too; a
// batched row's outputs are exactly the decode kernel's on that row alone.
TEST_P(HalideKernels, Int8TilesEveryKernel) {
  MatmulCase c(kTileN);
  const auto linear = [&](int n, int r) { return c.linear(n, r); };
  const auto gated = [&](int n, int r) { return c.gated(n, r); };
  for (int rows : {1, 2, 3})
    EXPECT_LT(matmulError(c, k().int8t_decode, rows, linear, nullptr, true), kInt16Bound) << rows << " rows";
  for (int rows = 4; rows <= kMaxRows; ++rows)
    EXPECT_LT(matmulError(c, k().int8t_batch4, rows, linear, nullptr, true), kInt16Bound) << rows << " rows";
  for (int rows : {3, 5, 8})
    EXPECT_LT(matmulError(c, k().int8t_gated_batch3, rows, gated, nullptr, true), kInt16Bound)
        << rows << " rows, gated";
  for (int rows = 8; rows <= kMaxRows; ++rows)
    EXPECT_LT(matmulError(c, k().int8t_prefill, rows, linear, nullptr, true), kInt16Bound) << rows << " rows";
  for (int rows : {8, 13})
    EXPECT_LT(matmulError(c, k().int8t_gated_prefill, rows, gated, nullptr, true), kInt16Bound)
        << rows << " rows, gated";
  std::vector<float> batched, alone;
  matmulError(c, k().int8t_batch4, 6, linear, &batched, true);
  for (int r = 0; r < 6; ++r) {
    MatmulCase one = c;
    one.x.assign(c.x.begin() + long(r) * K, c.x.begin() + long(r + 1) * K);
    matmulError(one, k().int8t_decode, 1, linear, &alone, true);
    EXPECT_TRUE(std::equal(alone.begin(), alone.end(), batched.begin() + long(r) * kTileN)) << "row " << r;
  }
}

/// Float weights: w as f32, and as bf16 (wb) holding the same values (each
/// f32 weight is a bf16 value), against the same double reference.
struct FloatMatmulCase {
  std::vector<float> w, w2, bias, x;
  std::vector<uint16_t> wb, w2b;
  FloatMatmulCase() {
    std::mt19937 rng(9);
    std::normal_distribution<float> dist;
    for (auto [f, b] : {std::pair{&w, &wb}, std::pair{&w2, &w2b}}) {
      f->resize(size_t(N) * K);
      b->resize(f->size());
      for (size_t i = 0; i < f->size(); ++i) {
        uint32_t bits;
        const float v = 0.05f * dist(rng);
        std::memcpy(&bits, &v, 4);
        (*b)[i] = uint16_t(bits >> 16);
        bits &= 0xffff0000u;
        std::memcpy(&(*f)[i], &bits, 4);
      }
    }
    bias = normals(N, rng, dist);
    x = normals(size_t(kMaxRows) * K, rng, dist);
  }
  double dot(const std::vector<float> &m, int n, int r) const {
    double acc = 0;
    for (int k = 0; k < K; ++k)
      acc += double(m[size_t(n) * K + k]) * x[size_t(r) * K + k];
    return acc;
  }
  double linear(int n, int r) const { return dot(w, n, r) + bias[size_t(n)]; }
  double gated(int n, int r) const {
    const double g = dot(w, n, r), u = dot(w2, n, r);
    return g / (1.0 + std::exp(-g)) * u;
  }
};

/// A float-weight kernel (bf16 or f32 weights) on float rows of x.
template <typename Expect>
double floatMatmulError(const FloatMatmulCase &c, Kernel kernel, bool bf16, int rows, Expect expect) {
  std::vector<float> none(1);
  HlBuf x_(c.x.data(), halide_type_float, 32, K, rows), xs_(none.data(), halide_type_float, 32, 1, 1),
      xm_(none.data(), halide_type_float, 32, 1, 1);
  const halide_type_code_t code = bf16 ? halide_type_uint : halide_type_float;
  const int bits = bf16 ? 16 : 32;
  const void *w = bf16 ? static_cast<const void *>(c.wb.data()) : c.w.data();
  const void *w2 = bf16 ? static_cast<const void *>(c.w2b.data()) : c.w2.data();
  HlBuf w_(w, code, bits, K, N), w2_(w2, code, bits, K, N), s_(none.data(), halide_type_float, 32, 1, 1),
      s2_(none.data(), halide_type_float, 32, 1, 1);
  HlBuf b_(c.bias.data(), halide_type_float, 32, N);
  return runKernel(kernel, x_, xs_, xm_, w_, s_, w2_, s2_, b_, rows, expect);
}

// float sums of 256 products: about 1e-7 relative; an indexing mistake is O(1).
constexpr double kFloatBound = 1e-5;

TEST_P(HalideKernels, FloatDecodeAndPrefillEveryRowCount) {
  FloatMatmulCase c;
  auto linear = [&](int n, int r) { return c.linear(n, r); };
  for (int rows = 1; rows <= 3; ++rows)
    EXPECT_LT(floatMatmulError(c, k().bf16_decode, true, rows, linear), kFloatBound) << rows << " rows";
  for (int rows = 4; rows <= kMaxRows; ++rows) {
    EXPECT_LT(floatMatmulError(c, k().bf16_prefill, true, rows, linear), kFloatBound) << rows << " rows, bf16";
    EXPECT_LT(floatMatmulError(c, k().f32_prefill, false, rows, linear), kFloatBound) << rows << " rows, f32";
  }
  for (int rows = 4; rows <= kMaxRows; ++rows)
    EXPECT_LT(floatMatmulError(c, k().bf16_batch4, true, rows, linear), kFloatBound) << rows << " rows, batched";
  for (int rows : {4, 7, 13})
    EXPECT_LT(floatMatmulError(c, k().bf16_gated_prefill, true, rows, [&](int n, int r) { return c.gated(n, r); }),
              kFloatBound)
        << rows << " rows, gated";
}

/// int4 weights (random bytes: stored q + 8 in Int4Groups' layout), one
/// scale per group, on x quantized as the model quantizes it for them
/// (prepare_rows: int8 per group, in the weights' interleaved order).
template <int K, int N = 300>
struct Int4CaseK {
  static constexpr int N4 = N, K4 = K;
  std::vector<uint8_t> w, w2;
  std::vector<float> bias, x;
  std::vector<std::vector<float>> scale, scale2; // per group size 32, 64, 128
  Int4CaseK() {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> byte(0, 255);
    std::normal_distribution<float> dist;
    for (auto *v : {&w, &w2}) {
      v->resize(size_t(N4) * K4 / 2);
      for (uint8_t &b : *v)
        b = uint8_t(byte(rng));
    }
    for (auto *s : {&scale, &scale2})
      for (int g : {32, 64, 128}) {
        s->emplace_back(size_t(N4) * K4 / g);
        for (float &f : s->back())
          f = 0.01f * std::fabs(dist(rng)) + 1e-3f;
      }
    bias = normals(N4, rng, dist);
    x = normals(size_t(kMaxRows) * K4, rng, dist);
  }
  static int slot(int G) { return G == 32 ? 0 : G == 64 ? 1 : 2; }
};
using Int4Case = Int4CaseK<384>;

/// W[n, :] . xq[r, :] in double, from the int4 weights and the int8 rows the
/// kernel reads: exact but for float rounding, so that any misplaced column,
/// lane, group or scale shows as an O(1) error.
template <int G, int K4>
double int4Dot(const std::vector<uint8_t> &w, const std::vector<float> &scale, const QuantRows<int8_t> &xq, int n,
               int r) {
  const Int4Groups<K4, G> view{w.data(), scale.data()};
  double acc = 0;
  for (int g = 0; g < K4 / G; ++g) {
    double sum = 0;
    for (int k = g * G; k < (g + 1) * G; ++k)
      sum += double(view.at(n, k)) * xq.q[size_t(r) * K4 + int4::stored_position(k, G)];
    acc += sum * scale[size_t(n) * (K4 / G) + g] * xq.d[size_t(r) * (K4 / G) + g];
  }
  return acc;
}

/// Int4Groups' g128 rows ([N4][K4 / 2] bytes, scales [N4][K4 / 128]) in the
/// column tiles of int4_layout.h.
template <int K4>
std::pair<std::vector<uint8_t>, std::vector<float>> int4Tiles(const std::vector<uint8_t> &w,
                                                              const std::vector<float> &scale, int n4) {
  constexpr int G = int4::kTileGroup, groups = K4 / G;
  const Int4Groups<K4, G> view{w.data(), scale.data()};
  std::vector<uint8_t> t(w.size(), 0);
  std::vector<float> ts(scale.size());
  for (int n = 0; n < n4; ++n) {
    for (int k = 0; k < K4; ++k) {
      const uint8_t v = uint8_t(view.at(n, k) + int4::kOffset);
      t[size_t(int4::tiled_byte(n, k, K4))] |= int4::tiled_high(k) ? uint8_t(v << 4) : v;
    }
    for (int g = 0; g < groups; ++g)
      ts[size_t(int4::tiled_scale(n, g, groups))] = scale[size_t(n * groups + g)];
  }
  return {t, ts};
}

/// An int4 kernel against int4Dot; with `tiles` (groups of 128), a kernel
/// made with tiles=true, given the weights and scales in column tiles.
template <int G, int K4, int N4>
double int4Error(const Int4CaseK<K4, N4> &c, Kernel kernel, int rows, bool gated, std::vector<float> *outputs = nullptr,
                 bool tiles = false) {
  const QuantRows<int8_t> &xq = *prepare_rows<K4, Int4Groups<K4, G>>(c.x.data(), rows);
  const std::vector<float> &s = c.scale[size_t(c.slot(G))], &s2 = c.scale2[size_t(c.slot(G))];
  HlBuf x_(xq.q.data(), halide_type_int, 8, K4, rows), xs_(xq.d.data(), halide_type_float, 32, K4 / G, rows),
      xm_(xq.sum8.data(), halide_type_float, 32, K4 / G, rows);
  std::vector<uint8_t> w = c.w, w2 = c.w2;
  std::vector<float> ws = s, ws2 = s2;
  int wx = K4 / 2, wy = N4, sx = K4 / G;
  if (tiles) {
    std::tie(w, ws) = int4Tiles<K4>(c.w, s, N4);
    std::tie(w2, ws2) = int4Tiles<K4>(c.w2, s2, N4);
    wx *= int4::kTileRows, sx *= int4::kTileRows, wy /= int4::kTileRows;
  }
  HlBuf w_(w.data(), halide_type_uint, 8, wx, wy), s_(ws.data(), halide_type_float, 32, sx, wy);
  HlBuf w2_(w2.data(), halide_type_uint, 8, wx, wy), s2_(ws2.data(), halide_type_float, 32, sx, wy);
  HlBuf b_(c.bias.data(), halide_type_float, 32, N4);
  return runKernel(
      kernel, x_, xs_, xm_, w_, s_, w2_, s2_, b_, rows,
      [&](int n, int r) {
        const double a = int4Dot<G, K4>(c.w, s, xq, n, r);
        if (!gated)
          return a + c.bias[size_t(n)];
        return a / (1.0 + std::exp(-a)) * int4Dot<G, K4>(c.w2, s2, xq, n, r);
      },
      N4, outputs);
}

// int4 g128 weights in column tiles (tiles=true): every kernel, gated too;
// a batched row's outputs the decode kernel's on that row alone but for
// float rounding (as for rows, below: a multiply and add fused in one
// kernel and not the other).
TEST_P(HalideKernels, Int4TilesEveryKernel) {
  Int4CaseK<384, 304> c;
  for (int rows : {1, 2, 3})
    EXPECT_LT(int4Error<128>(c, k().int4t_decode, rows, false, nullptr, true), kFloatBound) << rows << " rows";
  for (int rows = 4; rows <= kMaxRows; ++rows)
    EXPECT_LT(int4Error<128>(c, k().int4t_batch4, rows, false, nullptr, true), kFloatBound) << rows << " rows";
  for (int rows : {3, 5, 8})
    EXPECT_LT(int4Error<128>(c, k().int4t_gated_batch3, rows, true, nullptr, true), kFloatBound)
        << rows << " rows, gated";
  for (int rows = 8; rows <= kMaxRows; ++rows)
    EXPECT_LT(int4Error<128>(c, k().int4t_prefill, rows, false, nullptr, true), kFloatBound) << rows << " rows";
  for (int rows : {8, 13})
    EXPECT_LT(int4Error<128>(c, k().int4t_gated_prefill, rows, true, nullptr, true), kFloatBound)
        << rows << " rows, gated";
  std::vector<float> batched, alone;
  int4Error<128>(c, k().int4t_batch4, 6, false, &batched, true);
  for (int r = 0; r < 6; ++r) {
    Int4CaseK<384, 304> one = c;
    one.x.assign(c.x.begin() + long(r) * 384, c.x.begin() + long(r + 1) * 384);
    int4Error<128>(one, k().int4t_decode, 1, false, &alone, true);
    double most = 0, largest = 0;
    for (int n = 0; n < 304; ++n) {
      most = std::max(most, std::fabs(double(alone[size_t(n)]) - batched[size_t(r) * 304 + n]));
      largest = std::max(largest, std::fabs(double(alone[size_t(n)])));
    }
    EXPECT_LT(most, 1e-6 * largest) << "row " << r;
  }
}

TEST_P(HalideKernels, Int4DecodeAndPrefillEveryRowCount) {
  Int4Case c;
  for (int rows = 1; rows <= 3; ++rows) {
    EXPECT_LT(int4Error<32>(c, k().int4_g32_decode, rows, false), kFloatBound) << rows << " rows, g32";
    EXPECT_LT(int4Error<128>(c, k().int4_g128_decode, rows, false), kFloatBound) << rows << " rows, g128";
  }
  for (int rows = 4; rows <= kMaxRows; ++rows) {
    EXPECT_LT(int4Error<32>(c, k().int4_g32_prefill, rows, false), kFloatBound) << rows << " rows, g32";
    EXPECT_LT(int4Error<64>(c, k().int4_g64_prefill, rows, false), kFloatBound) << rows << " rows, g64";
    EXPECT_LT(int4Error<128>(c, k().int4_g128_prefill, rows, false), kFloatBound) << rows << " rows, g128";
  }
  for (int rows : {4, 7, 13})
    EXPECT_LT(int4Error<128>(c, k().int4_g128_gated_prefill, rows, true), kFloatBound) << rows << " rows, gated";
}

TEST_P(HalideKernels, Int4BatchedDecodeEveryRowCount) {
  Int4Case c;
  for (int rows = 4; rows <= kMaxRows; ++rows)
    EXPECT_LT(int4Error<32>(c, k().int4_g32_batch4, rows, false), kFloatBound) << rows << " rows, g32";
  for (int rows = 2; rows <= kMaxRows; ++rows)
    EXPECT_LT(int4Error<128>(c, k().int4_g128_batch2, rows, false), kFloatBound) << rows << " rows, g128";
  for (int rows : {4, 6, 13})
    EXPECT_LT(int4Error<128>(c, k().int4_g128_gated_batch4, rows, true), kFloatBound) << rows << " rows, gated";
  // Each row's outputs the decode kernel's on that row alone, but for float
  // rounding (LLVM may fuse a multiply and an add in one kernel and not in
  // the other): int8's products are exact (above), int4's scaled per group.
  for (auto [batch, decode, group] : {std::tuple{k().int4_g32_batch4, k().int4_g32_decode, 32},
                                      std::tuple{k().int4_g128_batch2, k().int4_g128_decode, 128}}) {
    std::vector<float> batched;
    if (group == 32)
      int4Error<32>(c, batch, 5, false, &batched);
    else
      int4Error<128>(c, batch, 5, false, &batched);
    for (int r = 0; r < 5; ++r) {
      Int4Case one = c;
      std::copy(c.x.begin() + long(r) * c.K4, c.x.begin() + long(r + 1) * c.K4, one.x.begin());
      std::vector<float> alone;
      if (group == 32)
        int4Error<32>(one, decode, 1, false, &alone);
      else
        int4Error<128>(one, decode, 1, false, &alone);
      double most = 0, largest = 0;
      for (int n = 0; n < c.N4; ++n) {
        most = std::max(most, std::fabs(double(alone[size_t(n)]) - batched[size_t(r) * c.N4 + n]));
        largest = std::max(largest, std::fabs(double(alone[size_t(n)])));
      }
      EXPECT_LT(most, 1e-6 * largest) << "row " << r << ", g" << group;
    }
  }
}

// 45 spans of 128 columns (a down projection's length): the + 8 summed over
// 180 groups, the groups' scale table (AVX2) or lane tables (VNNI, in
// chunks of 23 and 22 spans) over rows that leave L1.
TEST_P(HalideKernels, Int4PrefillManySpans) {
  const Int4CaseK<5760> c;
  for (int rows : {4, 9, 13})
    EXPECT_LT(int4Error<32>(c, k().int4_g32_prefill_long, rows, false), kFloatBound) << rows << " rows";
}

INSTANTIATE_TEST_SUITE_P(Variants, HalideKernels, ::testing::Values("avx2", "vnni"),
                         [](const ::testing::TestParamInfo<std::string> &info) { return info.param; });

/// y of an int4 kernel (groups of G) on seven rows of Int4Case, checked.
template <int G>
std::vector<float> int4Outputs(Kernel kernel) {
  const Int4Case c;
  std::vector<float> y;
  EXPECT_LT(int4Error<G>(c, kernel, 7, false, &y), kFloatBound);
  return y;
}

const char *selectError = nullptr;

/// What Halide's wrappers asked can_use_kernel_features about the AVX-512
/// VNNI variant, and how often the answer was yes.
int vnniAsked = 0, vnniGranted = 0;
int recordingCanUse(int count, const uint64_t *features) {
  const int answer = can_use_kernel_features(count, features);
  if (asks_for_avx512(count, features)) {
    ++vnniAsked;
    vnniGranted += answer != 0;
  }
  return answer;
}

// Halide's wrapper (what a model calls) asks which variant the CPU can run
// at its first call and keeps the answer for the process: each of these two
// tests calls a different kernel's wrapper, after select_halide_kernels.
TEST(HalideKernelDispatch, Avx2OnlyRunsTheAvx2Variant) {
  if (!hostHasAvx2())
    GTEST_SKIP() << "no AVX2/FMA on this CPU";
  EXPECT_STREQ(select_halide_kernels("avx2,fma,f16c", "avx2", &selectError), "AVX2");
  halide_set_custom_can_use_target_features(&recordingCanUse);
  vnniAsked = vnniGranted = 0;
  const std::vector<float> wrapped = int4Outputs<32>(test_int4_g32_prefill);
  EXPECT_EQ(vnniAsked, 1);
  EXPECT_EQ(vnniGranted, 0);
  EXPECT_EQ(wrapped, int4Outputs<32>(test_int4_g32_prefill_avx2));
  select_halide_kernels("avx2,fma,f16c", "auto", &selectError);
}

TEST(HalideKernelDispatch, AutoRunsTheVnniVariantWhereTheCpuHasIt) {
  if (!hostHasAvx2())
    GTEST_SKIP() << "no AVX2/FMA on this CPU";
  const bool vnni = cpu_runs_vnni_kernels();
  EXPECT_STREQ(select_halide_kernels("avx2,fma,f16c", "auto", &selectError), vnni ? "AVX-512 VNNI" : "AVX2");
  halide_set_custom_can_use_target_features(&recordingCanUse);
  vnniAsked = vnniGranted = 0;
  const std::vector<float> wrapped = int4Outputs<128>(test_int4_g128_prefill);
  EXPECT_EQ(vnniAsked, 1);
  EXPECT_EQ(vnniGranted, vnni ? 1 : 0);
  EXPECT_EQ(wrapped, int4Outputs<128>(vnni ? test_int4_g128_prefill_vnni : test_int4_g128_prefill_avx2));
}

} // namespace

namespace {

// The VNNI variant is named twice: as a Halide target string where the
// kernels are built (targets/x86-64/CMakeLists.txt) and as feature bits where
// the runtime chooses it (kVnniFeatures in runtime/arch/x86-64/halide.h).
// The features past the arch, OS and bits of the one must be the other.
TEST(HalideKernelDispatch, VnniFeaturesMatchTheVariantBuilt) {
  const std::pair<const char *, halide_target_feature_t> known[] = {
      {"avx512", halide_target_feature_avx512},
      {"avx512_sapphirerapids", halide_target_feature_avx512_sapphirerapids},
      {"avx512_skylake", halide_target_feature_avx512_skylake},
      {"avx512_cannonlake", halide_target_feature_avx512_cannonlake},
      {"avx2", halide_target_feature_avx2},
      {"fma", halide_target_feature_fma},
      {"f16c", halide_target_feature_f16c}};
  std::vector<int> named;
  std::string target = QWENC_HALIDE_TARGET_VNNI, part;
  for (size_t start = 0, end; start <= target.size(); start = end + 1) {
    end = target.find('-', start);
    if (end == std::string::npos)
      end = target.size();
    part = target.substr(start, end - start);
    if (part == "x86" || part == "64" || part == "linux" || part == "no_runtime")
      continue;
    bool found = false;
    for (const auto &[name, feature] : known)
      if (part == name) {
        named.push_back(feature);
        found = true;
      }
    EXPECT_TRUE(found) << "feature '" << part << "' of " << target << " is not known to this test";
  }
  std::vector<int> runtime(std::begin(kVnniFeatures), std::end(kVnniFeatures));
  std::sort(named.begin(), named.end());
  std::sort(runtime.begin(), runtime.end());
  EXPECT_EQ(named, runtime);
}

} // namespace
