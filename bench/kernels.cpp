// The ceilings of the x86-64-avx2 target's quantized prefill kernels (Halide,
// targets/x86-64-avx2/MatMulGenerator.cpp): each kernel's inner loop, its
// instruction mix written out in intrinsics, over rows that stay in L1, on
// every thread at once as in a model's prefill; the AVX2 variants, and the
// AVX-512 VNNI ones where the CPU has them. What a kernel reaches in a
// model (bench/run) against what its instruction mix allows on this core.
//
//   g++ -O3 -mavx2 -mfma -pthread bench/kernels.cpp -o kernels
//   ./kernels [threads]
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

constexpr int K = 1536; // a 1.5B row: 1.5 KiB of int8 or 768 B of int4 weights

// int8: a tile of 2 weight rows x 4 tokens, 16 columns a step: 2 vpmovsxbw,
// 8 vpmaddwd, 8 vpaddd. Returns GMAC/s.
double int8_tile_loop(long reps) {
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

// int4: a tile of 1 weight row x 4 tokens, a span of 128 columns a step: 2
// loads, 2 shifts and 4 masks unpack 128 q + 8; per token 4 vpmaddubsw, 3
// int16 adds, a vpmaddwd, a convert and an FMA by the group's broadcast
// scale (groups of 128). Returns GMAC/s.
double int4_tile_loop(long reps) {
  alignas(64) static thread_local uint8_t w[K / 2];
  alignas(64) static thread_local int8_t x[4][K];
  alignas(64) static thread_local float scale[4][K / 128];
  const __m256i nibble = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
  __m256 acc[4];
  for (__m256 &a : acc)
    a = _mm256_setzero_ps();
  const auto t0 = std::chrono::steady_clock::now();
  for (long rep = 0; rep < reps; ++rep)
    for (int b = 0; b < K / 128; ++b) {
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + b * 64));
      const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + b * 64 + 32));
      const __m256i q[4] = {_mm256_and_si256(lo, nibble), _mm256_and_si256(_mm256_srli_epi16(lo, 4), nibble),
                            _mm256_and_si256(hi, nibble), _mm256_and_si256(_mm256_srli_epi16(hi, 4), nibble)};
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        const __m256i *xt = reinterpret_cast<const __m256i *>(x[t] + b * 128);
        __m256i s = _mm256_maddubs_epi16(q[0], _mm256_loadu_si256(xt));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(q[1], _mm256_loadu_si256(xt + 1)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(q[2], _mm256_loadu_si256(xt + 2)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(q[3], _mm256_loadu_si256(xt + 3)));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(s, ones)),
                                 _mm256_broadcast_ss(&scale[t][b]), acc[t]);
      }
    }
  const double t = seconds_since(t0);
  for (const __m256 &a : acc)
    asm volatile("" : : "x"(a));
  return double(reps) * K * 4 / t / 1e9;
}

#define QWENC_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

// int8 with AVX-512 VNNI: a tile of 4 weight rows x 4 tokens, 32 columns a
// step: 4 vpmovsxbw, 16 vpdpwssd. Returns GMAC/s.
QWENC_VNNI double int8_vnni_tile_loop(long reps) {
  alignas(64) static thread_local int8_t w[4][K];
  alignas(64) static thread_local int16_t x[4][K];
  __m512i acc[16];
  for (__m512i &a : acc)
    a = _mm512_setzero_si512();
  const auto t0 = std::chrono::steady_clock::now();
  for (long rep = 0; rep < reps; ++rep)
    for (int k = 0; k < K; k += 32) {
      __m512i wv[4];
      for (int c = 0; c < 4; ++c)
        wv[c] = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(w[c] + k)));
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        const __m512i xv = _mm512_loadu_si512(x[t] + k);
        for (int c = 0; c < 4; ++c)
          acc[4 * c + t] = _mm512_dpwssd_epi32(acc[4 * c + t], wv[c], xv);
      }
    }
  const double t = seconds_since(t0);
  for (const __m512i &a : acc)
    asm volatile("" : : "v"(a));
  return double(reps) * K * 16 / t / 1e9;
}

// int4 g128 with AVX-512 VNNI: a tile of 2 weight rows x 4 tokens, a span of
// 128 columns a step: per row a load, a shift and two masks unpack the
// span's halves; per row and token two vpdpbusd, a convert and an FMA by the
// group's broadcast scale. Returns GMAC/s.
QWENC_VNNI double int4_vnni_tile_loop(long reps) {
  alignas(64) static thread_local uint8_t w[2][K / 2];
  alignas(64) static thread_local int8_t x[4][K];
  alignas(64) static thread_local float scale[2][4][K / 128];
  const __m512i nibble = _mm512_set1_epi8(15);
  __m512 acc[8];
  for (__m512 &a : acc)
    a = _mm512_setzero_ps();
  const auto t0 = std::chrono::steady_clock::now();
  for (long rep = 0; rep < reps; ++rep)
    for (int b = 0; b < K / 128; ++b) {
      __m512i lo[2], hi[2];
      for (int c = 0; c < 2; ++c) {
        const __m512i v = _mm512_loadu_si512(w[c] + b * 64);
        lo[c] = _mm512_and_si512(v, nibble);
        hi[c] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
      }
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        const __m512i x0 = _mm512_loadu_si512(x[t] + b * 128), x1 = _mm512_loadu_si512(x[t] + b * 128 + 64);
        for (int c = 0; c < 2; ++c) {
          const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[c], x0), hi[c], x1);
          acc[4 * c + t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(scale[c][t][b]), acc[4 * c + t]);
        }
      }
    }
  const double t = seconds_since(t0);
  for (const __m512 &a : acc)
    asm volatile("" : : "v"(a));
  return double(reps) * K * 8 / t / 1e9;
}

/// Runs `loop` on `threads` threads at once; returns the sum of their rates.
double all_threads(int threads, double (*loop)(long), long reps) {
  std::vector<double> rate(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (double &r : rate)
    workers.emplace_back([&r, loop, reps] { r = loop(reps); });
  for (std::thread &t : workers)
    t.join();
  double total = 0;
  for (double r : rate)
    total += r;
  return total;
}

} // namespace

int main(int argc, char **argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  std::printf("%-34s %7.1f GMAC/s\n", "int8 2x4 tile loop in L1", all_threads(threads, int8_tile_loop, 200000));
  std::printf("%-34s %7.1f GMAC/s\n", "int4 g128 1x4 tile loop in L1", all_threads(threads, int4_tile_loop, 200000));
  if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")) {
    std::printf("%-34s %7.1f GMAC/s\n", "int8 4x4 VNNI tile loop in L1",
                all_threads(threads, int8_vnni_tile_loop, 100000));
    std::printf("%-34s %7.1f GMAC/s\n", "int4 g128 2x4 VNNI tile loop in L1",
                all_threads(threads, int4_vnni_tile_loop, 100000));
  }
  std::printf("(%d threads; the kernels' ceilings for their instruction mix)\n", threads);
  return 0;
}
