// runtime/attention.h's tiled attention, compiled as the x86-64-avx2 target
// compiles it (its blocks are arch/x86-64/kernels.h's, AVX2 and AVX-512; the
// portable ones run in the cpp and aarch64 targets' golden tests), against a
// double-precision softmax over the cache as stored: every --kv-type, query
// rows at causal positions, from one (decode: attend_group over key
// columns, items of several kv heads) to 40 (several tiles of lanes,
// attend_lanes, partial register groups), lengths on both sides of a block
// (64) and long enough to be cut into pieces across the threads (decode),
// heads of 128, 64, 32 and 24 (partial register blocks; 24 runs the
// portable attend_group) with groups of one to seven query heads per kv
// head.
#include "runtime/arch/x86-64/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace qwenc_rt;

namespace {

template <typename KT>
float stored(KT x, float scale) {
  return widen(x) * scale;
}

/// Runs attention for `rows` query rows at positions start..start+rows-1
/// over a cache already holding positions 0..start-1; returns the largest
/// error relative to the largest |output|.
template <int NH, int NKV, int HD, typename KT>
double attentionError(int start, int rows, float qscale) {
  constexpr int KV = NKV * HD;
  const int ctx = start + rows;
  std::mt19937 rng(uint32_t(start * 31 + rows));
  std::normal_distribution<float> dist;
  std::vector<KT> kc(size_t(ctx) * KV), vc(kc.size());
  std::vector<float> ks(size_t(ctx) * NKV, 1.0f), vs(ks.size(), 1.0f);
  std::vector<float> row(KV), row2(KV);
  for (int t = 0; t < start; ++t) { // the earlier positions, as store_kv stores them
    for (int c = 0; c < KV; ++c)
      row[c] = dist(rng), row2[c] = dist(rng);
    kv_store_row(row.data(), NKV, KV, kc.data() + size_t(t) * KV, ks.data() + size_t(t) * NKV);
    kv_store_row(row2.data(), NKV, KV, vc.data() + size_t(t) * KV, vs.data() + size_t(t) * NKV);
  }
  std::vector<float> q(size_t(rows) * NH * HD), k(size_t(rows) * KV), v(k.size()), out(q.size());
  for (float &f : q)
    f = qscale * dist(rng);
  for (float *a : {k.data(), v.data()})
    for (size_t i = 0; i < k.size(); ++i)
      a[i] = dist(rng);
  std::vector<int32_t> positions(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r)
    positions[size_t(r)] = start + r;
  std::vector<float> scratch(flash::scratch_shared(NH, NKV, HD) +
                             flash::scratch_per_thread(NH, NKV, HD) * size_t(num_threads()));
  attention<NH, NKV, HD>(q.data(), k.data(), v.data(), positions.data(), rows, kc.data(), vc.data(), ks.data(),
                         vs.data(), nullptr, 0, scratch.data(), out.data());
  double worst = 0, largest = 0;
  for (int r = 0; r < rows; ++r)
    for (int h = 0; h < NH; ++h) {
      const int kvh = h / (NH / NKV), len = start + r + 1;
      std::vector<double> p(static_cast<size_t>(len));
      double mx = -1e300, sum = 0;
      for (int t = 0; t < len; ++t) {
        double s = 0;
        for (int d = 0; d < HD; ++d)
          s += double(q[(size_t(r) * NH + h) * HD + d]) *
               stored(kc[size_t(t) * KV + kvh * HD + d], ks[size_t(t) * NKV + kvh]);
        p[size_t(t)] = s / std::sqrt(double(HD));
        mx = std::max(mx, p[size_t(t)]);
      }
      for (double &x : p)
        sum += x = std::exp(x - mx);
      for (int d = 0; d < HD; ++d) {
        double e = 0;
        for (int t = 0; t < len; ++t)
          e += p[size_t(t)] / sum * stored(vc[size_t(t) * KV + kvh * HD + d], vs[size_t(t) * NKV + kvh]);
        const double got = out[(size_t(r) * NH + h) * HD + d];
        worst = std::max(worst, std::fabs(e - got));
        largest = std::max(largest, std::fabs(e));
      }
    }
  return worst / largest;
}

template <int NH, int NKV, int HD, typename KT>
void checkShape(const char *what) {
  // The AVX2 block, and the AVX-512 one where the CPU has it.
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
  for (bool wide : {false, true}) {
  if (wide && !avx512)
    continue;
  x86::attention_avx512() = wide;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int start : {0, 1, 62, 63, 64, 127, 300, 700})
      for (int rows : {1, 3, 4, 9, 40})
        // 30: scores far apart, most weights underflow; float scores of
        // |s| up to ~150 carry 1e-5 to 3e-5 of relative error into the weights.
        for (float qscale : {1.0f, 30.0f})
          EXPECT_LT((attentionError<NH, NKV, HD, KT>(start, rows, qscale)), qscale > 1 ? 3e-5 : 2e-6)
              << what << (wide ? " (AVX-512)" : " (AVX2)") << ": " << threads << " threads, start " << start
              << ", " << rows << " rows, q x" << qscale;
  }
  }
  x86::attention_avx512() = false;
}

