// A stand-in libax_engine: the engine API of ax_api.h for tests without the
// chip. CreateHandle takes a descriptor (descriptor.h) in place of an
// .axmodel, answers the io queries with the contract's names, shapes, order
// and byte sizes (docs/ax630c/CONTRACT.md), and runs a layer on the CPU in
// float from the checkpoint: weights fake-quantized as the NPU stores them
// (int8 per output channel for w8a16, int4 groups for w4a16; the rule of
// runtime/quant_rule.h), bf16 at every tensor the host sees. It checks what
// the host passes (buffer count, order, sizes) and fails a run with a
// message where the real engine would misbehave.
#include "../ax_api.h"
#include "../../../bf16.h"
#include "../../../portable_hooks.h"
#include "../../../quant_rule.h"
#include "../map_file.h"
#include "descriptor.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace qwenc_rt;
using namespace qwenc_rt::ax630c;

namespace {

constexpr int32_t kError = int32_t(0x800b0001); // any non-zero status

int32_t complain(const std::string &msg) {
  std::fprintf(stderr, "emulated AX engine: %s\n", msg.c_str());
  return kError;
}

struct Meta {
  std::string name;
  std::vector<int32_t> shape;
  uint32_t bytes;
};

struct GroupIo {
  std::vector<Meta> in, out;
  std::vector<qwenc_ax::TensorMeta> in_meta, out_meta;
  qwenc_ax::IoInfo info{};
  int rows = 0, hist = 0;
  void finish() {
    for (auto *pair : {&in, &out}) {
      auto &metas = pair == &in ? in_meta : out_meta;
      metas.resize(pair->size());
      for (size_t i = 0; i < pair->size(); ++i) {
        Meta &m = (*pair)[i];
        qwenc_ax::TensorMeta &t = metas[i];
        std::memset(&t, 0, sizeof t);
        t.name = &m.name[0];
        t.shape = m.shape.data();
        t.shape_size = uint8_t(m.shape.size());
        t.size = m.bytes;
      }
    }
    info.inputs = in_meta.data();
    info.input_count = uint32_t(in_meta.size());
    info.outputs = out_meta.data();
    info.output_count = uint32_t(out_meta.size());
    info.max_batch_size = 1;
  }
};

/// A weight matrix [rows, cols] as floats, fake-quantized where the NPU
/// stores integers.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> w;
};

struct Model {
  EmulatedModel d;
  std::vector<std::unique_ptr<GroupIo>> groups;
  std::map<std::string, Matrix> weights;
  std::vector<double> inv_freq; // RoPE
  double rope_scale = 1;
  bool has_context = false;
};

struct Mapping {
  const uint8_t *data = nullptr;
  size_t size = 0;
};

bool map_checkpoint(const std::string &path, Mapping &m, std::string &error) {
  static std::map<std::string, Mapping> cache; // every layer reads the same checkpoint
  auto it = cache.find(path);
  if (it != cache.end())
    return m = it->second, true;
  const void *p = map_file(path, m.size, error);
  if (!p) {
    error += " (the checkpoint the descriptor names)";
    return false;
  }
  m.data = static_cast<const uint8_t *>(p);
  cache[path] = m;
  return true;
}

/// Element i of a checkpoint tensor, widened exactly (runtime/portable_hooks.h).
float element(const uint8_t *p, const std::string &dtype, int64_t i) {
  if (dtype == "F32") {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * i, 2);
  return dtype == "BF16" ? widen(bf16{h}) : widen(f16{h});
}

