//===- MatMulGenerator.cpp - Halide AOT generator of the matrix kernels ---===//
//
// qwen_matmul: y[r, n] = sum_k x[r, k] * W[n, k] (+ bias[n]), or with `gated`
// y = silu(x W^T) * (x W2^T), for one (N, K, weight format) of a model.
// `qwenc compile --target x86-64-avx2` runs this generator once per kernel,
// as its own process (Halide 14 links LLVM 14; qwenc links MLIR's LLVM 19).
//
// Weight formats (the layouts of targets/cpp/WeightPacking.h), buffers in
// Halide's column-first order, i.e. w(k, n):
//   f32: float w(K, N)      bf16: uint16 w(K, N)     with float x(K, rows)
//   int8: int8 w(K, N), scale(1, N), with x(K, rows) quantized to int16 and
//         xscale(1, rows) (int16_rows of runtime/halide_glue.h, whose
//         int16_input_max keeps the int32 sums from overflowing)
// (int4 runs on the C++ AVX2 kernel: a schedule tried here decoded at a third
// of its speed.)
//
// Products: float formats keep lanes of partial sums over K (decode: 32, four
// independent AVX2 accumulators; prefill: 8 per column and token of a tile),
// then add them up; int8 keeps eight int32 lanes, each adding adjacent pairs
// of int8 x int16 products (a vector reduction that Halide emits as
// vpmovsxbw + vpmaddwd). Decode schedule: rows one at a time, output columns
// in parallel blocks of 256. Prefill schedule (`prefill=true`, at least four
// rows): see generate().
//===----------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;
using namespace Halide::ConciseCasts;

namespace {

class QwenMatMul : public Generator<QwenMatMul> {
public:
  GeneratorParam<int> N{"N", 64};
  GeneratorParam<int> K{"K", 64};
  GeneratorParam<std::string> quant{"quant", "f32"}; // f32, bf16, int8
  GeneratorParam<bool> has_bias{"has_bias", false};
  GeneratorParam<bool> gated{"gated", false};
  GeneratorParam<bool> prefill{"prefill", false}; // scheduled for blocks of tokens

  Input<Buffer<>> x{"x", 2};              // [K, rows]: float; int16 for int8 weights
  Input<Buffer<float>> xscale{"xscale", 2}; // int8: [1, rows]; unused for floats
  Input<Buffer<>> w{"w", 2};              // see the formats above
  Input<Buffer<float>> scale{"scale", 2}; // int8: [1, N]; unused for floats
  Input<Buffer<>> w2{"w2", 2};            // the up projection when gated
  Input<Buffer<float>> scale2{"scale2", 2};
  Input<Buffer<float>> bias{"bias", 1};   // [N]; unused without has_bias
  Output<Buffer<float>> y{"y", 2};        // [N, rows]

  Var l{"l"}, n{"n"}, r{"r"};

  /// Weight (k, n) of buffer `b` as float (int8: before its row's scale).
  Expr weight(const Input<Buffer<>> &b, Expr k, Expr col) {
    const std::string q = quant;
    if (q == "f32")
      return b(k, col);
    if (q == "bf16")
      return reinterpret<float>(cast<uint32_t>(b(k, col)) << 16);
    if (q == "int8")
      return cast<float>(b(k, col));
    throw std::runtime_error("qwen_matmul: unknown quant '" + q + "' (f32, bf16, int8)");
  }