TEST(FlashAttention, F32Cache) {
  checkShape<4, 2, 64, float>("f32 4/2x64");
  checkShape<6, 1, 32, float>("f32 6/1x32");
  checkShape<2, 1, 128, float>("f32 2/1x128");
  checkShape<2, 1, 24, float>("f32 2/1x24"); // not a multiple of 16: portable attend_group
}
TEST(FlashAttention, Bf16Cache) {
  checkShape<4, 2, 64, bf16>("bf16 4/2x64");
  checkShape<14, 2, 64, bf16>("bf16 14/2x64"); // the 0.5B: 9 rows of 7 heads, 63 of 64 lanes
  checkShape<12, 2, 128, bf16>("bf16 12/2x128"); // the 1.5B
  checkShape<1, 1, 32, bf16>("bf16 1/1x32"); // no grouping: 64 rows a tile
}
TEST(FlashAttention, Int8Cache) { checkShape<6, 1, 32, int8_t>("int8 6/1x32"); }

// Decode over a long cache with one kv head is cut into pieces (both
// threads busy); the pieces' merge gives the same result as one piece.
TEST(FlashAttention, PiecesMatchOnePiece) {
  set_num_threads(2);
  const double two = attentionError<6, 1, 32, float>(2000, 1, 1.0f);
  set_num_threads(1);
  const double one = attentionError<6, 1, 32, float>(2000, 1, 1.0f);
  EXPECT_LT(two, 2e-6);
  EXPECT_LT(one, 2e-6);
}

// The server's batched decode (Session::row_slots): rows of several
// sequences in one call, each against its own slot's cache at its own
// depth, give exactly what each gets alone.
TEST(FlashAttention, SlotsMatchSeparateCalls) {
  constexpr int NH = 14, NKV = 2, HD = 64, KV = NKV * HD, slots = 3;
  const int ctx = 700, depth[slots] = {5, 650, 129};
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  std::vector<bf16> kc(size_t(slots) * ctx * KV), vc(kc.size());
  std::vector<float> ks(size_t(slots) * ctx * NKV), vs(ks.size());
  std::vector<float> row(KV);
  for (int s = 0; s < slots; ++s)
    for (int t = 0; t < depth[s]; ++t) {
      const size_t at = size_t(s) * ctx + size_t(t);
      for (float &f : row)
        f = dist(rng);
      kv_store_row(row.data(), NKV, KV, kc.data() + at * KV, ks.data() + at * NKV);
      for (float &f : row)
        f = dist(rng);
      kv_store_row(row.data(), NKV, KV, vc.data() + at * KV, vs.data() + at * NKV);
    }
  std::vector<float> q(size_t(slots) * NH * HD), k(size_t(slots) * KV), v(k.size());
  for (std::vector<float> *a : {&q, &k, &v})
    for (float &f : *a)
      f = dist(rng);
  std::vector<float> scratch(flash::scratch_shared(NH, NKV, HD) + flash::scratch_per_thread(NH, NKV, HD) * 2);
  set_num_threads(2);
  // Together: one row per slot, slot 2 before slot 0 (any order of slots).
  const int32_t order[slots] = {2, 0, 1};
  std::vector<float> qb(q.size()), kb(k.size()), vb(v.size()), together(q.size());
  int32_t positions[slots], row_slots[slots];
  for (int r = 0; r < slots; ++r) {
    const int s = order[r];
    std::copy_n(q.begin() + s * NH * HD, NH * HD, qb.begin() + r * NH * HD);
    std::copy_n(k.begin() + s * KV, KV, kb.begin() + r * KV);
    std::copy_n(v.begin() + s * KV, KV, vb.begin() + r * KV);
    positions[r] = depth[s];
    row_slots[r] = s;
  }
  std::vector<bf16> kc1 = kc, vc1 = vc;
  std::vector<float> ks1 = ks, vs1 = vs;
  attention<NH, NKV, HD>(qb.data(), kb.data(), vb.data(), positions, slots, kc1.data(), vc1.data(), ks1.data(),
                         vs1.data(), row_slots, ctx, scratch.data(), together.data());
  // Alone: each slot's cache as a session of its own.
  for (int r = 0; r < slots; ++r) {
    const int s = order[r];
    const size_t base = size_t(s) * ctx;
    std::vector<float> alone(size_t(NH) * HD);
    attention<NH, NKV, HD>(q.data() + s * NH * HD, k.data() + s * KV, v.data() + s * KV, &depth[s], 1,
                           kc.data() + base * KV, vc.data() + base * KV, ks.data() + base * NKV,
                           vs.data() + base * NKV, nullptr, 0, scratch.data(), alone.data());
    for (int i = 0; i < NH * HD; ++i)
      ASSERT_EQ(alone[size_t(i)], together[size_t(r) * NH * HD + size_t(i)]) << "slot " << s << " value " << i;
  }
  // Each row's K and V went into its own slot's cache, at its position.
  for (size_t i = 0; i < kc.size(); ++i)
    ASSERT_EQ(kc[i].bits, kc1[i].bits) << i;
}

} // namespace
