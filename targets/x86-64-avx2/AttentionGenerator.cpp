//===- AttentionGenerator.cpp - Halide AOT generator of attention ---------===//
//
// qwen_attention: one query row (all heads) against the KV cache, for one
// (heads, kv_heads, head_dim) of a model; the cached length is the cache
// buffers' extent, so one kernel serves every position. Query head h reads
// kv head h / (heads / kv_heads) (grouped-query attention):
//   s(t, h)   = q(·, h) · k(·, t) / sqrt(head_dim)
//   out(·, h) = sum_t exp(s(t, h) - max_t s) · v(·, t) / sum_t exp(s(t, h) - max_t s)
// Buffers, dimension 0 contiguous: q(d, h) [head_dim, heads];
// k_cache(c, t), v_cache(c, t) [kv_heads * head_dim, length]; out(d, h).
//
// Schedule: heads run in parallel. A score is recomputed in each of the three
// passes (max, sum, weighted values) rather than stored: every intermediate
// then has a constant size and lives on the stack, so a call allocates nothing
// (the dot products are a few percent of a step; the weight matrices are the
// rest). Dot products keep 8 lanes of partial sums; the weighted sum of values
// runs along head_dim in vectors.
//===----------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class QwenAttention : public Generator<QwenAttention> {
public:
  GeneratorParam<int> heads{"heads", 2};
  GeneratorParam<int> kv_heads{"kv_heads", 1};
  GeneratorParam<int> head_dim{"head_dim", 64};

  Input<Buffer<float>> q{"q", 2};
  Input<Buffer<float>> k_cache{"k_cache", 2};
  Input<Buffer<float>> v_cache{"v_cache", 2};
  Output<Buffer<float>> out{"out", 2};

  Var d{"d"}, h{"h"}, l{"l"};

  /// The scaled scores s(t, h), as a Func of their own for each pass (a Func
  /// is computed in one place), with 8 lanes of partial sums `lanes`.
  Func score(const std::string &name, Func &lanes) {
    const int HD = head_dim, L = 8, group = int(heads) / int(kv_heads);
    Var t("t"), hh("hh");
    RDom rd(0, HD / L, name + "_rd"), rl(0, L, name + "_rl");
    lanes = Func(name + "_lanes");
    lanes(l, t, hh) = 0.0f;
    lanes(l, t, hh) += q(rd * L + l, hh) * k_cache((hh / group) * HD + rd * L + l, t);
    Func s(name);
    s(t, hh) = 0.0f;
    s(t, hh) += lanes(rl, t, hh);
    Func scaled(name + "_scaled");
    scaled(t, hh) = s(t, hh) * float(1.0 / std::sqrt(double(HD)));
    sums.push_back(s);
    return scaled;
  }

  void generate() {
    const int HD = head_dim;
    if (HD % 8 != 0 || int(heads) % int(kv_heads) != 0)
      throw std::runtime_error("qwen_attention needs head_dim % 8 == 0 and heads % kv_heads == 0");
    Expr length = k_cache.dim(1).extent();
    RDom rt(0, length, "rt");
    Expr kvh = h / (int(heads) / int(kv_heads));

    Func lanesMax, lanesSum, lanesOut;
    Func sMax = score("s_max", lanesMax), sSum = score("s_sum", lanesSum), sOut = score("s_out", lanesOut);

    Func mx("mx"), den("den"), acc("acc");
    mx(h) = Float(32).min();
    mx(h) = max(mx(h), sMax(rt, h));
    den(h) = 0.0f;
    den(h) += exp(sSum(rt, h) - mx(h));
    acc(d, h) = 0.0f;
    acc(d, h) += exp(sOut(rt, h) - mx(h)) * v_cache(kvh * HD + d, rt);
    out(d, h) = acc(d, h) / den(h);

    // Schedule.
    out.parallel(h).vectorize(d, 8);
    for (Func f : {mx, den})
      f.compute_at(out, h);
    acc.compute_at(out, h).vectorize(d, 8);
    acc.update().reorder(d, rt, h).vectorize(d, 8);
    Func consumers[] = {mx, den, acc};
    Func lanes[] = {lanesMax, lanesSum, lanesOut};
    for (int i = 0; i < 3; ++i) {
      // Each score is computed where its pass reads it: per cached position.
      sums[size_t(i)].compute_at(consumers[i], rt);
      lanes[i].compute_at(consumers[i], rt).vectorize(l);
      lanes[i].update().vectorize(l);
    }

    const int kv = int(kv_heads) * HD;
    q.dim(0).set_bounds(0, HD).dim(1).set_bounds(0, heads).dim(1).set_stride(HD);
    k_cache.dim(0).set_bounds(0, kv).dim(1).set_stride(kv);
    v_cache.dim(0).set_bounds(0, kv).dim(1).set_stride(kv);
    out.dim(0).set_bounds(0, HD).dim(1).set_bounds(0, heads).dim(1).set_stride(HD);
  }

private:
  std::vector<Func> sums;
};

} // namespace

HALIDE_REGISTER_GENERATOR(QwenAttention, qwen_attention)
