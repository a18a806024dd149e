//===- MatMulGenerator.cpp - Halide AOT generator of the matrix kernels ---===//
//
// qwen_matmul: y[r, n] = sum_k x[r, k] * W[n, k] (+ bias[n]), or with `gated`
// y = silu(x W^T) * (x W2^T), for one (N, K, weight format) of a model.
// `qwenc compile` runs this generator once per kernel and variant of the
// targets with Halide kernels (x86-64-avx2, aarch64), as its own process
// (Halide 14 links LLVM 14; qwenc links MLIR's LLVM 19). Arch-neutral: the
// schedule asks the Halide target for its vectors, its registers and its
// integer dot products (x86 AVX2: vpmaddubsw/vpmaddwd; AVX-512 VNNI:
// vpdpbusd; ARM NEON: smull/sadalp; ARM dot product: sdot); the L2 size the
// prefill blocks are made for is the target's l2_kib.
//
// Weight formats (the layouts of targets/cpp/WeightPacking.h), buffers in
// Halide's column-first order, i.e. w(k, n):
//   f32: float w(K, N)      bf16: uint16 w(K, N)     with float x(K, rows)
//   int8: int8 w(K, N), scale(1, N), with x(K, rows) quantized to int16 and
//         xscale(1, rows) (int16_rows of runtime/kernels.h, whose
//         int16_input_max keeps the int32 sums from overflowing); with
//         tiles=true, w(16 K, N/16) in the column tiles of
//         runtime/int8_layout.h (see generateTiles)
//   int4 with tiles=true (groups of 128): w(8 K, N/16) and scale(K/8, N/16)
//         in the column tiles of runtime/int4_layout.h, x as for rows
//   int4: uint8 w(K/2, N) (the layout of runtime/int4_layout.h: stored
//         q + 8, two per byte, the groups of each 128 columns interleaved),
//         scale(K/G, N), with x(K, rows) quantized to int8 per group in the
//         same order, xscale(K/G, rows) and xsum(K/G, rows) = 8 * xscale *
//         the group's sum of q (QuantRows<int8_t> with a span of 128)
//
// Products: float formats keep lanes of partial sums over K (decode: 32, four
// independent AVX2 accumulators; prefill: 8 per column and token of a tile),
// then add them up; int8 keeps eight int32 lanes, each adding adjacent pairs
// of int8 x int16 products (a vector reduction that Halide emits as
// vpmovsxbw + vpmaddwd); int4 sums each span in integers (vpmaddubsw,
// vpmaddwd), then scales its eight lanes by their groups' scales. Decode
// schedule: rows one at a time, output columns in parallel blocks of up to
// 256 (balancedBlock).
// Prefill schedule (`prefill=true`, at least four rows): see generate().
//===----------------------------------------------------------------------===//
#include "Halide.h"
#include "runtime/int4_layout.h"
#include "runtime/int8_layout.h"

#include <algorithm>
#include <vector>

using namespace Halide;
using namespace Halide::ConciseCasts;

namespace {

/// Columns per parallel block: a multiple of 16, at most `most`, that splits
/// N into equal shares for 2 and for 4 threads, counted as if each block went
/// in order to whichever thread is free (a block is the smallest piece the
/// thread pool can move from one thread to another). The largest within 3 %
/// of an even split, else the most even: blocks of 256 gave the 0.5B's 896
/// columns four blocks, the last of 128, so that one of two threads waited an
/// eighth of each product.
int balancedBlock(int N, int most) {
  const auto evenness = [N](int block, int threads) {
    std::vector<int> load(threads, 0);
    for (int start = 0; start < N; start += block)
      *std::min_element(load.begin(), load.end()) += std::min(block, N - start);
    return double(N) / threads / *std::max_element(load.begin(), load.end());
  };
  int best = 16;
  double bestEvenness = 0;
  for (int block = std::max(16, most / 16 * 16); block >= 16; block -= 16) {
    const double e = std::min(evenness(block, 2), evenness(block, 4));
    if (e >= 0.97)
      return block;
    if (e > bestEvenness) {
      best = block;
      bestEvenness = e;
    }
  }
  return best;
}

class QwenMatMul : public Generator<QwenMatMul> {
public:
  GeneratorParam<int> N{"N", 64};
  GeneratorParam<int> K{"K", 64};
  GeneratorParam<std::string> quant{"quant", "f32"}; // f32, bf16, int8, int4
  GeneratorParam<int> group{"group", 128};            // int4: columns per scale
  GeneratorParam<bool> has_bias{"has_bias", false};
  GeneratorParam<bool> gated{"gated", false};
  GeneratorParam<bool> prefill{"prefill", false}; // scheduled for blocks of tokens
  GeneratorParam<int> batch{"batch", 1};          // decode: rows a weight meets at once (the caller passes >= batch)
  GeneratorParam<int> l2_kib{"l2_kib", 1024};      // the core's L2 (the target's CPU model)
  GeneratorParam<bool> tiles{"tiles", false};     // int8 weights in column tiles (runtime/int8_layout.h)

  Input<Buffer<>> x{"x", 2};              // [K, rows]: float; int16 for int8 weights, int8 for int4
  Input<Buffer<float>> xscale{"xscale", 2}; // int8: [1, rows]; int4: [K/G, rows]; unused for floats
  Input<Buffer<float>> xsum{"xsum", 2};     // int4: [K/G, rows], 8 * scale * sum of q; else unused
  Input<Buffer<>> w{"w", 2};              // see the formats above
  Input<Buffer<float>> scale{"scale", 2}; // int8: [1, N]; int4: [K/G, N]; unused for floats
  Input<Buffer<>> w2{"w2", 2};            // the up projection when gated
  Input<Buffer<float>> scale2{"scale2", 2};
  Input<Buffer<float>> bias{"bias", 1};   // [N]; unused without has_bias
  Output<Buffer<float>> y{"y", 2};        // [N, rows]

  Var l{"l"}, n{"n"}, r{"r"};
  Var j{"j"}, sp{"sp"}, m{"m"}, gv{"g"}; // int4: int16 lane, span, int32 lane, group
  Var ro{"ro"}; // prefill: y's loop over groups of four tokens

  /// Weight (k, n) of buffer `b` as float (int8: before its row's scale).
  Expr weight(const Input<Buffer<>> &b, Expr k, Expr col) {
    const std::string q = quant;
    if (q == "f32")
      return b(k, col);
    if (q == "bf16")
      return reinterpret<float>(cast<uint32_t>(b(k, col)) << 16);
    if (q == "int8")
      return cast<float>(b(k, col));
    throw std::runtime_error("qwen_matmul: unknown quant '" + q + "' (f32, bf16, int8, int4)");
  }

  /// Whether this variant of the kernel is for AVX-512 with VNNI (`qwenc`
  /// builds each kernel for it and for AVX2; Halide picks one at run time).
  bool vnni() const { return get_target().has_feature(Target::AVX512_SapphireRapids); }

  /// Whether this is an ARM variant (aarch64: NEON, with or without the dot
  /// product). ARM has no unsigned x signed byte product (vpmaddubsw,
  /// vpdpbusd): int4 weights are widened as signed q = stored - 8, which
  /// also leaves no + 8 to take off (xsum is unused).
  bool arm() const { return get_target().arch == Target::ARM; }