/// Loads a weight; `quant` ("int8", "int4" or "" for none) fake-quantizes
/// each row (int8: the whole row one group; int4: groups of group_size).
bool load(Model &m, const EmulatedModel::Tensor &t, const std::string &quant, std::string &error) {
  const int64_t esize = t.dtype == "F32" ? 4 : 2;
  if ((t.dtype != "F32" && t.dtype != "BF16" && t.dtype != "F16") || t.rows <= 0 || t.cols <= 0) {
    error = "tensor " + t.key + ": bad dtype or shape";
    return false;
  }
  Mapping file;
  if (!map_checkpoint(t.file, file, error))
    return false;
  const uint64_t bytes = uint64_t(t.rows * t.cols * esize);
  if (t.offset > file.size || bytes > file.size - t.offset) {
    error = t.file + ": tensor " + t.key + " lies outside the file";
    return false;
  }
  Matrix &w = m.weights[t.key];
  w.rows = t.rows;
  w.cols = t.cols;
  w.w.resize(size_t(t.rows * t.cols));
  for (int64_t i = 0; i < t.rows * t.cols; ++i)
    w.w[size_t(i)] = element(file.data + t.offset, t.dtype, i);
  if (quant.empty())
    return true;
  const bool int8 = quant == "int8";
  const int64_t g = int8 ? t.cols : m.d.group_size;
  if (!int8 && (quant != "int4" || g <= 0 || t.cols % g)) {
    error = "tensor " + t.key + ": cannot fake-quantize as " + quant + " g" + std::to_string(g);
    return false;
  }
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t s = 0; s < t.cols; s += g) {
      float *x = &w.w[size_t(r * t.cols + s)];
      const float scale = quant::group_scale(x, g, int8), inv = scale > 0 ? 1.0f / scale : 0.0f;
      for (int64_t c = 0; c < g; ++c)
        x[c] = float(quant::quantize(x[c], inv, int8)) * scale;
    }
  return true;
}

/// y[n] = W x (+ b)
void matvec(const Matrix &W, const float *x, float *y, const Matrix *b = nullptr) {
  for (int64_t r = 0; r < W.rows; ++r) {
    const float *w = &W.w[size_t(r * W.cols)];
    double acc = 0;
    for (int64_t c = 0; c < W.cols; ++c)
      acc += double(w[c]) * x[c];
    y[r] = float(acc) + (b ? b->w[size_t(r)] : 0.0f);
  }
}

void rms_norm(const float *x, const Matrix &w, double eps, int n, float *y) {
  double ss = 0;
  for (int i = 0; i < n; ++i)
    ss += double(x[i]) * x[i];
  const float inv = float(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; ++i)
    y[i] = x[i] * inv * w.w[size_t(i)];
}

/// Rotate-half RoPE with the model's frequencies (runtime/rope.h: plain or
/// YaRN) and YaRN's factor on cos and sin.
void rope(float *x, int heads, int d, uint32_t pos, const std::vector<double> &inv_freq, double scale) {
  for (int h = 0; h < heads; ++h) {
    float *v = x + h * d;
    for (int i = 0; i < d / 2; ++i) {
      const double a = double(pos) * inv_freq[size_t(i)];
      const double c = std::cos(a) * scale, s = std::sin(a) * scale, x1 = v[i], x2 = v[i + d / 2];
      v[i] = float(x1 * c - x2 * s);
      v[i + d / 2] = float(x2 * c + x1 * s);
    }
  }
}

