// Throughput of the runtime's C++ int4 matrix kernels alone (int8 runs on
// Halide kernels, see docs/DESIGN.md), on the 1.5B and 0.5B MLP shapes, over weights far
// larger than the caches: decode (1 row) in GB/s of weights read, prefill
// (128 rows) in GMAC/s. Then the ceiling of the int8 Halide prefill kernel's
// inner loop (its instruction mix alone, in L1, on every thread). For tuning
// kernels without compiling a model; bench/run is the benchmark of record.
//
//   g++ -O3 -mavx2 -mfma -mf16c -I. -pthread bench/kernels.cpp runtime/thread_pool.cpp -o kernels
//   ./kernels [threads]
#include "runtime/kernels.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

using namespace qwenc_rt;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Enough copies of one layer's weights that a pass never finds them in L3.
constexpr int kCopies = 24;

template <int N, int K, typename Make>
void measure(const char *name, double bytes_per_weight, Make make_view) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> x(size_t(128) * K), y(size_t(128) * N);
  for (float &v : x)
    v = dist(rng);
  auto views = make_view(rng);
  const double weight_bytes = double(N) * K * bytes_per_weight;
  for (int rows : {1, 128}) {
    double best = 1e30;
    for (int rep = 0; rep < 15; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      for (auto &w : views)
        linear<N, K>(x.data(), w, static_cast<const float *>(nullptr), rows, y.data());
      best = std::min(best, seconds_since(t0) / views.size());
    }
    if (rows == 1)
      std::printf("%-28s decode   %7.1f GB/s\n", name, weight_bytes / best / 1e9);
    else
      std::printf("%-28s prefill  %7.1f GMAC/s\n", name, double(N) * K * rows / best / 1e9);
  }
}

template <int N, int K, int G>
std::vector<Int4Groups<K, G>> int4_views(std::mt19937 &rng, std::vector<std::vector<uint8_t>> &q,
                                         std::vector<float> &scale) {
  std::uniform_int_distribution<int> d(0, 255);
  scale.assign(size_t(N) * K / G, 0.01f);
  std::vector<Int4Groups<K, G>> v;
  q.resize(kCopies);
  for (auto &c : q) {
    c.resize(size_t(N) * K / 2);
    for (auto &b : c)
      b = uint8_t(d(rng));
    v.push_back({c.data(), scale.data()});
  }
  return v;
}

template <int N, int K>
void shape() {
  std::vector<std::vector<uint8_t>> q4;
  std::vector<float> scale;
  char name[64];
  std::snprintf(name, sizeof name, "int4 g32 %dx%d", N, K);
  measure<N, K>(name, 0.5 + 4.0 / 32, [&](std::mt19937 &rng) { return int4_views<N, K, 32>(rng, q4, scale); });
  std::snprintf(name, sizeof name, "int4 g128 %dx%d", N, K);
  measure<N, K>(name, 0.5 + 4.0 / 128, [&](std::mt19937 &rng) { return int4_views<N, K, 128>(rng, q4, scale); });
}

#ifdef QWENC_AVX2
// One step of the int8 prefill kernel's inner loop (MatMulGenerator.cpp: a
// tile of 2 weight rows x 4 tokens, 16 columns): 2 vpmovsxbw, 8 vpmaddwd,
// 8 vpaddd, over rows of 1536 columns that stay in L1; returns GMAC/s.
double int8_tile_loop(long reps) {
  constexpr int K = 1536;
  alignas(64) static thread_local int8_t w[2][K];
  alignas(64) static thread_local int16_t x[4][K];
  __m256i acc[8];
  for (__m256i &a : acc)
    a = _mm256_setzero_si256();
  const auto t0 = std::chrono::steady_clock::now();
  for (long rep = 0; rep < reps; ++rep)
    for (int k = 0; k < K; k += 16) {
      const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(w[0] + k)));
      const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(w[1] + k)));
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[t] + k));
        acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(w0, xv));
        acc[4 + t] = _mm256_add_epi32(acc[4 + t], _mm256_madd_epi16(w1, xv));
      }
    }
  const double t = seconds_since(t0);
  for (const __m256i &a : acc) // keep the sums alive
    asm volatile("" : : "x"(a));
  return double(reps) * K * 8 / t / 1e9;
}
#endif

} // namespace

int main(int argc, char **argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 2);
  shape<8960, 1536>(); // 1.5B gate / up
  shape<1536, 8960>(); // 1.5B down
  shape<4864, 896>();  // 0.5B gate / up
  shape<896, 4864>();  // 0.5B down
#ifdef QWENC_AVX2
  std::vector<double> rate(static_cast<size_t>(num_threads())); // all at once, as in a model's prefill
  std::vector<std::thread> threads;
  for (double &r : rate)
    threads.emplace_back([&r] { r = int8_tile_loop(200000); });
  for (std::thread &t : threads)
    t.join();
  double total = 0;
  for (double r : rate)
    total += r;
  std::printf("%-28s prefill  %7.1f GMAC/s (all threads; the kernel's ceiling)\n", "int8 2x4 tile loop in L1", total);
#endif
  return 0;
}