  /// Vector registers: 32 with AVX-512 and on AArch64, 16 with AVX2.
  int registers() const { return vnni() || arm() ? 32 : 16; }

  /// Whether this ARM variant has the dot product instructions (sdot).
  bool dotProd() const { return get_target().has_feature(Target::ARMDotProd); }

  /// Whether int4 spans are summed four adjacent products to an int32 lane
  /// (vpdpbusd, sdot), in 16 lanes a span (see int4DotProduct); otherwise
  /// in int16 lanes first (AVX2's pairs; NEON's four runs).
  bool fourWay() const { return vnni() || (arm() && dotProd()); }

  /// Whether an int4 product keeps VNNI's sixteen int32 lanes to the end
  /// (see int4DotProduct).
  bool sixteenLanes(int groupsPerSpan) const { return vnni() && (prefill || groupsPerSpan == 1); }

  /// int32 lanes of the int8 product: a vector's, at least 8 (NEON: two
  /// vectors). The VNNI variant's are 16: Halide 14 gives this AVX-512 target
  /// a natural vector of 256 bits, but vpdpwssd on zmm takes 512.
  int intLaneCount() const {
    return vnni() ? 16 : std::max(8, get_target().natural_vector_size<int32_t>());
  }

  /// Whether the int4 products take each lane's scale(x) and + 8 offset
  /// from tables of the tile's tokens (xLanes, xLaneOffset; see
  /// int4DotProduct and scheduleLaneTables): VNNI prefill with more than one
  /// group per span.
  bool laneTables() const { return std::string(quant) == "int4" && vnni() && prefill && int(group) < 128; }

  /// sum_k x(k, r) * W(k, n) for int8 weights and int16 x: eight int32
  /// lanes (16 with VNNI), lane l adding columns 2l and 2l + 1 of every 16
  /// (32): vpmaddwd + vpaddd, or one vpdpwssd.
  Func intDotProduct(const std::string &name, const Input<Buffer<>> &b, const Input<Buffer<float>> &s) {
    const int L = intLaneCount();
    RDom rk(0, int(K) / (2 * L), 0, 2, name + "_rk");
    Expr k = rk.x * (2 * L) + l * 2 + rk.y;
    Func partial(name + "_partial"), total(name);
    partial(l, n, r) = 0;
    partial(l, n, r) += i32(b(k, n)) * i32(x(k, r));
    RDom lr(0, L, name + "_lr");
    total(n, r) = 0.0f;
    total(n, r) += f32(partial(lr, n, r));
    Func scaled(name + "_scaled");
    scaled(n, r) = total(n, r) * (xscale(0, r) * s(0, n));
    intPartials.push_back(partial);
    intTotals.push_back(total);
    intBlocks.push_back(rk);
    intLanes.push_back(lr);
    return scaled;
  }

