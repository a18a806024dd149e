// Memory bandwidth with N threads (default 2) over arrays far larger than the
// caches; prints the best of 10 runs in GB/s.
//   triad [N]        STREAM triad a[i] = b[i] + s * c[i] (three arrays of
//                    doubles moved per pass, as STREAM counts them)
//   triad [N] read   a read-only pass (sum of b, prefetched as the decode
//                    kernels do), the traffic of decoding, which reads the
//                    weights and writes next to nothing
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const bool read_only = argc > 2 && std::strcmp(argv[2], "read") == 0;
  const size_t n = size_t(1) << 26; // 64 Mi doubles = 512 MiB per array
  std::vector<double> a(n), b(n, 1.0), c(n, 2.0);
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  auto pass = [&](double s) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        if (read_only) {
          // Integer sums of the bits: vectorised without reassociating
          // floats. Asks for the data 8 KiB ahead, as the decode kernels do:
          // a plain loop leaves bandwidth unused (measured 54 vs 70 GB/s).
          const uint64_t *p = reinterpret_cast<const uint64_t *>(b.data());
          uint64_t acc = 0;
          size_t i = lo;
          for (; i + 8 <= hi; i += 8) {
            __builtin_prefetch(p + i + 1024);
            for (size_t j = 0; j < 8; ++j)
              acc += p[i + j];
          }
          for (; i < hi; ++i)
            acc += p[i];
          sums[size_t(t)] = acc;
        } else {
          for (size_t i = lo; i < hi; ++i)
            a[i] = b[i] + s * c[i];
        }
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
  const double bytes = (read_only ? 1.0 : 3.0) * n * sizeof(double);
  std::printf("%.1f\n", bytes / best / 1e9);
  volatile double keep_a = a[n / 2];
  volatile uint64_t keep_sum = sums[0]; // the passes' results are used
  (void)keep_a, (void)keep_sum;
  return 0;
}