/// The decoder layer on R rows against H cache rows (docs/ax630c/CONTRACT.md).
void run_layer(Model &m, const GroupIo &g, qwenc_ax::Io &io) {
  const EmulatedModel &d = m.d;
  const int R = g.rows, H = g.hist, D = d.head_dim, NH = d.heads, NKV = d.kv_heads, hid = d.hidden;
  const int kv = NKV * D;
  auto in = [&](int i) { return static_cast<const uint16_t *>(io.inputs[i].virt); };
  auto out = [&](int i) { return static_cast<uint16_t *>(io.outputs[i].virt); };
  const uint16_t *x16 = in(0), *kc = in(1), *vc = in(2), *mask = in(4);
  const uint32_t *idx = static_cast<const uint32_t *>(io.inputs[3].virt);
  auto W = [&](const char *key) -> const Matrix & { return m.weights.at(key); };
  std::vector<float> x(size_t(R) * hid), q(size_t(R) * NH * D), k(size_t(R) * kv), v(size_t(R) * kv), h(hid);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = bf16_widen(x16[i]);
  // A row the mask closes entirely is padding: what the NPU writes there is
  // never read, so the emulator skips its work (zeros).
  std::vector<bool> padding(size_t(R), true);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < H + R && padding[size_t(r)]; ++j)
      padding[size_t(r)] = mask[size_t(r) * (H + R) + j] == kMaskBlocked;
  for (int r = 0; r < R; ++r) {
    if (padding[size_t(r)])
      continue;
    rms_norm(&x[size_t(r) * hid], W("input_layernorm.weight"), d.rms_norm_eps, hid, h.data());
    matvec(W("self_attn.q_proj.weight"), h.data(), &q[size_t(r) * NH * D], &W("self_attn.q_proj.bias"));
    matvec(W("self_attn.k_proj.weight"), h.data(), &k[size_t(r) * kv], &W("self_attn.k_proj.bias"));
    matvec(W("self_attn.v_proj.weight"), h.data(), &v[size_t(r) * kv], &W("self_attn.v_proj.bias"));
    rope(&q[size_t(r) * NH * D], NH, D, idx[r], m.inv_freq, m.rope_scale);
    rope(&k[size_t(r) * kv], NKV, D, idx[r], m.inv_freq, m.rope_scale);
  }
  // K and V leave the layer as bf16; the rows of this run attend to them so.
  for (int i = 0; i < R * kv; ++i) {
    out(1)[i] = bf16_round(k[size_t(i)]);
    out(2)[i] = bf16_round(v[size_t(i)]);
    k[size_t(i)] = bf16_widen(out(1)[i]);
    v[size_t(i)] = bf16_widen(out(2)[i]);
  }
  std::vector<float> attn(size_t(NH) * D), p(size_t(H + R)), o(hid), h2(hid), gate(size_t(d.intermediate)),
      up(size_t(d.intermediate)), down(hid);
  const float scale = 1.0f / std::sqrt(float(D));
  for (int r = 0; r < R; ++r) {
    const uint16_t *mrow = mask + size_t(r) * (H + R);
    if (padding[size_t(r)]) {
      std::memset(out(0) + size_t(r) * hid, 0, size_t(hid) * 2);
      continue;
    }
    for (int hq = 0; hq < NH; ++hq) {
      const int hk = hq / (NH / NKV);
      const float *qv = &q[size_t(r) * NH * D + size_t(hq) * D];
      double mx = -INFINITY;
      for (int j = 0; j < H + R; ++j) {
        double s = 0;
        for (int e = 0; e < D; ++e) {
          const float kj = j < H ? bf16_widen(kc[size_t(j) * kv + size_t(hk) * D + e])
                                 : k[size_t(j - H) * kv + size_t(hk) * D + e];
          s += double(qv[e]) * kj;
        }
        p[size_t(j)] = float(s) * scale + bf16_widen(mrow[j]);
        mx = std::fmax(mx, p[size_t(j)]);
      }
      double sum = 0;
      for (int j = 0; j < H + R; ++j)
        sum += (p[size_t(j)] = float(std::exp(p[size_t(j)] - mx)));
      for (int e = 0; e < D; ++e) {
        double acc = 0;
        for (int j = 0; j < H + R; ++j) {
          const float vj = j < H ? bf16_widen(vc[size_t(j) * kv + size_t(hk) * D + e])
                                 : v[size_t(j - H) * kv + size_t(hk) * D + e];
          acc += double(p[size_t(j)]) * vj;
        }
        attn[size_t(hq) * D + e] = float(acc / sum);
      }
    }
    float *xr = &x[size_t(r) * hid];
    matvec(W("self_attn.o_proj.weight"), attn.data(), o.data());
    for (int i = 0; i < hid; ++i)
      xr[i] += o[size_t(i)];
    rms_norm(xr, W("post_attention_layernorm.weight"), d.rms_norm_eps, hid, h2.data());
    matvec(W("mlp.gate_proj.weight"), h2.data(), gate.data());
    matvec(W("mlp.up_proj.weight"), h2.data(), up.data());
    for (int i = 0; i < d.intermediate; ++i)
      gate[size_t(i)] = gate[size_t(i)] / (1.0f + std::exp(-gate[size_t(i)])) * up[size_t(i)];
    matvec(W("mlp.down_proj.weight"), gate.data(), down.data());
    for (int i = 0; i < hid; ++i)
      out(0)[size_t(r) * hid + i] = bf16_round(xr[i] + down[size_t(i)]);
  }
}

void run_post(Model &m, qwenc_ax::Io &io) {
  const EmulatedModel &d = m.d;
  const uint16_t *x16 = static_cast<const uint16_t *>(io.inputs[0].virt);
  std::vector<float> x(size_t(d.hidden)), h(size_t(d.hidden)), y(size_t(d.vocab));
  for (int i = 0; i < d.hidden; ++i)
    x[size_t(i)] = bf16_widen(x16[i]);
  rms_norm(x.data(), m.weights.at("model.norm.weight"), d.rms_norm_eps, d.hidden, h.data());
  matvec(m.weights.at("lm_head.weight"), h.data(), y.data());
  uint16_t *out = static_cast<uint16_t *>(io.outputs[0].virt);
  for (int i = 0; i < d.vocab; ++i)
    out[i] = bf16_round(y[size_t(i)]);
}

