// STREAM-style triad a[i] = b[i] + s * c[i] over arrays far larger than the
// caches, with N threads (default 2); prints the best of 10 runs in GB/s
// (three arrays of doubles moved per pass, as STREAM counts them).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const size_t n = size_t(1) << 26; // 64 Mi doubles = 512 MiB per array
  std::vector<double> a(n), b(n, 1.0), c(n, 2.0);
  auto pass = [&](double s) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        for (size_t i = lo; i < hi; ++i)
          a[i] = b[i] + s * c[i];
      });
    for (auto &th : pool)
      th.join();
  };
  pass(3.0); // touch the pages
  double best = 1e30;
  for (int r = 0; r < 10; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    pass(3.0 + r);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("%.1f\n", 3.0 * n * sizeof(double) / best / 1e9);
  return a[n / 2] > 0 ? 0 : 1;
}
