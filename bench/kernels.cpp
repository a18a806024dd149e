// Throughput of the runtime's C++ int4 matrix kernels alone (int8 runs on
// Halide kernels, see docs/DESIGN.md), on the 1.5B and 0.5B MLP shapes, over weights far
// larger than the caches: decode (1 row) in GB/s of weights read, prefill
// (128 rows) in GMAC/s. For tuning kernels without compiling a model;
// bench/run is the benchmark of record.
//
//   g++ -O3 -mavx2 -mfma -mf16c -I. -pthread bench/kernels.cpp runtime/thread_pool.cpp -o kernels
//   ./kernels [threads]
#include "runtime/kernels.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
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

} // namespace

int main(int argc, char **argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 2);
  shape<8960, 1536>(); // 1.5B gate / up
  shape<1536, 8960>(); // 1.5B down
  shape<4864, 896>();  // 0.5B gate / up
  shape<896, 4864>();  // 0.5B down
  return 0;
}