  /// sum_k x(k, r) * W(k, n) for int4 weights (stored q + 8, the groups of
  /// each span of 128 columns interleaved) and int8 x (one scale per group,
  /// stored in the same order): the scheme of docs/DESIGN.md's int4 notes.
  Func int4DotProduct(const std::string &name, const Input<Buffer<>> &b, const Input<Buffer<float>> &s) {
    const int G = group, spans = int(K) / 128, groupsPerSpan = 128 / G;
    Int4Dot d;
    d.s32 = Func(name + "_s32");
    if (arm() && !dotProd()) {
      // NEON without the dot product: int16 lane j of span sp adds the
      // products of signed q = stored - 8 and x at offset j of the span's
      // four runs (one smull, then three smlal per eight lanes: |sum| <= 4 *
      // 8 * 127 < 2^15); int32 lane m then adds int16 lanes 4m .. 4m + 3
      // (saddlp, addp), which hold the same group. (A product's four
      // adjacent columns summed to int32 at once, as sdot does, took
      // smull + saddlp + addp per eight products: A53 decode 0.5 weight
      // bytes a cycle.)
      d.e = RDom(0, 4, name + "_e");
      Expr run = d.e.x, byte = b(sp * 64 + (run % 2) * 32 + j, n);
      Expr q = i8(select(run < 2, byte & 15, byte >> 4)) - i8(8);
      d.s16 = Func(name + "_s16");
      d.s16(j, sp, n, r) = i16(0);
      d.s16(j, sp, n, r) += widening_mul(q, x(sp * 128 + run * 32 + j, r));
      d.p = RDom(0, 4, name + "_p");
      d.s32(m, sp, n, r) = 0;
      d.s32(m, sp, n, r) += i32(d.s16(4 * m + d.p, sp, n, r));
    } else if (arm()) {
      // The dot product: int32 lane m of span sp adds four adjacent products
      // of signed q = stored - 8 and x (one sdot) in each half of the span,
      // as the VNNI scheme below lays them out; lanes m and m + 8 hold the
      // same groups and are added into eight.
      d.e = RDom(0, 4, 0, 2, name + "_e");
      Expr half = d.e.y, byte = b(sp * 64 + 4 * m + d.e.x, n);
      Expr q = i8(select(half == 0, byte & 15, byte >> 4)) - i8(8);
      d.s32wide = Func(name + "_s32_wide");
      d.s32wide(m, sp, n, r) = 0;
      d.s32wide(m, sp, n, r) += i32(widening_mul(q, x(sp * 128 + half * 64 + 4 * m + d.e.x, r)));
      d.s32(m, sp, n, r) = d.s32wide(m, sp, n, r) + d.s32wide(m + 8, sp, n, r);
    } else if (vnni()) {
      // int32 lane m of span sp adds four adjacent products (one vpdpbusd,
      // unsigned q + 8 times signed x) in each half of the span: the low
      // nibbles of its 64 bytes (runs 0 and 1), then the high ones (runs 2
      // and 3), each half's x 64 bytes in a row.
      // Lanes m and m + 8 hold the same groups. Prefill, and decode with one
      // group per span (g128), scale all sixteen lanes; decode with more
      // groups adds lanes m and m + 8 into the eight lanes of the AVX2 scheme
      // below (its sixteen lanes' scales took a gather per span: g32 decoded
      // at 23 tok/s instead of 60; the addition cost prefill 8-14 %).
      d.e = RDom(0, 4, 0, 2, name + "_e");
      Expr half = d.e.y, byte = b(sp * 64 + 4 * m + d.e.x, n);
      Expr q = select(half == 0, byte & 15, byte >> 4);
      d.s32wide = Func(name + "_s32_wide");
      if (laneTables()) {
        // The + 8 comes off in integers: each lane starts at -8 times the
        // sum of its eight x, a lane table (xLaneOffset), where the float sums of scale(w) * xsum below cost each tile eight-lane FMAs
        // over all the groups (1.5B g32 prefill +3-4 %; at g128, whose
        // twelve groups cost less than the sums' loads and copies, -5 %).
        if (!xLaneOffset.defined()) {
          // (As a product of unsigned 8 and signed -x, a vpdpbusd per half:
          // |x| <= 127, so -x fits int8.)
          xLaneOffsetSum = RDom(0, 4, 0, 2, "x_lane_offset_e");
          RVar e = xLaneOffsetSum.x, half = xLaneOffsetSum.y;
          xLaneOffset(m, sp, r) = 0;
          xLaneOffset(m, sp, r) += i32(widening_mul(u8(8), -x(sp * 128 + half * 64 + 4 * m + e, r)));
        }
        d.s32wide(m, sp, n, r) = xLaneOffset(m, sp, r);
      } else {
        d.s32wide(m, sp, n, r) = 0;
      }
      d.s32wide(m, sp, n, r) += i32(widening_mul(u8(q), x(sp * 128 + half * 64 + 4 * m + d.e.x, r)));
      d.s32(m, sp, n, r) = sixteenLanes(groupsPerSpan) ? d.s32wide(m, sp, n, r)
                                                       : d.s32wide(m, sp, n, r) + d.s32wide(m + 8, sp, n, r);
    } else {
      // int16 lane j of span sp: pairs 2j, 2j + 1 of each of the span's four
      // runs of 32 stored columns (runs 2 and 3 in the high nibbles of the
      // bytes of runs 0 and 1). Each pair is a vpmaddubsw (unsigned q + 8
      // times signed x), the runs added in int16: |sum| <= 4 * 2 * 15 * 127
      // < 2^15, so the saturating adds Halide needs for that pattern never
      // saturate.
      d.e = RDom(0, 2, 0, 4, name + "_e");
      Expr run = d.e.y, byte = b(sp * 64 + (run % 2) * 32 + 2 * j + d.e.x, n);
      Expr q = select(run < 2, byte & 15, byte >> 4);
      d.s16 = Func(name + "_s16");
      d.s16(j, sp, n, r) = i16(0);
      d.s16(j, sp, n, r) =
          saturating_add(d.s16(j, sp, n, r), widening_mul(u8(q), x(sp * 128 + run * 32 + 2 * j + d.e.x, r)));
      // int32 lane m adds int16 lanes 2m, 2m + 1 (vpmaddwd with ones).
      d.p = RDom(0, 2, name + "_p");
      d.s32(m, sp, n, r) = 0;
      d.s32(m, sp, n, r) += i32(widening_mul(d.s16(2 * m + d.p, sp, n, r), i16(1)));
    }
    // Every run puts the same groups in the same lanes, so lane m belongs to
    // group (m % 8) / (8 / groupsPerSpan) of the span.
    const auto groupOfLane = [&](Expr span) {
      return groupsPerSpan == 1 ? span : span * groupsPerSpan + (m % 8) / (8 / groupsPerSpan);
    };
    const int L = sixteenLanes(groupsPerSpan) ? 16 : 8;
    // Otherwise the + 8 comes off as sum over groups of scale(w) * xsum:
    // eight groups a step in vector lanes, then the last groups % 8 as the
    // top lanes of the last eight groups (a blend, not a masked load: AVX2's
    // masked moves are slow on this CPU, and the tail as one lane-0 step per
    // group cost the 0.5B g128 prefill 10 %). (A scalar loop over all the
    // groups made the 4864x896 g32 prefill 1.5x slower: 28 groups per row and
    // token against 7 spans.) With fewer than eight groups (the 0.5B g128's
    // seven), it is taken off the total instead, a prefill tile's four tokens
    // in one vector: xsum is read with the tokens innermost (one copy per
    // four tokens).
    const int groups = int(K) / G, full = groups / 8, tail = groups % 8;
    d.spans = RDom(0, spans, name + "_rs");
    d.spanLoop = d.spans.x;
    Expr g = groupOfLane(d.spans);
    d.partial = Func(name + "_partial");
    d.total = Func(name);
    if (laneTables() || arm()) {
      d.partial(m, n, r) = 0.0f;
      d.total(n, r) = 0.0f;
    } else if (groups < 8) {
      RDom gt(0, groups, name + "_gt");
      if (!xsumByToken.defined()) // one copy serves both products of a gated kernel
        xsumByToken(r, gv) = xsum(gv, r);
      d.fewGroups = Func(name + "_few_groups");
      d.fewGroups(n, r) = 0.0f;
      d.fewGroups(n, r) += s(gt, n) * xsumByToken(r, gt);
      d.partial(m, n, r) = 0.0f;
      d.total(n, r) = -d.fewGroups(n, r);
    } else {
      d.offset = Func(name + "_offset");
      d.offset(m, n, r) = 0.0f;
      RDom go(0, full, name + "_go");
      d.offset(m, n, r) += s(go * 8 + m, n) * xsum(go * 8 + m, r);
      if (tail > 0)
        d.offset(m, n, r) += select(m >= 8 - tail, s(groups - 8 + m, n) * xsum(groups - 8 + m, r), 0.0f);
      // (Sixteen lanes: the offset's eight go to the first eight.)
      d.partial(m, n, r) = L == 8 ? -d.offset(m, n, r) : select(m < 8, -d.offset(min(m, 7), n, r), 0.0f);
      d.total(n, r) = 0.0f;
    }
    // Each lane's scale(w) x scale(x): with VNNI's sixteen lanes in prefill
    // and more than one group per span, scale(x) spread to the lanes in a
    // lane table (xLanes: 64 bytes per span and token) and scale(w) to the
    // lanes once per span, shared by the tile's tokens; a lane then costs a
    // multiply by memory and an FMA, where a table of the groups' products
    // made per tile cost a broadcast and a shuffle per token and span (0.5B
    // g32 prefill +10 %, 1.5B +9 %, then with 2-column tiles +3 % more on
    // the 1.5B's down projection, whose 70 spans had kept the table).
    if (laneTables()) {
      if (!xLanes.defined())
        xLanes(m, sp, r) = xscale(groupOfLane(sp), r);
      d.partial(m, n, r) += f32(d.s32(m, d.spans, n, r)) * xLanes(m, d.spans, r) * s(g, n);
    } else {
      d.groupScale = Func(name + "_group_scale");
      d.groupScale(gv, n, r) = s(gv, n) * xscale(gv, r);
      d.partial(m, n, r) += f32(d.s32(m, d.spans, n, r)) * d.groupScale(g, n, r);
    }
    d.lanes = RDom(0, L, name + "_lr");
    d.total(n, r) += d.partial(d.lanes, n, r);
    int4Dots.push_back(d);
    return d.total;
  }

  /// sum_k x(k, r) * W(k, n) with L partial sums: 32 (four vectors) for
  /// decode, 8 (one vector per column and token of a tile) for prefill.
  Func dotProduct(const std::string &name, const Input<Buffer<>> &b, const Input<Buffer<float>> &s) {
    if (std::string(quant) == "int8")
      return intDotProduct(name, b, s);
    if (std::string(quant) == "int4")
      return int4DotProduct(name, b, s);
    const int L = prefill ? 8 : 32;
    RDom ko(0, int(K) / L, name + "_ko");
    Func partial(name + "_partial"), total(name);
    partial(l, n, r) = 0.0f;
    partial(l, n, r) += x(ko * L + l, r) * weight(b, ko * L + l, n);
    RDom lr(0, L, name + "_lr");
    total(n, r) = 0.0f;
    total(n, r) += partial(lr, n, r);
    partials.push_back(partial);
    totals.push_back(total);
    lanes.push_back(lr);
    blocks.push_back(ko);
    return total;
  }