/// The io info of the contract: group 0 decodes, groups 1.. prefill.
void describe(Model &m) {
  const EmulatedModel &d = m.d;
  const int kv = d.kv_heads * d.head_dim;
  if (d.part == "post") {
    auto g = std::make_unique<GroupIo>();
    g->in.push_back({kPostInput, {1, d.hidden}, uint32_t(d.hidden) * 2});
    g->out.push_back({kPostOutput, {d.vocab}, uint32_t(d.vocab) * 2});
    g->finish();
    m.groups.push_back(std::move(g));
    return;
  }
  auto layer_group = [&](int rows, int hist, bool decode) {
    auto g = std::make_unique<GroupIo>();
    g->rows = rows;
    g->hist = hist;
    const uint32_t R = uint32_t(rows), H = uint32_t(hist), hb = uint32_t(d.hidden) * 2, kb = uint32_t(kv) * 2;
    std::vector<int32_t> cache = decode ? std::vector<int32_t>{hist, kv} : std::vector<int32_t>{1, hist, kv};
    std::vector<int32_t> mask = decode ? std::vector<int32_t>{1, hist + 1} : std::vector<int32_t>{1, rows, hist + rows};
    g->in = {{kInput, {rows, d.hidden}, R * hb},
             {kKCache, cache, H * kb},
             {kVCache, cache, H * kb},
             {kIndices, {rows}, R * 4},
             {kMask, mask, R * (H + R) * 2}};
    g->out = {{kOutput, {rows, d.hidden}, R * hb}, {kKOut, {rows, kv}, R * kb}, {kVOut, {rows, kv}, R * kb}};
    g->finish();
    m.groups.push_back(std::move(g));
  };
  layer_group(1, d.kv_cache_len, true);
  if (d.history.empty())
    layer_group(d.prefill, 0, false);
  for (int h : d.history)
    layer_group(d.prefill, h, false);
}

int32_t check_io(Model &m, uint32_t group, qwenc_ax::Io *io) {
  if (group >= m.groups.size())
    return complain("group " + std::to_string(group) + " does not exist (" + std::to_string(m.groups.size()) +
                    " groups)");
  if (!io)
    return complain("null io");
  const GroupIo &g = *m.groups[group];
  if (io->input_count != g.in.size() || io->output_count != g.out.size() || !io->inputs || !io->outputs)
    return complain("group " + std::to_string(group) + ": " + std::to_string(io->input_count) + " inputs and " +
                    std::to_string(io->output_count) + " outputs given, the model has " +
                    std::to_string(g.in.size()) + " and " + std::to_string(g.out.size()));
  for (size_t i = 0; i < g.in.size() + g.out.size(); ++i) {
    const bool input = i < g.in.size();
    const Meta &meta = input ? g.in[i] : g.out[i - g.in.size()];
    const qwenc_ax::IoBuffer &b = input ? io->inputs[i] : io->outputs[i - g.in.size()];
    if ((!b.virt && meta.bytes) || b.size < meta.bytes)
      return complain("group " + std::to_string(group) + ": the buffer of '" + meta.name + "' (" +
                      std::to_string(b.size) + " bytes) does not hold its " + std::to_string(meta.bytes) +
                      " bytes; buffers go in the io info's order");
  }
  return 0;
}

bool g_engine_init = false;

} // namespace

