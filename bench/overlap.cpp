// Can a core keep streaming weights from memory while it computes several
// rows' products (batched decode), and which weight layout lets it? Streams
// 512 MB of int8 weights (the 0.5B's size) over the threads, each 64-byte
// line meeting R rows of int16 x in AVX-512 VNNI (vpmovsxbw, vpdpwssd),
// prefetched 8 KiB ahead as the decode kernels do; three ways:
//   two-cols  the x86-64-avx2 decode kernel's tile: 2 columns x R rows, each
//             column's K weights contiguous (two streams), x loaded as
//             vectors along K, each column's lanes summed at its end
//   one-col   the same, 1 column at a time (one stream)
//   across    16 columns a vector (weights interleaved by column, pairs of
//             k), each row's x pair broadcast: one stream, no sums at the end
// and a read of the weights alone. Medians (ranges) of interleaved rounds.
//
//   g++ -O3 -march=native -pthread bench/overlap.cpp -o overlap && ./overlap [threads] [rounds]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kPrefetch = 8192;
constexpr int kRowStride = 8192; // int16 per x row: K up to 8192 stays in L1/L2 as in a model

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

VNNI int64_t sum_lanes(__m512i v) { return _mm512_reduce_add_epi32(v); }

VNNI int64_t read_only(const int8_t *w, size_t bytes, const int16_t *, int) {
  __m512i s = _mm512_setzero_si512();
  for (size_t off = 0; off < bytes; off += 64) {
    _mm_prefetch(reinterpret_cast<const char *>(w + off + kPrefetch), _MM_HINT_T0);
    s = _mm512_add_epi8(s, _mm512_load_si512(w + off));
  }
  return sum_lanes(s);
}

template <int R, int C>
VNNI int64_t along_k(const int8_t *w, size_t bytes, const int16_t *x, int k_len) {
  int64_t total = 0;
  const size_t col = size_t(k_len);
  for (size_t off = 0; off + C * col <= bytes; off += C * col) {
    __m512i acc[R][C];
    for (auto &row : acc)
      for (__m512i &a : row)
        a = _mm512_setzero_si512();
    for (int k = 0; k < k_len; k += 64) {
      __m512i lo[C], hi[C];
#pragma GCC unroll 2
      for (int c = 0; c < C; ++c) {
        const int8_t *p = w + off + size_t(c) * col + k;
        _mm_prefetch(reinterpret_cast<const char *>(p + kPrefetch), _MM_HINT_T0);
        const __m512i v = _mm512_loadu_si512(p);
        lo[c] = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(v));
        hi[c] = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(v, 1));
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512i x0 = _mm512_loadu_si512(x + r * kRowStride + k);
        const __m512i x1 = _mm512_loadu_si512(x + r * kRowStride + k + 32);
#pragma GCC unroll 2
        for (int c = 0; c < C; ++c)
          acc[r][c] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc[r][c], lo[c], x0), hi[c], x1);
      }
    }
    for (auto &row : acc)
      for (__m512i &a : row)
        total += sum_lanes(a);
  }
  return total;
}

template <int R>
VNNI int64_t across(const int8_t *w, size_t bytes, const int16_t *x, int k_len) {
  __m512i acc[R];
  for (__m512i &a : acc)
    a = _mm512_setzero_si512();
  int64_t total = 0;
  int k = 0; // a line: 16 columns x 4 k (two pairs)
  for (size_t off = 0; off < bytes; off += 64) {
    _mm_prefetch(reinterpret_cast<const char *>(w + off + kPrefetch), _MM_HINT_T0);
    const __m512i v = _mm512_load_si512(w + off);
    const __m512i lo = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(v));
    const __m512i hi = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(v, 1));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      int32_t p0, p1;
      std::memcpy(&p0, x + r * kRowStride + k, 4);
      std::memcpy(&p1, x + r * kRowStride + k + 2, 4);
      acc[r] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc[r], lo, _mm512_set1_epi32(p0)), hi, _mm512_set1_epi32(p1));
    }
    if ((k += 4) == k_len) { // the 16 columns are done: store their sums
      k = 0;
      for (__m512i &a : acc) {
        total += sum_lanes(a);
        a = _mm512_setzero_si512();
      }
    }
  }
  return total;
}

using Kernel = int64_t (*)(const int8_t *, size_t, const int16_t *, int);

} // namespace

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::max(1, atoi(argv[1])) : 2;
  const int rounds = argc > 2 ? std::max(1, atoi(argv[2])) : 7;
  if (!__builtin_cpu_supports("avx512vnni")) {
    std::fprintf(stderr, "overlap: this CPU has no AVX-512 VNNI\n");
    return 1;
  }
  const size_t total = size_t(512) << 20, per = total / size_t(threads) / 65536 * 65536;
  std::vector<int8_t *> bufs;
  for (int t = 0; t < threads; ++t) {
    auto *b = static_cast<int8_t *>(std::aligned_alloc(4096, per + kPrefetch));
    std::memset(b, 1 + t, per + kPrefetch);
    bufs.push_back(b);
  }
  static int16_t x[4 * kRowStride];
  for (int16_t &v : x)
    v = 3;
  struct Way {
    const char *name;
    int rows;
    Kernel run;
  };
  const int k_len = 896; // the 0.5B's hidden size: most of its weights' K
  const Way ways[] = {
      {"read only", 0, read_only},
      {"two-cols (as built)", 1, along_k<1, 2>},
      {"two-cols (as built)", 4, along_k<4, 2>},
      {"one-col", 1, along_k<1, 1>},
      {"one-col", 4, along_k<4, 1>},
      {"across", 1, across<1>},
      {"across", 4, across<4>},
  };
  const int n = int(sizeof ways / sizeof ways[0]);
  std::vector<std::vector<double>> ms(static_cast<size_t>(n));
  volatile int64_t sink = 0;
  for (int round = 0; round < rounds; ++round)
    for (int i = 0; i < n; ++i) {
      std::vector<std::thread> pool;
      const auto t0 = std::chrono::steady_clock::now();
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { sink = sink + ways[i].run(bufs[size_t(t)], per, x, k_len); });
      for (std::thread &t : pool)
        t.join();
      ms[size_t(i)].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  std::printf("%d threads, %zu MB of int8 weights a pass, K %d, prefetch %d B; medians (ranges) of %d rounds\n\n",
              threads, per * size_t(threads) >> 20, k_len, kPrefetch, rounds);
  std::printf("| layout | rows | ms a pass | GB/s | vs its 1 row |\n|---|---|---|---|---|\n");
  double one = 0;
  for (int i = 0; i < n; ++i) {
    std::vector<double> v = ms[size_t(i)];
    std::sort(v.begin(), v.end());
    const double med = v[v.size() / 2];
    if (ways[i].rows <= 1)
      one = med;
    std::printf("| %s | %d | %.1f (%.1f-%.1f) | %.1f | %.2fx |\n", ways[i].name, ways[i].rows, med, v.front(),
                v.back(), double(per * size_t(threads)) / med / 1e6, med / one);
  }
  for (int8_t *b : bufs)
    std::free(b);
}
