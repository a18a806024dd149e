//===- AttentionGenerator.cpp - Halide AOT generator of attention ---------===//
//
// qwen_attention: one query row (all heads) against the KV cache, for one
// (heads, kv_heads, head_dim) of a model; the cached length is the cache
// buffers' extent, so one kernel serves every position. Query head h reads
// kv head h / (heads / kv_heads) (grouped-query attention):
//   s(t, h)   = q(·, h) · k(·, t) / sqrt(head_dim)
//   out(·, h) = sum_t exp(s(t, h) - max_t s) · v(·, t) / sum_t exp(s(t, h) - max_t s)
// Buffers, dimension 0 contiguous: q(d, h) [head_dim, heads];
// k_cache(c, t), v_cache(c, t) [kv_heads * head_dim, length]; out(d, h);
// scores(t, h) [length rounded up to 8, heads]: the caller's scratch, so
// that a call allocates nothing (its rows may be strided).
// kv: how the cache stores K and V (the model's --kv-type): f32; bf16
// (uint16: the upper 16 bits of a float); int8 (int8 values,
// with k_scales(kv_head, t) and v_scales(kv_head, t) [kv_heads, length]:
// value = q * scale, one scale per cached row and kv head).
//
// Schedule: two loops over heads, both in parallel. The first writes each
// score once (an earlier version recomputed them in each of three passes:
// decode at 1000 cached positions ran at two thirds of its short-context
// speed); eight positions at a time, so eight dot products' chains of
// multiply-adds run side by side. Positions past the length repeat the last
// one (harmless to the max) and get weight 0. The second loop takes the max
// and the exponentials' sum in vectors of eight positions, and adds each
// block of eight weighted value rows to the head's sums held in registers.
//===----------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class QwenAttention : public Generator<QwenAttention> {
public:
  GeneratorParam<int> heads{"heads", 2};
  GeneratorParam<int> kv_heads{"kv_heads", 1};
  GeneratorParam<int> head_dim{"head_dim", 64};
  GeneratorParam<std::string> kv{"kv", "f32"};

  Input<Buffer<float>> q{"q", 2};
  Input<Buffer<>> k_cache{"k_cache", 2};
  Input<Buffer<>> v_cache{"v_cache", 2};
  Output<Buffer<float>> out{"out", 2};
  Output<Buffer<float>> scores{"scores", 2};
  Input<Buffer<float>> *k_scales = nullptr, *v_scales = nullptr; // int8 only

  void configure() {
    const std::string mode = kv;
    if (mode != "f32" && mode != "bf16" && mode != "int8")
      throw std::runtime_error("qwen_attention: kv must be f32, bf16 or int8");
    const Type stored = mode == "f32" ? Float(32) : mode == "bf16" ? UInt(16) : Int(8);
    k_cache.set_type(stored);
    v_cache.set_type(stored);
    if (mode == "int8") {
      k_scales = add_input<Buffer<float>>("k_scales", 2);
      v_scales = add_input<Buffer<float>>("v_scales", 2);
    }
  }

  /// Element (c, t) of a cache as float, without its int8 scale.
  Expr widen(Input<Buffer<>> &cache, Expr c, Expr t) {
    const std::string mode = kv;
    if (mode == "bf16")
      return reinterpret<float>(cast<uint32_t>(cache(c, t)) << 16);
    return cast<float>(cache(c, t));
  }

  void generate() {
    const int HD = head_dim, L = 8, group = int(heads) / int(kv_heads);
    if (HD % L != 0 || int(heads) % int(kv_heads) != 0)
      throw std::runtime_error("qwen_attention needs head_dim % 8 == 0 and heads % kv_heads == 0");
    Var d("d"), h("h"), t("t"), l("l");
    const Expr length = k_cache.dim(1).extent(), last = length - 1, blocks = (length + L - 1) / L;
    const Expr kvh = h / group;

    // Scores: eight lanes of partial sums per position, then their sum.
    RDom rd(0, HD / L, "rd"), rl(0, L, "rl");
    Func lanes("lanes");
    lanes(l, t, h) = 0.0f;
    const bool int8 = std::string(kv) == "int8";
    lanes(l, t, h) += q(rd * L + l, h) * widen(k_cache, kvh * HD + rd * L + l, min(t, last));
    Expr score = sum(lanes(rl, t, h)) * float(1.0 / std::sqrt(double(HD)));
    scores(t, h) = int8 ? score * (*k_scales)(kvh, min(t, last)) : score;

    // Softmax weights. fast_exp: a polynomial that vectorizes (within a few
    // ulp); its argument is kept above -80, where it would underflow.
    RDom rb(0, blocks, "rb");
    Func max_lanes("max_lanes"), mx("mx"), sum_lanes("sum_lanes"), den("den");
    auto softmax_weight = [&](Expr pos) { return fast_exp(max(scores(pos, h) - mx(h), -80.0f)); };
    max_lanes(l, h) = Float(32).min();
    max_lanes(l, h) = max(max_lanes(l, h), scores(rb * L + l, h));
    mx(h) = maximum(max_lanes(rl, h));
    sum_lanes(l, h) = 0.0f;
    sum_lanes(l, h) += select(rb * L + l < length, softmax_weight(rb * L + l), 0.0f);
    den(h) = sum(sum_lanes(rl, h));
    // The weighted values: whole blocks of eight positions, then the last few
    // one by one (a clamped row index in the blocks cost more than the
    // multiply-adds).
    Func weight("weight"), tail_weight("tail_weight"), acc("acc");
    // int8: a value row's scale joins its weight.
    auto v_scale = [&](Expr pos) { return int8 ? (*v_scales)(kvh, pos) : Expr(1.0f); };
    weight(t, h) = softmax_weight(t) * v_scale(t);
    tail_weight(t, h) = softmax_weight(t) * v_scale(t);
    const Expr whole = length / L * L;
    RDom rp(0, length / L, 0, L, "rp"), rtail(whole, length - whole, "rtail");
    acc(d, h) = 0.0f;
    acc(d, h) += weight(rp.x * L + rp.y, h) * widen(v_cache, kvh * HD + d, rp.x * L + rp.y);
    acc(d, h) += tail_weight(rtail, h) * widen(v_cache, kvh * HD + d, rtail);
    out(d, h) = acc(d, h) / den(h);

    // Schedule.
    Var to("to"), ti("ti"), dout("dout"), din("din");
    scores.split(t, to, ti, L, TailStrategy::RoundUp).parallel(h);
    lanes.compute_at(scores, to).vectorize(l).unroll(t);
    lanes.update().reorder(l, t, rd, h).vectorize(l).unroll(t);
    out.parallel(h).vectorize(d, L);
    for (Func f : {max_lanes, sum_lanes}) {
      f.compute_at(out, h).vectorize(l);
      f.update().vectorize(l);
    }
    for (Func f : {mx, den})
      f.compute_at(out, h);
    acc.compute_at(out, h).vectorize(d, L);
    // Per block of eight positions: each vector of sums takes the eight rows
    // in turn (loaded once, eight multiply-adds, stored once).
    acc.update().split(d, dout, din, L).reorder(din, rp.y, dout, rp.x, h).vectorize(din).unroll(rp.y);
    acc.update(1).reorder(d, rtail, h).vectorize(d, L);
    weight.compute_at(acc, rp.x).vectorize(t, L);
    tail_weight.compute_at(acc, rtail);

    const int kv_cols = int(kv_heads) * HD;
    q.dim(0).set_bounds(0, HD).dim(1).set_bounds(0, heads).dim(1).set_stride(HD);
    k_cache.dim(0).set_bounds(0, kv_cols).dim(1).set_stride(kv_cols);
    v_cache.dim(0).set_bounds(0, kv_cols).dim(1).set_stride(kv_cols);
    if (int8)
      for (Input<Buffer<float>> *s : {k_scales, v_scales})
        s->dim(0).set_bounds(0, kv_heads).dim(1).set_stride(kv_heads);
    out.dim(0).set_bounds(0, HD).dim(1).set_bounds(0, heads).dim(1).set_stride(HD);
    scores.dim(0).set_min(0).dim(1).set_bounds(0, heads);
  }
};

} // namespace

HALIDE_REGISTER_GENERATOR(QwenAttention, qwen_attention)
