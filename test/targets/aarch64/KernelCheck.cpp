// The aarch64 Halide kernels against double references, run under qemu as a
// Cortex-A53 and with the dot product (test/CMakeLists.txt builds it with the
// cross compiler and the kernels the aarch64 target builds, both variants;
// no GoogleTest for aarch64 here, so plain checks and an exit status).
//
//   kernel-check auto|neon VARIANT   (--isa: the variant to run; fails
//                                    unless the one chosen is VARIANT)
//
// Each kernel reads integer inputs the way a model gives them (int4 weights
// in runtime/int4_layout.h's layout against int8 activations per group in
// the same order, int8 weights against int16 rows), so the reference is the
// same integer sums in double: the bound is float rounding. Row counts 1 to
// 13 (decode kernels for any count, prefill kernels for four or more), and
// column counts that leave partial blocks and an odd last column.
#include "runtime/arch/aarch64/halide.h"

#include "check_bf16_decode.h"
#include "check_bf16_prefill.h"
#include "check_int4_g128_decode.h"
#include "check_int4_g128_gated_prefill.h"
#include "check_int4_g32_decode.h"
#include "check_int4_g32_prefill.h"
#include "check_int4_g64_prefill.h"
#include "check_int8_decode.h"
#include "check_int8_prefill.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace qwenc_rt;
using namespace qwenc_rt::aarch64;

namespace {

constexpr int N = 301, K = 384, kMaxRows = 13;
int failures = 0;

using Matmul = int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
                       halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
                       halide_buffer_t *);

void expectClose(const char *what, int rows, const std::vector<float> &got, const std::vector<double> &want,
                 double bound) {
  double maxErr = 0, maxRef = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    maxErr = std::fmax(maxErr, std::fabs(double(got[i]) - want[i]));
    maxRef = std::fmax(maxRef, std::fabs(want[i]));
  }
  if (!(maxErr <= bound * maxRef)) {
    std::printf("FAIL %s, %d rows: max |error| %.3g of %.3g (bound %.1g relative)\n", what, rows, maxErr, maxRef,
                bound);
    ++failures;
  }
}

void check(const char *what, int status) {
  if (status != 0) {
    std::printf("FAIL %s: Halide status %d\n", what, status);
    ++failures;
  }
}

double silu(double g) { return g / (1 + std::exp(-g)); }

/// int4 weights (random bytes are valid packed weights) and scales, x as
/// int8 per group in stored order with its scales.
struct Int4Case {
  int G;
  std::vector<uint8_t> w, w2;
  std::vector<float> s, s2, bias, xs, xsum;
  std::vector<int8_t> x;
  explicit Int4Case(int group) : G(group) {
    std::mt19937 rng(G);
    std::uniform_int_distribution<int> byte(0, 255), q(-127, 127);
    std::uniform_real_distribution<float> scale(1e-3f, 2e-2f), b(-1, 1);
    for (auto *m : {&w, &w2}) {
      m->resize(size_t(N) * K / 2);
      for (uint8_t &v : *m)
        v = uint8_t(byte(rng));
    }
    for (auto *v : {&s, &s2}) {
      v->resize(size_t(N) * K / G);
      for (float &f : *v)
        f = scale(rng);
    }
    bias.resize(N);
    for (float &f : bias)
      f = b(rng);
    x.resize(size_t(kMaxRows) * K);
    for (int8_t &v : x)
      v = int8_t(q(rng));
    xs.resize(size_t(kMaxRows) * K / G);
    for (float &f : xs)
      f = scale(rng);
    xsum.assign(xs.size(), 0.0f); // the + 8's sums: unused by ARM's signed nibbles
  }
  /// sum over stored positions of (q - 8) x, scaled per group.
  double dot(const std::vector<uint8_t> &m, const std::vector<float> &sc, int n, int r) const {
    double total = 0;
    for (int p = 0; p < K; ++p) {
      const uint8_t b = m[size_t(n) * K / 2 + size_t(int4::byte_of(p))];
      const int q = (int4::high_nibble(p) ? b >> 4 : b & 15) - int4::kOffset;
      const int g = int(int4::column_at(p, G) / G);
      total += double(q) * x[size_t(r) * K + p] * sc[size_t(n) * (K / G) + g] * xs[size_t(r) * (K / G) + g];
    }
    return total;
  }
  void run(const char *what, Matmul kernel, int rows, bool gated) {
    std::vector<float> y(size_t(N) * rows);
    HlBuf x_(x.data(), halide_type_int, 8, K, rows), xs_(xs.data(), halide_type_float, 32, K / G, rows),
        xm_(xsum.data(), halide_type_float, 32, K / G, rows), w_(w.data(), halide_type_uint, 8, K / 2, N),
        s_(s.data(), halide_type_float, 32, K / G, N), w2_(w2.data(), halide_type_uint, 8, K / 2, N),
        s2_(s2.data(), halide_type_float, 32, K / G, N), b_(bias.data(), halide_type_float, 32, N),
        y_(y.data(), halide_type_float, 32, N, rows);
    check(what, kernel(&x_.b, &xs_.b, &xm_.b, &w_.b, &s_.b, &w2_.b, &s2_.b, &b_.b, &y_.b));
    std::vector<double> want(y.size());
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N; ++n)
        want[size_t(r) * N + n] = gated ? silu(dot(w, s, n, r)) * dot(w2, s2, n, r) : dot(w, s, n, r) + bias[n];
    expectClose(what, rows, y, want, 1e-5);
  }
};

