// The descriptor `qwenc compile --target ax630c --emulate` writes in place of
// each .axmodel, and the emulated engine reads: the one home of its format.
//
// Text, one "key value" per line, the first line kEmulatedMagic:
//   part layer|post      layer N
//   hidden, heads, kv_heads, head_dim, intermediate, vocab, rms_norm_eps, rope_theta
//   rope_scaling FACTOR ORIGINAL_MAX BETA_FAST BETA_SLOW ATTENTION_FACTOR   (YaRN; absent: none)
//   prefill P            kv_cache_len L        history [h1 h2 ...]
//   weights int8|int4|none   group_size G      head int8|int4|none
//   (none: the weights as stored, for telling bf16 boundaries' error from quantization's)
//   tensor KEY DTYPE ROWS COLS OFFSET FILE       (one per weight; FILE to the end of the line)
// KEY is the checkpoint name inside its layer ("self_attn.q_proj.weight"),
// or "model.norm.weight" / "lm_head.weight" for the post model; DTYPE the
// safetensors dtype (F32, BF16, F16); OFFSET the byte offset in FILE.
#ifndef QWENC_AX630C_EMULATOR_DESCRIPTOR_H
#define QWENC_AX630C_EMULATOR_DESCRIPTOR_H

#include "../bundle.h"
#include "../../../rope.h"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace qwenc_rt::ax630c {

struct EmulatedModel {
  std::string part = "layer"; // "layer" or "post"
  int layer = 0;
  int hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0, vocab = 0;
  double rms_norm_eps = 1e-6, rope_theta = 1e6;
  rotary::Scaling rope_scaling; // factor 0: none
  int prefill = 0, kv_cache_len = 0;
  std::vector<int> history; // empty: one prefill group without history
  std::string weights = "int8", head = "int8";
  int group_size = 128;
  struct Tensor {
    std::string key, dtype;
    int64_t rows = 0, cols = 0;
    uint64_t offset = 0;
    std::string file;
  };
  std::vector<Tensor> tensors;
};

inline std::string to_text(const EmulatedModel &m) {
  std::ostringstream o;
  o.precision(17);
  o << kEmulatedMagic << "\n"
    << "# Not an NPU model: a descriptor for qwenc's emulated AX630C engine (tests without the chip).\n"
    << "part " << m.part << "\nlayer " << m.layer << "\nhidden " << m.hidden << "\nheads " << m.heads
    << "\nkv_heads " << m.kv_heads << "\nhead_dim " << m.head_dim << "\nintermediate " << m.intermediate
    << "\nvocab " << m.vocab << "\nrms_norm_eps " << m.rms_norm_eps << "\nrope_theta " << m.rope_theta
    << "\n";
  if (m.rope_scaling.factor > 0)
    o << "rope_scaling " << m.rope_scaling.factor << " " << m.rope_scaling.original_max_positions << " "
      << m.rope_scaling.beta_fast << " " << m.rope_scaling.beta_slow << " " << rotary::attention_factor(m.rope_scaling)
      << "\n";
  o << "prefill " << m.prefill << "\nkv_cache_len " << m.kv_cache_len << "\nhistory";
  for (int h : m.history)
    o << " " << h;
  o << "\nweights " << m.weights << "\ngroup_size " << m.group_size << "\nhead " << m.head << "\n";
  for (const EmulatedModel::Tensor &t : m.tensors)
    o << "tensor " << t.key << " " << t.dtype << " " << t.rows << " " << t.cols << " " << t.offset << " " << t.file
      << "\n";
  return o.str();
}

/// Parses a descriptor; false with `error` set.
inline bool parse(const char *data, size_t size, EmulatedModel &m, std::string &error) {
  std::istringstream in(std::string(data, size));
  std::string line;
  if (!std::getline(in, line) || line != kEmulatedMagic) {
    error = "not a qwenc emulated-model descriptor (the emulated engine runs only those; a Pulsar2 .axmodel "
            "needs the chip)";
    return false;
  }
  auto num = [&](std::istringstream &ls, double &v) { return bool(ls >> v); };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    double v = 0;
    bool ok = true;
    if (key == "part")
      ok = bool(ls >> m.part) && (m.part == "layer" || m.part == "post");
    else if (key == "history") {
      int h;
      m.history.clear();
      while (ls >> h)
        m.history.push_back(h);
    } else if (key == "rope_scaling") {
      rotary::Scaling &y = m.rope_scaling;
      ok = bool(ls >> y.factor >> y.original_max_positions >> y.beta_fast >> y.beta_slow >> y.attention_factor) &&
           y.factor >= 1 && y.original_max_positions > 0;
    } else if (key == "weights")
      ok = bool(ls >> m.weights);
    else if (key == "head")
      ok = bool(ls >> m.head);
    else if (key == "tensor") {
      EmulatedModel::Tensor t;
      ok = bool(ls >> t.key >> t.dtype >> t.rows >> t.cols >> t.offset);
      std::getline(ls >> std::ws, t.file);
      ok = ok && !t.file.empty();
      m.tensors.push_back(t);
    } else if (num(ls, v)) {
      int *ints[] = {&m.layer, &m.hidden, &m.heads, &m.kv_heads, &m.head_dim, &m.intermediate, &m.vocab,
                     &m.prefill, &m.kv_cache_len, &m.group_size};
      const char *names[] = {"layer", "hidden", "heads", "kv_heads", "head_dim", "intermediate", "vocab",
                             "prefill", "kv_cache_len", "group_size"};
      bool known = false;
      for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
        if (key == names[i]) {
          *ints[i] = int(v);
          known = true;
        }
      if (key == "rms_norm_eps")
        m.rms_norm_eps = v, known = true;
      if (key == "rope_theta")
        m.rope_theta = v, known = true;
      ok = known;
    } else
      ok = false;
    if (!ok) {
      error = "bad line '" + line + "'";
      return false;
    }
  }
  if (m.hidden <= 0 || m.heads <= 0 || m.kv_heads <= 0 || m.head_dim <= 0 || m.heads % m.kv_heads ||
      m.vocab <= 0 || (m.part == "layer" && (m.intermediate <= 0 || m.prefill <= 0 || m.kv_cache_len <= 0))) {
    error = "incomplete descriptor (dimensions missing)";
    return false;
  }
  return true;
}

} // namespace qwenc_rt::ax630c
#endif