  void generate() {
    if (tiles) {
      generateTiles();
      return;
    }
    if (int(K) % 32 != 0)
      throw std::runtime_error("qwen_matmul needs K to be a multiple of 32");
    Func a = dotProduct("dot", w, scale);
    Expr out = a(n, r);
    if (gated) {
      Func b = dotProduct("dot2", w2, scale2);
      out = out / (1.0f + exp(-out)) * b(n, r);
    } else if (has_bias) {
      out = out + bias(n);
    }
    y(n, r) = out;

    Var no("no"), ni("ni"), ri("ri");
    const std::string q = quant;
    if (prefill) {
      // Column blocks of about 128 KiB of weights stay in L2 while the tokens
      // pass over them in tiles of 2 columns x 4 tokens: each weight vector
      // (widened once) meets four tokens, each token vector two columns.
      // int8 (measured on 8960x1536, 64 rows: 160 GMAC/s; 1x4 135, 1x8 137,
      // 3x4 136, 2x6 114, 4x4 98 - more accumulators than registers); floats
      // keep 8 accumulators of FMAs the same way. ShiftInwards: the last
      // four tokens overlap the ones before (the caller passes at least four
      // rows), so every buffer has a fixed size. A tile's eight sums are then
      // reduced across their lanes in vectors (not lane by lane in scalars:
      // 1.5B int8 prefill +3 %). The AVX-512 variant's 32 registers hold
      // tiles of 4 columns x 4 tokens (1.5B int8 prefill 209 -> 256 tok/s,
      // 0.5B bf16 279 -> 323).
      const int rowBytes = q == "f32" ? 4 * int(K) : q == "bf16" ? 2 * int(K) : q == "int8" ? int(K) : int(K) / 2;
      // With lane tables, made per block and group of four tokens (see
      // scheduleLaneTables), blocks of up to 512 KiB (of L2's 1 MiB here)
      // share each table among more columns: 1.5B g32 prefill 276 -> 291
      // tok/s, 0.5B 976 -> 1004 (g128, without tables: no change). Chunked
      // spans (below) keep a block's partial sums, 256 bytes a column: at
      // most 64 columns, as Halide takes more than 16 KiB from the heap.
      const bool tables = laneTables();
      const int chunk = spansPerChunk();
      int most = std::min(256, (int(l2_kib) << 10) / (tables ? 2 : 8) / rowBytes);
      if (chunk < int(K) / 128)
        most = std::min(most, 64);
      const int block = balancedBlock(int(N), most);
      // The partial sums need whole blocks: the last block overlaps the one
      // before (ShiftInwards), as the last four tokens do.
      const bool chunked = chunk < int(K) / 128 && block <= int(N);
      Var nio("nio"), nii("nii");
      y.split(n, no, ni, block, chunked ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
          .split(r, ro, ri, 4, TailStrategy::ShiftInwards);
      // int4 tiles are 1 column x 4 tokens with AVX2 (ni itself: a split by
      // 1 left GuardWithIf off the tiles, whose producers then read past N),
      // the tile's four outputs (the gated product's SiLU) made in one
      // vector (1.5B g128 prefill +2-4 %; 2 columns x 4 tokens, the columns'
      // loops one after the other or interleaved, were slower with 16
      // registers). With AVX-512's 32 registers, 2 columns x 4 tokens: each
      // x vector loaded once for both columns, the two columns' chains side
      // by side (1.5B g128 prefill 231 -> 311 tok/s, 0.5B g32 705 -> 826).
      const bool twoColumns = q == "int4" && registers() == 32;
      if (twoColumns)
        y.split(ni, nio, nii, 2, TailStrategy::GuardWithIf)
            .reorder(ri, nii, nio, ro, no)
            .vectorize(ri)
            .unroll(nii)
            .parallel(no);
      else if (q == "int4")
        y.reorder(ri, ni, ro, no).vectorize(ri).parallel(no);
      else
        y.split(ni, nio, nii, floatTileColumns(), TailStrategy::GuardWithIf)
            .reorder(ri, nii, nio, ro, no)
            .parallel(no);
      for (size_t i = 0; i < intTotals.size(); ++i) {
        intTotals[i].compute_at(y, nio);
        intTotals[i].update().reorder(intLanes[i].x, r, n).atomic().vectorize(intLanes[i].x);
        intPartials[i].compute_at(intTotals[i], Var::outermost()).vectorize(l);
        intPartials[i]
            .update()
            .reorder(intBlocks[i].y, l, r, n, intBlocks[i].x)
            .atomic()
            .vectorize(intBlocks[i].y)
            .vectorize(l)
            .unroll(r)
            .unroll(n);
      }
      // int4: each unpacked weight vector meets the tile's four tokens; the
      // groups' scale(w) x scale(x) are made once per tile. Against the C++
      // AVX2 kernel these replaced, 128 tokens (GMAC/s): 8960x1536 g128 255
      // vs 226, 4864x896 g32 194 vs 177.
      for (Int4Dot &d : int4Dots) {
        d.total.compute_at(y, twoColumns ? nio : ni);
        d.total.vectorize(r);
        d.total.update().reorder(d.lanes.x, r, n).atomic().vectorize(d.lanes.x).vectorize(r);
        if (twoColumns) {
          // Each column's four tokens stored together (here and in partial):
          // n innermost, the tile's vectors over r were stride-2 stores
          // (0.5B g128 prefill 418 tok/s against 900).
          d.total.reorder_storage(r, n).unroll(n);
          d.total.update().unroll(n);
          if (d.fewGroups.defined())
            d.fewGroups.reorder_storage(r, n);
        }
        scheduleInt4Offset(d, true, n);
        LoopLevel tablesAt(y, ro);
        if (chunked) {
          // Long rows with lane tables (the g32/g64 down projections): the
          // tiles of a block's columns go through the spans a chunk at a
          // time, the block's partial sums kept between chunks, so that a
          // chunk's x and lane tables stay in L1 while the column pairs pass:
          // the 1.5B's 8960 columns (70 spans) took 72 KiB a tile. 1.5B g32
          // prefill +5-6 %, its down projection's kernel -23 % of its time.
          Var pair("pair"), inPair("in_pair");
          RVar chunkOf("span_chunk"), inChunk("span_in_chunk");
          d.partial.compute_at(y, ro).vectorize(m).reorder_storage(m, r, n);
          d.partial.update()
              .split(n, pair, inPair, 2, TailStrategy::GuardWithIf)
              .split(d.spans.x, chunkOf, inChunk, chunk, TailStrategy::GuardWithIf)
              .reorder(m, r, inPair, inChunk, pair, chunkOf)
              .vectorize(m)
              .unroll(r)
              .unroll(inPair);
          d.spanLoop = inChunk;
          tablesAt = LoopLevel(d.partial, chunkOf);
        } else {
          d.partial.compute_at(d.total, Var::outermost()).vectorize(m);
          d.partial.update().reorder(m, r, n, d.spans.x).vectorize(m).unroll(r);
          if (twoColumns) {
            d.partial.reorder_storage(m, r, n).unroll(n);
            d.partial.update().unroll(n);
          }
        }
        // In vectors of eight (four with fewer groups: the 0.5B's seven), the
        // last vector overlapping the one before (ShiftInwards) rather than
        // masking: masked stores are slow here. (Made per span instead, the
        // 0.5B g128's seven groups cost a multiply and a broadcast per token
        // and span.)
        const int groups = int(K) / int(group);
        if (tables) {
          if (&d == &int4Dots.front()) // (a gated kernel's two products share them)
            scheduleLaneTables(tablesAt, chunked ? chunk : int(K) / 128);
        } else if (groups >= 4) {
          d.groupScale.compute_at(d.total, Var::outermost())
              .vectorize(gv, groups >= 8 ? 8 : 4, TailStrategy::ShiftInwards);
        }
        scheduleInt4Span(d, true);
      }
      for (size_t i = 0; i < totals.size(); ++i) {
        totals[i].compute_at(y, nio);
        totals[i].update().reorder(lanes[i].x, r, n).atomic().vectorize(lanes[i].x);
        partials[i].compute_at(totals[i], Var::outermost()).vectorize(l);
        partials[i].update().reorder(l, r, n, blocks[i].x).vectorize(l).unroll(r).unroll(n);
      }
    } else {
      // Decode: one row at a time (the rows loop outermost keeps every
      // buffer a fixed size), its columns in parallel blocks of up to 256. The
      // weights are asked for 8 KiB ahead of use (prefetch, NonFaulting: past
      // a block's last row it reaches the next rows, which never faults);
      // without, the 1.5B int8 decoded at 32 tok/s instead of 40. int4's
      // group scales too, the same number of spans ahead (at g32 a quarter
      // of the weights' bytes: without, 1.5B g32 decoded at 66 tok/s
      // instead of 72, at about 77 GB/s; g128 the same either way).
      // int4 computes eight columns at a time (for the gated product, the
      // gate's eight rows, then the up projection's), so the SiLU and the
      // product run in vectors of eight: one block of 256 rows per product
      // decoded 1.5B g32 gated 10 % slower, and a scalar SiLU per column
      // cost an expf and a division each.
      Var nio("nio"), nii("nii");
      // Batched decode (batch > 1: the decode steps of several sequences at
      // once): each weight, loaded once, meets `batch` rows, whose products
      // are unrolled side by side. A block's rows go in groups of `batch`
      // (the last group overlapping the one before: ShiftInwards), the
      // block's weights streamed from memory for the first group and from
      // L2 for the others. (The rows one at a time read the weights once per
      // row: 0.5B int8 two rows 25.2 ms a step against one row's 11.6.)
      // Its blocks are whole (the last overlapping the one before), so that
      // every tile of columns below is.
      const bool batched = int(batch) > 1 && !arm();
      const int block = balancedBlock(int(N), 256);
      const bool wholeBlocks = batched && int(N) >= block;
      y.split(n, no, ni, block, wholeBlocks ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf);
      if (batched)
        y.split(r, ro, ri, batch, TailStrategy::ShiftInwards);
      // On ARM two columns at a time, whose spans run side by side (below);
      // an odd last column overlaps the one before (ShiftInwards), so that
      // every pair is whole.
      // The same for int8 and float weights: each x vector loaded once for
      // both columns (an A53 loads 128 bits in two cycles; one column at a
      // time its bf16 loop read twice as many bytes of x as of weights).
      if (arm())
        y.split(ni, nio, nii, 2, int(N) >= 2 ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
            .reorder(nii, nio, no, r)
            .vectorize(nii)
            .parallel(no);
      else if (q == "int4" && batched) // (ShiftInwards: whole pairs of columns, see below)
        y.split(ni, nio, nii, 8, wholeBlocks ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
            .reorder(nii, ri, nio, ro, no)
            .vectorize(nii)
            .parallel(no);
      else if (q == "int4")
        y.split(ni, nio, nii, 8, TailStrategy::GuardWithIf).reorder(nii, nio, no, r).vectorize(nii).parallel(no);
      else if (batched) // tiles of 2 columns: each x vector loaded once for both (1 column x 4 rows was
                        // bound by the loads: 8 of x per 8 vpdpwssd)
        y.split(ni, nio, nii, 2, int(N) >= 2 ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf)
            .reorder(nii, ri, nio, ro, no)
            .parallel(no);
      else
        y.reorder(ni, no, r).parallel(no);
      const int prefetchBytes = 8192;
      for (size_t i = 0; i < intTotals.size(); ++i) {
        RVar ko("ko"), ki("ki");
        if (arm()) { // the pair's columns side by side
          intTotals[i].compute_at(y, nio);
          intPartials[i].compute_at(intTotals[i], Var::outermost()).vectorize(l);
          intPartials[i]
              .update()
              .split(intBlocks[i].x, ko, ki, 64 / (2 * intLaneCount()))
              .reorder(intBlocks[i].y, l, n, ki, ko)
              .atomic()
              .vectorize(intBlocks[i].y)
              .vectorize(l)
              .unroll(n)
              .unroll(ki)
              .prefetch(i == 0 ? w : w2, ko, ko, prefetchBytes / 64, PrefetchBoundStrategy::NonFaulting);
          continue;
        }
        // Batched: a tile of 2 columns x the batch's rows (see above).
        // Each column's lanes are added in a vector, in every variant (one
        // by one in scalars, a chain of 16 conversions and adds cost more
        // than the column's products once several rows share the weights'
        // loads; and a row's sums do not depend on the rows of the call).
        intTotals[i].compute_at(y, batched ? nio : no);
        intTotals[i].update().reorder(intLanes[i].x, r, n).atomic().vectorize(intLanes[i].x);
        intPartials[i].compute_at(intTotals[i], batched ? Var::outermost() : n).vectorize(l);
        intPartials[i]
            .update()
            .split(intBlocks[i].x, ko, ki, 64 / (2 * intLaneCount()))
            .reorder(intBlocks[i].y, l, r, n, ki, ko)
            .atomic()
            .vectorize(intBlocks[i].y)
            .vectorize(l)
            .unroll(ki) // a step of ko: 64 int8 columns, one prefetch per 64 bytes
            .prefetch(i == 0 ? w : w2, ko, ko, prefetchBytes / 64, PrefetchBoundStrategy::NonFaulting);
        if (batched) // the tile's products side by side
          intPartials[i].update().unroll(r).unroll(n);
      }
      for (size_t i = 0; i < int4Dots.size(); ++i) {
        Int4Dot &d = int4Dots[i];
        d.total.compute_at(y, nio);
        // Batched with 32 registers: tiles of 2 columns x the batch's rows,
        // each x vector loaded once for both columns (with AVX2's 16, the
        // tile's int16 and float sums would not fit).
        const bool pairs = wholeBlocks && registers() == 32;
        Var pair("pair"), inPair("in_pair");
        if (!arm()) {
          // A column's rows together, its lanes added in a vector (see
          // int8's; the same in every variant, so that a row's sums do not
          // depend on how many rows a call has).
          if (pairs)
            d.total.update()
                .split(n, pair, inPair, 2, TailStrategy::RoundUp)
                .reorder(d.lanes.x, r, inPair, pair)
                .atomic()
                .vectorize(d.lanes.x);
          else
            d.total.update().reorder(d.lanes.x, r, n).atomic().vectorize(d.lanes.x);
        }
        scheduleInt4Offset(d, false, pairs ? pair : n);
        if (arm()) {
          // Two columns' spans side by side: their chains of multiply-adds
          // and conversions are independent, which an in-order core (A53,
          // A55) needs to issue every cycle (one column at a time: A53 103
          // cycles a span by llvm-mca, against a bound of 40).
          d.partial.compute_at(d.total, Var::outermost()).vectorize(m);
          d.partial.update()
              .reorder(m, n, d.spans.x)
              .vectorize(m)
              .unroll(n)
              .prefetch(i == 0 ? w : w2, d.spans.x, d.spans.x, prefetchBytes / 64, PrefetchBoundStrategy::NonFaulting)
              .prefetch(i == 0 ? scale : scale2, d.spans.x, d.spans.x, prefetchBytes / 64,
                        PrefetchBoundStrategy::NonFaulting);
        } else {
          d.partial.compute_at(d.total, pairs ? pair : n).vectorize(m);
          d.partial.update()
              .reorder(m, r, n, d.spans.x)
              .vectorize(m) // a span: 64 bytes of weights, one prefetch
              .prefetch(i == 0 ? w : w2, d.spans.x, d.spans.x, prefetchBytes / 64, PrefetchBoundStrategy::NonFaulting)
              .prefetch(i == 0 ? scale : scale2, d.spans.x, d.spans.x, prefetchBytes / 64, PrefetchBoundStrategy::NonFaulting);
          if (batched) // the tile's products side by side
            d.partial.update().unroll(r);
          if (pairs)
            d.partial.update().unroll(n);
        }
        scheduleInt4Span(d, arm() || batched);
      }
      for (size_t i = 0; i < totals.size(); ++i) {
        const int stepBytes = q == "f32" ? 4 * 32 : 2 * 32; // 32 columns a step of blocks.x
        if (arm()) { // the pair's columns side by side
          totals[i].compute_at(y, nio);
          partials[i].compute_at(totals[i], Var::outermost()).vectorize(l);
          partials[i]
              .update()
              .reorder(l, n, blocks[i].x)
              .vectorize(l)
              .unroll(n)
              .prefetch(i == 0 ? w : w2, blocks[i].x, blocks[i].x, prefetchBytes / stepBytes,
                        PrefetchBoundStrategy::NonFaulting);
          continue;
        }
        totals[i].compute_at(y, batched ? nio : no);
        if (batched) // a column's rows together
          totals[i].update().reorder(lanes[i].x, r, n);
        partials[i].compute_at(totals[i], n).vectorize(l);
        partials[i]
            .update()
            .reorder(l, r, blocks[i].x)
            .vectorize(l)
            .prefetch(i == 0 ? w : w2, blocks[i].x, blocks[i].x, prefetchBytes / stepBytes,
                      PrefetchBoundStrategy::NonFaulting);
        if (batched) // the rows side by side
          partials[i].update().unroll(r);
      }
    }

    const int kw = std::string(quant) == "int4" ? int(K) / 2 : int(K);
    x.dim(0).set_bounds(0, K);
    w.dim(0).set_bounds(0, kw).dim(1).set_bounds(0, N).dim(1).set_stride(kw);
    w2.dim(0).set_bounds(0, kw).dim(1).set_bounds(0, N).dim(1).set_stride(kw);
    y.dim(0).set_bounds(0, N);
    x.dim(1).set_stride(K);
    y.dim(1).set_stride(N);
  }

  /// Rows of x a prefill tile of weights in column tiles takes at once
  /// (the caller passes at least that many: LoweringConfig::prefillRows).
  int tilePrefillRows() const { return registers() == 32 ? 8 : 4; }

  /// int8 weights in column tiles (runtime/int8_layout.h), x86 only: w(T*K,
  /// N/T), tile t's bytes for column pair j at (j * T + row) * 2. A vector
  /// of int32 lanes holds the tile's T outputs; each step loads the tile's
  /// weights for one pair of x's columns (vpmovsxbw) and adds their
  /// products with x's pair, broadcast, for every row of x at once
  /// (vpdpwssd; AVX2: vpmaddwd + vpaddd on two vectors). The weights are
  /// read once, in order, however many rows there are (rows' decode tiles
  /// of 2 columns read two streams). Each int32 sum adds at most K/8 products (the bound
  /// int16_input_max keeps): the row goes in 8 chunks, each chunk's sums
  /// converted and added in floats. Decode with VNNI keeps two sums a lane
  /// (alternate pairs), so that consecutive vpdpwssd do not wait on each
  /// other. Decode: tiles of T columns x `batch` rows in parallel blocks of
  /// up to 256 columns; prefill: T columns x tilePrefillRows() tokens, the
  /// blocks' weights kept in L2 while the token groups pass. Every variant
  /// asks for the weights 8 KiB ahead (prefill too: its first token group
  /// streams them; without, 0.5B 8 rows took 51 ms against 28-32).
  ///
  /// int4 (groups of 128) in the column tiles of runtime/int4_layout.h:
  /// w(T*K/2, N/T), scale(T*K/128, N/T); a step is 64 bytes, 8 columns of
  /// the tile's T outputs, 4 a lane in each nibble half: with VNNI one
  /// vpdpbusd per half and row (x's 4 bytes an embedded broadcast), with
  /// AVX2 pmaddubsw + pmaddwd (see int16Pairs). A group's sums are scaled
  /// as the rows' kernels scale them (scale(w) * (sum * scale(x) - xsum)).
  void generateTiles() {
    const bool int4 = std::string(quant) == "int4";
    if (arm() || !(int4 || std::string(quant) == "int8"))
      throw std::runtime_error("qwen_matmul: tiles=true is for int8 and int4 weights on x86");
    const int T = int4 ? qwenc_rt::int4::kTileRows : qwenc_rt::int8::kTile, P = qwenc_rt::int8::kPair;
    const int G = int4 ? int(group) : 0, chunks = int4 ? int(K) / G : 8;
    if (int(N) % T != 0 || int(K) % 128 != 0 || (int4 && G != qwenc_rt::int4::kTileGroup))
      throw std::runtime_error("qwen_matmul: tiles=true needs N a multiple of 16, K of 128 (int4: groups of 128)");
    // Independent sums a lane: int8 decode with VNNI two (alternate pairs);
    // int4 with VNNI two (the bytes' low and high nibbles).
    // int4 with AVX2 (no vpdpbusd): pmaddubsw's int16 pairs summed over
    // kInt16Steps steps of both nibbles (|sum| <= 8 * 2 * 15 * 128 < 2^15),
    // then widened by pmaddwd with ones (a lane per column) and added.
    const bool int16Pairs = int4 && !vnni();
    constexpr int kInt16Steps = 4;
    const int H = int16Pairs ? 1 : int4 ? 2 : (prefill || !vnni() ? 1 : 2);
    const int R = prefill ? tilePrefillRows() : int(batch);
    const int chunkK = int(K) / chunks;
    // int8: rk.x pairs of x's columns (H at a time), rk.y a pair's two.
    // int4 with VNNI: rk.x a lane's 4 bytes, rk.y the steps of 8 columns of
    // a group (the nibble half is hv).
    RDom rk = int4 ? RDom(0, 4, 0, G / 8, "rk") : RDom(0, chunkK / (P * H), 0, P, "rk");
    Var nl("nl"), hv("h"), c("c"), ng("ng");
    std::vector<Func> partialsOf, totalsOf, int16Of;
    std::vector<RDom> chunkDoms;
    Var l16("l16"), sc("sc"); // AVX2 int4: a lane's pair, the int16 sums of a group
    RDom r16(0, 2, 0, 2, 0, kInt16Steps, "r16"); // a pair's two bytes, the nibble, the steps
    RDom rp(0, 2, 0, G ? G / 8 / kInt16Steps : 1, "rp"); // a column's two int16, the int16 sums of a group
    auto dot = [&](const Input<Buffer<>> &b, const Input<Buffer<float>> &s, const std::string &name) {
      Func partial(name + "_tile_partial"), total(name + "_tile_total");
      partial(nl, hv, c, ng, r) = 0;
      if (int16Pairs) {
        // int16 lane (l16, nl): column nl's bytes 2 l16 and 2 l16 + 1 of
        // each step (pmaddubsw), the lanes in the weights' order, so that
        // x's four bytes of a step meet every column as one broadcast.
        Func p16(name + "_tile_int16");
        Expr step = c * (G / 8) + sc * kInt16Steps + r16.z, half = r16.y;
        Expr byte = b(step * (T * 4) + nl * 4 + l16 * 2 + r16.x, ng);
        Expr q = select(half == 0, byte & 15, byte >> 4);
        p16(l16, nl, sc, c, ng, r) = i16(0);
        p16(l16, nl, sc, c, ng, r) = saturating_add(
            p16(l16, nl, sc, c, ng, r), widening_mul(u8(q), x(step * 8 + half * 4 + l16 * 2 + r16.x, r)));
        // A column's two int16 lanes added as int32 (pmaddwd with ones).
        partial(nl, hv, c, ng, r) += i32(widening_mul(p16(rp.x, nl, rp.y, c, ng, r), i16(1)));
        int16Of.push_back(p16);
      } else if (int4) {
        Expr step = c * (G / 8) + rk.y;
        Expr byte = b(step * (T * 4) + nl * 4 + rk.x, ng);
        Expr q = select(hv == 0, byte & 15, byte >> 4);
        partial(nl, hv, c, ng, r) += i32(widening_mul(u8(q), x(step * 8 + hv * 4 + rk.x, r)));
      } else {
        Expr pairIndex = c * (chunkK / P) + rk.x * H + hv;
        partial(nl, hv, c, ng, r) += i32(b(pairIndex * (T * P) + nl * P + rk.y, ng)) * i32(x(pairIndex * P + rk.y, r));
      }
      RDom rc(0, chunks, name + "_rc");
      Expr sum = partial(n % T, 0, rc, n / T, r);
      for (int h = 1; h < H; ++h)
        sum = sum + partial(n % T, h, rc, n / T, r);
      total(n, r) = 0.0f;
      if (int4) // (stored q + 8: xsum is 8 x the group's sum of x)
        total(n, r) += s(rc * T + n % T, n / T) * (f32(sum) * xscale(rc, r) - xsum(rc, r));
      else
        total(n, r) += f32(sum);
      partialsOf.push_back(partial);
      totalsOf.push_back(total);
      chunkDoms.push_back(rc);
      return int4 ? total(n, r) : total(n, r) * (xscale(0, r) * s(0, n));
    };
    Expr out = dot(w, scale, "dot");
    if (gated) {
      Expr b2 = dot(w2, scale2, "dot2");
      out = out / (1.0f + exp(-out)) * b2;
    } else if (has_bias) {
      out = out + bias(n);
    }
    y(n, r) = out;

    Var no("no"), ni("ni"), nv("nv"), nll("nll"), ri("ri");
    const int most = prefill ? std::min(256, (int(l2_kib) << 10) / 8 / int(K)) : 256;
    const int block = std::min(balancedBlock(int(N), std::max(most, T)), int(N));
    y.split(n, no, ni, block, TailStrategy::ShiftInwards).split(ni, nv, nll, T);
    if (R > 1)
      y.split(r, ro, ri, R, TailStrategy::ShiftInwards).reorder(nll, ri, nv, ro, no).vectorize(nll).unroll(ri);
    else
      y.reorder(nll, nv, no, r).vectorize(nll);
    y.parallel(no);
    // The weights' loop: int8 rk.x (H pairs of 16 rows a step), int4 rk.y
    // (64 bytes a step).
    const RVar stepLoop = int4 ? rk.y : rk.x;
    const int prefetchSteps = 8192 / (int4 ? T * 4 : H * T * P);
    for (size_t i = 0; i < partialsOf.size(); ++i) {
      Func total = totalsOf[i], partial = partialsOf[i];
      total.compute_at(y, nv).vectorize(n, T);
      total.update().reorder(n, r, chunkDoms[i].x).vectorize(n, T);
      partial.compute_at(total, chunkDoms[i].x).vectorize(nl, T).unroll(hv);
      if (int16Pairs) {
        Func p16 = int16Of[i];
        partial.update().reorder(rp.x, nl, r, rp.y).atomic().vectorize(rp.x).vectorize(nl, T);
        p16.compute_at(partial, rp.y).vectorize(l16).vectorize(nl, T);
        // (atomic(true): Halide cannot prove saturating_add associative; the sums never saturate.)
        p16.update()
            .reorder(r16.x, l16, nl, r, r16.y, r16.z)
            .atomic(true)
            .vectorize(r16.x)
            .vectorize(l16)
            .vectorize(nl, T)
            .unroll(r16.y)
            .prefetch(i == 0 ? w : w2, r16.z, r16.z, prefetchSteps, PrefetchBoundStrategy::NonFaulting);
        if (R > 1) {
          p16.unroll(r);
          p16.update().unroll(r);
        }
      } else {
        if (int4)
          partial.update().reorder(rk.x, nl, hv, r, rk.y).atomic().vectorize(rk.x);
        else
          partial.update().reorder(rk.y, nl, hv, r, rk.x).atomic().vectorize(rk.y);
        partial.update()
            .vectorize(nl, T)
            .unroll(hv)
            .prefetch(i == 0 ? w : w2, stepLoop, stepLoop, prefetchSteps, PrefetchBoundStrategy::NonFaulting);
      }
      if (R > 1) {
        total.unroll(r);
        total.update().unroll(r);
        partial.unroll(r);
        partial.update().unroll(r);
      }
    }
    x.dim(0).set_bounds(0, K);
    x.dim(1).set_stride(K);
    const int tileBytes = int4 ? T * int(K) / 2 : T * int(K);
    for (const Input<Buffer<>> *b : {&w, &w2})
      b->dim(0).set_bounds(0, tileBytes).dim(1).set_bounds(0, int(N) / T).dim(1).set_stride(tileBytes);
    y.dim(0).set_bounds(0, N);
    y.dim(1).set_stride(N);
  }

private:
  /// Columns of a prefill tile of four tokens (int8, floats): each column
  /// and token keeps eight float lanes of sums, and half the registers hold
  /// them (AVX2: 2, AVX-512: 4, NEON: 2).
  int floatTileColumns() const {
    const int vectorsPerSum = std::max(1, 8 / get_target().natural_vector_size<float>());
    return std::max(1, registers() / 2 / (4 * vectorsPerSum));
  }

  std::vector<Func> partials, totals, intPartials, intTotals;
  std::vector<RDom> lanes, blocks, intBlocks, intLanes;
  struct Int4Dot {
    Func s16, s32wide, s32, fewGroups, offset, groupScale, partial, total;
    RDom e, p, spans, lanes;
    RVar spanLoop; // the loop of partial's update over the spans (spans.x, or a chunk's)
  };

  /// int4 prefill with lane tables: the spans a tile takes at a time, as
  /// even a split of the row as chunks whose x and lane tables for the
  /// tile's four tokens (1 KiB a span) fit in 24 KiB, half of L1 allow; a
  /// shorter last chunk is a loop of its own (Halide partitions the guarded
  /// loop), so every buffer keeps a constant size. (Divisors of the row's
  /// spans only had left the 3B's 86 spans chunks of 2, the 7B's 148 of 4;
  /// the 1.5B's 70: 14 or 24 and 22, the same speed. Without lane tables,
  /// chunks of 14 or 35 spans made the 1.5B g128 neither faster nor slower.
  /// Gated kernels, whose rows are the model's width, are not chunked:
  /// their two products share the lane tables.)
  int spansPerChunk() const {
    const int spans = int(K) / 128;
    if (!laneTables() || gated)
      return spans;
    const int chunks = (spans + 23) / 24;
    return (spans + chunks - 1) / chunks;
  }

  /// The lane tables (xLanes, xLaneOffset: 16 lanes a span and token) of a
  /// tile's four tokens, per block and group of four tokens, or per chunk of
  /// spans: at most 64 spans (a gated kernel's, whose two products share
  /// them, are not chunked; see spansPerChunk), 16 KiB, so that Halide
  /// keeps them on the stack. Made once per call for all the rows, they had
  /// been buffers of the rows' size, taken from the heap on every call (and
  /// generating must allocate nothing).
  void scheduleLaneTables(LoopLevel at, int spans) {
    // (bound_storage: in the last block, which Halide's loop partitioning
    // leaves whole, a chunk's size is an expression, and had come from the
    // heap.)
    xLanes.compute_at(at).bound_storage(sp, spans).vectorize(m);
    xLaneOffset.compute_at(at).bound_storage(sp, spans).vectorize(m);
    xLaneOffset.update()
        .reorder(xLaneOffsetSum.x, m, xLaneOffsetSum.y)
        .atomic()
        .vectorize(xLaneOffsetSum.x)
        .vectorize(m)
        .unroll(xLaneOffsetSum.y);
  }

  /// The + 8's sums, per row (decode: in total's loop `column`) or tile
  /// (prefill), in vector lanes (with fewer than eight groups, in the tile's
  /// tokens); nothing with lane tables, whose integer offsets take it off.
  void scheduleInt4Offset(Int4Dot &d, bool tile, Var column) {
    if (laneTables() || arm())
      return; // the lane tables' (scheduleLaneTables), or none (signed weights)
    const LoopLevel at = tile ? LoopLevel(d.total, Var::outermost()) : LoopLevel(d.total, column);
    if (d.fewGroups.defined()) {
      // (Read by total's pure definition, which has no loop over pairs of
      // columns: decode computes it for all of total's columns at once.)
      d.fewGroups.compute_at(LoopLevel(d.total, Var::outermost()));
      if (tile) {
        xsumByToken.compute_at(y, ro);
        d.fewGroups.vectorize(r);
        d.fewGroups.update().vectorize(r);
      }
      return;
    }
    d.offset.compute_at(at).vectorize(m);
    for (int u = 0; u < d.offset.num_update_definitions(); ++u)
      d.offset.update(u).vectorize(m);
    if (tile) {
      d.offset.unroll(r);
      for (int u = 0; u < d.offset.num_update_definitions(); ++u)
        d.offset.update(u).unroll(r);
    }
  }

  /// One span's integer sums, in vectors: s16 as four vpmaddubsw (+ adds)
  /// per token, s32 as one vpmaddwd; unrolled over the tile's tokens so that
  /// LLVM unpacks the weights once for all of them.
  void scheduleInt4Span(Int4Dot &d, bool tokens) {
    if (arm() && !dotProd()) {
      // The four runs' smull / smlal for the 32 lanes (four vectors) of each
      // token; s32's pairwise adds after.
      d.s32.compute_at(d.partial, d.spans.x).vectorize(m);
      d.s32.update().reorder(d.p.x, m, r).atomic().vectorize(d.p.x).vectorize(m);
      d.s16.compute_at(d.partial, d.spans.x).vectorize(j);
      d.s16.update().reorder(j, r, n, d.e.x).vectorize(j).unroll(d.e.x);
      if (tokens) { // the tile's tokens, or (decode) its two columns
        d.s32.unroll(r).unroll(n);
        d.s32.update().unroll(r).unroll(n);
        d.s16.unroll(r).unroll(n);
        d.s16.update().unroll(r).unroll(n);
      }
      return;
    }
    if (fourWay()) {
      // Two vpdpbusd per token (the span's halves), one after the other, for
      // the tile's tokens and columns; s32 (the halves' lanes added) inlined.
      d.s32wide.compute_at(d.partial, d.spanLoop).vectorize(m);
      d.s32wide.update().reorder(d.e.x, m, r, d.e.y, n).atomic().vectorize(d.e.x).vectorize(m).unroll(d.e.y);
      if (tokens) {
        d.s32wide.unroll(r).unroll(n);
        d.s32wide.update().unroll(r).unroll(n);
      }
      return;
    }
    d.s32.compute_at(d.partial, d.spans.x).vectorize(m);
    d.s32.update().reorder(d.p.x, m, r).atomic().vectorize(d.p.x).vectorize(m);
    d.s16.compute_at(d.partial, d.spans.x).vectorize(j, 16);
    // atomic(true): Halide cannot prove saturating_add associative; the sums
    // never saturate (see int4DotProduct).
    d.s16.update().reorder(d.e.x, j, r, d.e.y).atomic(true).vectorize(d.e.x).vectorize(j, 16).unroll(d.e.y);
    if (tokens) {
      d.s32.unroll(r);
      d.s32.update().unroll(r);
      d.s16.unroll(r);
      d.s16.update().unroll(r);
    }
  }

  std::vector<Int4Dot> int4Dots;
  Func xsumByToken{"xsum_by_token"}; // int4 with fewer than eight groups: xsum(g, r) with the tokens innermost
  Func xLaneOffset{"x_lane_offset"}; // with lane tables: -8 * the sum of each lane's x, xLaneOffset(m, span, r)
  RDom xLaneOffsetSum;                // its lane's four x in each half of the span
  Func xLanes{"x_lanes"}; // VNNI int4 prefill: scale(x) of each lane's group, xLanes(m, span, r)
};

} // namespace

HALIDE_REGISTER_GENERATOR(QwenMatMul, qwen_matmul)