/// int8 weights, one scale per row, against int16 rows of x.
void checkInt8(const char *what, Matmul kernel, int rows) {
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> q(-127, 127), x16(-int16_input_max(K), int16_input_max(K));
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f), b(-1, 1);
  std::vector<int8_t> w(size_t(N) * K);
  for (int8_t &v : w)
    v = int8_t(q(rng));
  std::vector<int16_t> x(size_t(rows) * K);
  for (int16_t &v : x)
    v = int16_t(x16(rng));
  std::vector<float> s(N), bias(N), xs(rows), y(size_t(N) * rows), unused(1);
  for (float &f : s)
    f = scale(rng);
  for (float &f : bias)
    f = b(rng);
  for (float &f : xs)
    f = scale(rng);
  HlBuf x_(x.data(), halide_type_int, 16, K, rows), xs_(xs.data(), halide_type_float, 32, 1, rows),
      xm_(unused.data(), halide_type_float, 32, 1, 1), w_(w.data(), halide_type_int, 8, K, N),
      s_(s.data(), halide_type_float, 32, 1, N), b_(bias.data(), halide_type_float, 32, N),
      y_(y.data(), halide_type_float, 32, N, rows);
  check(what, kernel(&x_.b, &xs_.b, &xm_.b, &w_.b, &s_.b, &w_.b, &s_.b, &b_.b, &y_.b));
  std::vector<double> want(y.size());
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < N; ++n) {
      double acc = 0;
      for (int k = 0; k < K; ++k)
        acc += double(w[size_t(n) * K + k]) * x[size_t(r) * K + k];
      want[size_t(r) * N + n] = acc * s[n] * xs[r] + bias[n];
    }
  expectClose(what, rows, y, want, 1e-5);
}

/// bf16 weights against float x.
void checkBf16(const char *what, Matmul kernel, int rows) {
  std::mt19937 rng(16);
  std::normal_distribution<float> d;
  std::vector<uint16_t> w(size_t(N) * K);
  for (uint16_t &v : w) {
    const float f = d(rng) * 0.05f;
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    v = uint16_t(bits >> 16);
  }
  std::vector<float> x(size_t(rows) * K), bias(N), y(size_t(N) * rows), unused(1);
  for (float &f : x)
    f = d(rng);
  for (float &f : bias)
    f = d(rng);
  HlBuf x_(x.data(), halide_type_float, 32, K, rows), none(unused.data(), halide_type_float, 32, 1, 1),
      w_(w.data(), halide_type_uint, 16, K, N), b_(bias.data(), halide_type_float, 32, N),
      y_(y.data(), halide_type_float, 32, N, rows);
  check(what, kernel(&x_.b, &none.b, &none.b, &w_.b, &none.b, &w_.b, &none.b, &b_.b, &y_.b));
  std::vector<double> want(y.size());
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < N; ++n) {
      double acc = 0;
      for (int k = 0; k < K; ++k)
        acc += double(widen(bf16{w[size_t(n) * K + k]})) * x[size_t(r) * K + k];
      want[size_t(r) * N + n] = acc + bias[n];
    }
  expectClose(what, rows, y, want, 1e-5);
}

} // namespace

int main(int argc, char **argv) {
  const char *error = nullptr;
  const char *variant = select_halide_kernels("asimd", argc > 1 ? argv[1] : "auto", &error);
  if (!variant) {
    std::printf("FAIL select_halide_kernels: %s\n", error);
    return 1;
  }
  std::printf("kernels: %s\n", variant);
  if (argc > 2 && std::strcmp(variant, argv[2]) != 0) {
    std::printf("FAIL: expected the %s variant\n", argv[2]);
    return 1;
  }
  Int4Case g32(32), g64(64), g128(128);
  for (int rows = 1; rows <= kMaxRows; ++rows) {
    g32.run("int4 g32 decode", check_int4_g32_decode, rows, false);
    g128.run("int4 g128 decode", check_int4_g128_decode, rows, false);
    checkInt8("int8 decode", check_int8_decode, rows);
    checkBf16("bf16 decode", check_bf16_decode, rows);
    if (rows >= 4) {
      g32.run("int4 g32 prefill", check_int4_g32_prefill, rows, false);
      g64.run("int4 g64 prefill", check_int4_g64_prefill, rows, false);
      g128.run("int4 g128 gated prefill", check_int4_g128_gated_prefill, rows, true);
      checkInt8("int8 prefill", check_int8_prefill, rows);
      checkBf16("bf16 prefill", check_bf16_prefill, rows);
    }
  }
  std::printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