extern "C" {

int32_t AX_ENGINE_Init(qwenc_ax::NpuAttr *attr) {
  if (!attr)
    return complain("AX_ENGINE_Init: null attribute");
  g_engine_init = true;
  return 0;
}

int32_t AX_ENGINE_Deinit(void) {
  g_engine_init = false;
  return 0;
}

int32_t AX_ENGINE_CreateHandle(qwenc_ax::Handle *handle, const void *bytes, uint32_t size) {
  if (!g_engine_init)
    return complain("AX_ENGINE_CreateHandle before AX_ENGINE_Init");
  if (!handle || !bytes)
    return complain("AX_ENGINE_CreateHandle: null argument");
  auto m = std::make_unique<Model>();
  std::string error;
  if (!parse(static_cast<const char *>(bytes), size, m->d, error))
    return complain(error);
  const bool layer = m->d.part == "layer";
  for (const EmulatedModel::Tensor &t : m->d.tensors) {
    const bool matrix = t.key.find("_proj.weight") != std::string::npos;
    std::string quant = layer ? (matrix ? m->d.weights : "") : (t.key == "lm_head.weight" ? m->d.head : "");
    if (quant == "none") // weights as stored: only the bf16 boundaries (to tell the two errors apart)
      quant.clear();
    if (!load(*m, t, quant, error))
      return complain(error);
  }
  const char *need_layer[] = {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_proj.bias",
                              "self_attn.k_proj.weight", "self_attn.k_proj.bias", "self_attn.v_proj.weight",
                              "self_attn.v_proj.bias", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                              "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"};
  const char *need_post[] = {"model.norm.weight", "lm_head.weight"};
  for (const char *key : need_layer)
    if (layer && !m->weights.count(key))
      return complain(std::string("descriptor lacks tensor ") + key);
  for (const char *key : need_post)
    if (!layer && !m->weights.count(key))
      return complain(std::string("descriptor lacks tensor ") + key);
  m->inv_freq = rotary::inv_freq(m->d.head_dim, m->d.rope_theta, m->d.rope_scaling);
  m->rope_scale = rotary::attention_factor(m->d.rope_scaling);
  describe(*m);
  *handle = m.release();
  return 0;
}

int32_t AX_ENGINE_DestroyHandle(qwenc_ax::Handle handle) {
  delete static_cast<Model *>(handle);
  return 0;
}

int32_t AX_ENGINE_CreateContext(qwenc_ax::Handle handle) {
  if (!handle)
    return complain("AX_ENGINE_CreateContext: null handle");
  static_cast<Model *>(handle)->has_context = true;
  return 0;
}

int32_t AX_ENGINE_CreateContextV2(qwenc_ax::Handle handle, qwenc_ax::Context *context) {
  if (!handle || !context)
    return complain("AX_ENGINE_CreateContextV2: null argument");
  if (!static_cast<Model *>(handle)->has_context)
    return complain("AX_ENGINE_CreateContextV2 before AX_ENGINE_CreateContext");
  *context = handle;
  return 0;
}

int32_t AX_ENGINE_GetGroupIOInfoCount(qwenc_ax::Handle handle, uint32_t *count) {
  if (!handle || !count)
    return complain("AX_ENGINE_GetGroupIOInfoCount: null argument");
  *count = uint32_t(static_cast<Model *>(handle)->groups.size());
  return 0;
}

int32_t AX_ENGINE_GetGroupIOInfo(qwenc_ax::Handle handle, uint32_t group, qwenc_ax::IoInfo **info) {
  if (!handle || !info)
    return complain("AX_ENGINE_GetGroupIOInfo: null argument");
  Model &m = *static_cast<Model *>(handle);
  if (group >= m.groups.size())
    return complain("AX_ENGINE_GetGroupIOInfo: no group " + std::to_string(group));
  *info = &m.groups[group]->info;
  return 0;
}

int32_t AX_ENGINE_RunGroupIOSync(qwenc_ax::Handle handle, qwenc_ax::Context context, uint32_t group,
                                 qwenc_ax::Io *io) {
  if (!handle || context != handle)
    return complain("AX_ENGINE_RunGroupIOSync: not a handle and its context");
  Model &m = *static_cast<Model *>(handle);
  if (int32_t rc = check_io(m, group, io))
    return rc;
  if (m.d.part == "post")
    run_post(m, *io);
  else
    run_layer(m, *m.groups[group], *io);
  return 0;
}

int32_t AX_ENGINE_RunSync(qwenc_ax::Handle handle, qwenc_ax::Io *io) {
  if (!handle)
    return complain("AX_ENGINE_RunSync: null handle");
  Model &m = *static_cast<Model *>(handle);
  if (int32_t rc = check_io(m, 0, io))
    return rc;
  if (m.d.part == "post")
    run_post(m, *io);
  else
    run_layer(m, *m.groups[0], *io);
  return 0;
}

} // extern "C"
