// runtime/attention.h alone, as the x86-64-avx2 target builds it, on the
// 0.5B and 1.5B shapes with a bf16 cache: a prefill chunk of 128 rows and a
// decode row at several depths, the AVX2 and AVX-512 blocks interleaved.
// A decode row runs over every layer's cache in turn (24 and 28 layers), as
// a token does, so that the cache streams from memory: one layer's cache
// alone stays in the L3 and times the compute only (2-3x faster at 8K).
// Prints the median (and range) of microseconds per query row and per
// layer, and GFLOP/s counting the 4 * head_dim flops of each (query head,
// cached position) pair: what attention costs a token at depth, against
// what the core's multiply-adds allow.
//
//   g++ -O3 -mavx2 -mfma -mf16c -pthread -I. bench/attention.cpp runtime/thread_pool.cpp -o attention
//   ./attention [threads] [rounds]
#include "runtime/arch/x86-64/kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace qwenc_rt;

namespace {

struct Case {
  bool large; // the 1.5B shape (else the 0.5B)
  int depth, rows;
};

template <int NH, int NKV, int HD, int LAYERS>
struct Shape {
  size_t layer; // cache elements of a layer
  std::vector<bf16> kc, vc;
  std::vector<float> ks, vs, q, out, scratch;
  std::vector<int32_t> positions;
  explicit Shape(int ctx)
      : layer(size_t(ctx) * NKV * HD), kc(layer * LAYERS), vc(kc.size()), ks(size_t(ctx) * NKV, 1.0f), vs(ks) {
    std::mt19937 rng(7);
    std::normal_distribution<float> dist;
    for (size_t i = 0; i < layer; ++i)
      kc[i].bits = bf16_round(dist(rng)), vc[i].bits = bf16_round(dist(rng));
    for (int l = 1; l < LAYERS; ++l) // the same values: what is timed is where they are read from
      std::copy(kc.begin(), kc.begin() + long(layer), kc.begin() + long(l * layer)),
          std::copy(vc.begin(), vc.begin() + long(layer), vc.begin() + long(l * layer));
    q.resize(size_t(128) * NH * HD);
    for (float &f : q)
      f = dist(rng);
    out.resize(q.size());
    scratch.resize(flash::scratch_shared(NH, NKV, HD) + flash::scratch_per_thread(NH, NKV, HD) * num_threads());
  }
  /// Seconds for one call: `rows` rows ending at position depth - 1, over
  /// layer l's cache.
  double run(int depth, int rows, int l) {
    positions.resize(size_t(rows));
    for (int r = 0; r < rows; ++r)
      positions[size_t(r)] = depth - rows + r;
    const auto t0 = std::chrono::steady_clock::now();
    flash::attention<NH, NKV, HD>(q.data(), positions.data(), rows, kc.data() + l * layer, vc.data() + l * layer,
                                  ks.data(), vs.data(), scratch.data(), out.data());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  static double flops(int depth, int rows) {
    double pairs = 0;
    for (int r = 0; r < rows; ++r)
      pairs += depth - rows + r + 1;
    return pairs * NH * 4.0 * HD;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  constexpr int kMax = 32768;
  using S05 = Shape<14, 2, 64, 24>;
  using S15 = Shape<12, 2, 128, 28>;
  S05 s05(kMax);
  S15 s15(kMax);
  const Case cases[] = {{false, 2048, 128}, {false, 8192, 128}, {false, 8192, 1}, {false, 32768, 1},
                        {true, 2048, 128},  {true, 8192, 128},  {true, 8192, 1},  {true, 32768, 1}};
  std::printf("threads: %d; bf16 cache; a layer's attention (decode: each layer's cache in turn), median of %d "
              "(range)\n\n",
              num_threads(), rounds);
  std::printf("| shape | depth | rows | block | us / row | GFLOP/s | cache GB/s |\n|---|---|---|---|---|---|---|\n");
  for (const Case &c : cases) {
    std::vector<double> t[2];
    for (int round = 0; round < rounds; ++round)
      for (int avx512 = 0; avx512 < 2; ++avx512) {
        x86::attention_avx512() = avx512 != 0;
        // A decode row: every layer once (a token), twice.
        const int reps = c.rows == 1 ? 2 * (c.large ? 28 : 24) : 1;
        double total = 0;
        for (int i = 0; i < reps; ++i)
          total += c.large ? s15.run(c.depth, c.rows, i % 28) : s05.run(c.depth, c.rows, i % 24);
        t[avx512].push_back(total / reps);
      }
    for (int avx512 = 0; avx512 < 2; ++avx512) {
      const double f = c.large ? S15::flops(c.depth, c.rows) : S05::flops(c.depth, c.rows);
      const auto [lo, hi] = std::minmax_element(t[avx512].begin(), t[avx512].end());
      const double m = median(t[avx512]);
      const double bytes = 2.0 * c.depth * 2 * (c.large ? 2 * 128 : 2 * 64); // K and V rows, bf16
      char gbs[32] = "—";
      if (c.rows == 1)
        std::snprintf(gbs, sizeof gbs, "%.1f", bytes / m * 1e-9);
      std::printf("| %s | %d | %d | %s | %.1f (%.1f-%.1f) | %.1f | %s |\n", c.large ? "1.5B" : "0.5B", c.depth, c.rows,
                  avx512 ? "AVX-512" : "AVX2", 1e6 * m / c.rows, 1e6 * *lo / c.rows, 1e6 * *hi / c.rows,
                  f / m * 1e-9, gbs);
    }
  }
}