  /// sum_k x(k, r) * W(k, n) for int8 weights and int16 x: eight int32
  /// lanes, lane l adding columns 2l and 2l + 1 of every 16 (vpmaddwd).
  Func intDotProduct(const std::string &name, const Input<Buffer<>> &b, const Input<Buffer<float>> &s) {
    RDom rk(0, int(K) / 16, 0, 2, name + "_rk");
    Expr k = rk.x * 16 + l * 2 + rk.y;
    Func partial(name + "_partial"), total(name);
    partial(l, n, r) = 0;
    partial(l, n, r) += i32(b(k, n)) * i32(x(k, r));
    RDom lr(0, 8, name + "_lr");
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

  /// sum_k x(k, r) * W(k, n) with L partial sums: 32 (four vectors) for
  /// decode, 8 (one vector per column and token of a tile) for prefill.
  Func dotProduct(const std::string &name, const Input<Buffer<>> &b, const Input<Buffer<float>> &s) {
    if (std::string(quant) == "int8")
      return intDotProduct(name, b, s);
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

    Var no("no"), ni("ni"), ro("ro"), ri("ri");
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
      // 1.5B int8 prefill +3 %).
      const int weightBytes = q == "f32" ? 4 : q == "bf16" ? 2 : 1;
      const int block = std::max(16, std::min(256, (128 << 10) / (int(K) * weightBytes) / 16 * 16));
      Var nio("nio"), nii("nii");
      y.split(n, no, ni, block, TailStrategy::GuardWithIf)
          .split(ni, nio, nii, 2, TailStrategy::GuardWithIf)
          .split(r, ro, ri, 4, TailStrategy::ShiftInwards)
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
      for (size_t i = 0; i < totals.size(); ++i) {
        totals[i].compute_at(y, nio);
        totals[i].update().reorder(lanes[i].x, r, n).atomic().vectorize(lanes[i].x);
        partials[i].compute_at(totals[i], Var::outermost()).vectorize(l);
        partials[i].update().reorder(l, r, n, blocks[i].x).vectorize(l).unroll(r).unroll(n);
      }
    } else {
      // Decode: one row at a time (the rows loop outermost keeps every
      // buffer a fixed size), its columns in parallel blocks of 256. The
      // weights are asked for 8 KiB ahead of use (prefetch, NonFaulting: past
      // a block's last row it reaches the next rows, which never faults);
      // without, the 1.5B int8 decoded at 32 tok/s instead of 40.
      y.split(n, no, ni, 256, TailStrategy::GuardWithIf).reorder(ni, no, r).parallel(no);
      const int prefetchBytes = 8192;
      for (size_t i = 0; i < intTotals.size(); ++i) {
        intTotals[i].compute_at(y, no);
        intPartials[i].compute_at(intTotals[i], n).vectorize(l);
        RVar ko("ko"), ki("ki");
        intPartials[i]
            .update()
            .split(intBlocks[i].x, ko, ki, 4)
            .reorder(intBlocks[i].y, l, ki, ko)
            .atomic()
            .vectorize(intBlocks[i].y)
            .vectorize(l)
            .unroll(ki) // a step of ko: 4 x 16 int8 columns, one prefetch per 64 bytes
            .prefetch(i == 0 ? w : w2, ko, ko, prefetchBytes / 64, PrefetchBoundStrategy::NonFaulting);
      }
      for (size_t i = 0; i < totals.size(); ++i) {
        totals[i].compute_at(y, no);
        partials[i].compute_at(totals[i], n).vectorize(l);
        const int stepBytes = q == "f32" ? 4 * 32 : 2 * 32; // 32 columns a step of blocks.x
        partials[i]
            .update()
            .reorder(l, blocks[i].x)
            .vectorize(l)
            .prefetch(i == 0 ? w : w2, blocks[i].x, blocks[i].x, prefetchBytes / stepBytes,
                      PrefetchBoundStrategy::NonFaulting);
      }
    }

    const int kw = int(K);
    x.dim(0).set_bounds(0, K);
    w.dim(0).set_bounds(0, kw).dim(1).set_bounds(0, N).dim(1).set_stride(kw);
    w2.dim(0).set_bounds(0, kw).dim(1).set_bounds(0, N).dim(1).set_stride(kw);
    y.dim(0).set_bounds(0, N);
    x.dim(1).set_stride(K);
    y.dim(1).set_stride(N);
  }

private:
  std::vector<Func> partials, totals, intPartials, intTotals;
  std::vector<RDom> lanes, blocks, intBlocks, intLanes;
};

} // namespace

HALIDE_REGISTER_GENERATOR(QwenMatMul, qwen_matmul)
