//===- Checkpoint.cpp - memory-mapped safetensors checkpoints -------------===//
#include "compiler/frontend/Checkpoint.h"
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/JsonFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using nlohmann::json;

namespace qwenc {

size_t dtypeSize(DType t) { return t == DType::F32 ? 4 : 2; }

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "F32";
  case DType::BF16: return "BF16";
  case DType::F16: return "F16";
  }
  return "?";
}

int64_t TensorRef::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

float TensorRef::valueAt(int64_t i) const {
  uint32_t bits;
  float f;
  if (dtype == DType::F32) {
    std::memcpy(&f, data + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, data + 2 * i, 2);
  if (dtype == DType::BF16) {
    bits = uint32_t(h) << 16;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  // F16 by value: sign * 2^(e-15) * (1 + m/1024); subnormals 2^-14 * m/1024.
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0x1f)
    return (h & 0x8000) ? -INFINITY : (m ? NAN : INFINITY);
  double v = e ? std::ldexp(1.0 + m / 1024.0, e - 15) : std::ldexp(m / 1024.0, -14);
  return float((h & 0x8000) ? -v : v);
}

namespace {
std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

std::unique_ptr<MappedFile> MappedFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw InputError(path, std::string("cannot be opened: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path, "is not a regular file");
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void *p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw InputError(path, std::string("cannot be memory-mapped: ") + std::strerror(errno));
    }
    f->data_ = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (data_)
    ::munmap(const_cast<uint8_t *>(data_), size_);
}

std::vector<TensorRef> parseSafetensors(const MappedFile &file) {
  const std::string &path = file.path();
  return withJsonErrors(path, [&] {
    if (file.size() < 8)
      throw InputError(path, "is too short for a safetensors header (" +
                                 std::to_string(file.size()) + " bytes)");
    uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i)
      headerLen = (headerLen << 8) | file.data()[i];
    if (headerLen > file.size() - 8)
      throw InputError(path, "header length " + std::to_string(headerLen) +
                                 " goes beyond the end of the file (" +
                                 std::to_string(file.size()) + " bytes): truncated or not safetensors");
    // The format's own bound (safetensors refuses headers over 100 MB); a
    // model's header is tens of kilobytes.
    constexpr uint64_t kMaxHeaderBytes = 100'000'000;
    if (headerLen > kMaxHeaderBytes)
      throw InputError(path, "header length " + std::to_string(headerLen) + " is over the 100 MB safetensors allows");
    const char *hdr = reinterpret_cast<const char *>(file.data() + 8);
    json j;
    try {
      j = parseJsonObject(path, hdr, hdr + headerLen);
    } catch (const InputError &) {
      throw InputError(path, "safetensors header is not a JSON object (or nests deeper than " +
                                 std::to_string(kMaxJsonDepth) + " levels)");
    }

    const uint8_t *base = file.data() + 8 + headerLen;
    const uint64_t dataSize = file.size() - 8 - headerLen;
    std::vector<TensorRef> out;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (auto &[name, info] : j.items()) {
      if (name == "__metadata__")
        continue;
      auto bad = [&](const std::string &why) {
        return InputError(path, "tensor '" + name + "': " + why);
      };
      if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
          !info.contains("data_offsets"))
        throw bad("header entry needs dtype, shape and data_offsets");
      const json &dt = info["dtype"];
      TensorRef t;
      t.name = name;
      t.file = path;
      std::string dts = dt.is_string() ? dt.get<std::string>() : dt.dump();
      if (dts == "F32")
        t.dtype = DType::F32;
      else if (dts == "BF16")
        t.dtype = DType::BF16;
      else if (dts == "F16")
        t.dtype = DType::F16;
      else
        throw bad("unknown or unsupported dtype " + dts + " (supported: F32, BF16, F16)");
      if (!info["shape"].is_array())
        throw bad("shape must be a list of integers");
      uint64_t elems = 1;
      for (const json &d : info["shape"]) {
        if (!d.is_number_unsigned())
          throw bad("shape must be a list of non-negative integers");
        uint64_t v = d.get<uint64_t>();
        if (v != 0 && elems > (uint64_t(1) << 62) / v)
          throw bad("shape is impossibly large");
        elems *= v;
        t.shape.push_back(static_cast<int64_t>(v));
      }
      const json &off = info["data_offsets"];
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
          !off[1].is_number_unsigned())
        throw bad("data_offsets must be [begin, end]");
      uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
      if (begin > end || end > dataSize)
        throw bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  "] lie outside the data section (" + std::to_string(dataSize) + " bytes)");
      if (elems * dtypeSize(t.dtype) != end - begin)
        throw bad("shape " + shapeString(t.shape) + " of " + dts + " needs " +
                  std::to_string(elems * dtypeSize(t.dtype)) + " bytes but data_offsets span " +
                  std::to_string(end - begin));
      t.data = base + begin;
      t.fileOffset = 8 + headerLen + begin;
      t.numBytes = end - begin;
      ranges.push_back({begin, end});
      out.push_back(std::move(t));
    }
    // Tensors must not share bytes: overlapping ranges mean a corrupt header.
    std::vector<size_t> order(out.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
    for (size_t i = 1; i < order.size(); ++i) {
      auto prev = ranges[order[i - 1]], cur = ranges[order[i]];
      if (cur.first < prev.second && cur.first != cur.second && prev.first != prev.second)
        throw InputError(path, "tensors '" + out[order[i - 1]].name + "' and '" +
                                   out[order[i]].name + "' have overlapping data_offsets");
    }
    return out;
  });
}

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string &modelDir) {
  std::unique_ptr<Checkpoint> ck(new Checkpoint());
  ck->dir_ = modelDir;
  std::string single = modelDir + "/model.safetensors";
  std::string index = modelDir + "/model.safetensors.index.json";
  struct stat st;
  std::vector<std::string> shards;
  json weightMap;
  if (::stat(index.c_str(), &st) == 0) {
    withJsonErrors(index, [&] {
      json j = readJsonObject(index);
      if (!j.contains("weight_map") || !j["weight_map"].is_object())
        throw InputError(index, "has no 'weight_map' object");
      weightMap = j["weight_map"];
      std::set<std::string> seen;
      for (auto &[name, shard] : weightMap.items()) {
        if (!shard.is_string())
          throw InputError(index, "weight_map entry '" + name + "' must name a shard file");
        std::string s = shard.get<std::string>();
        if (s.find('/') != std::string::npos)
          throw InputError(index, "shard name '" + s + "' must be a plain file name");
        if (seen.insert(s).second)
          shards.push_back(s);
      }
      for (const std::string &s : shards)
        if (::stat((modelDir + "/" + s).c_str(), &st) != 0)
          throw InputError(index, "names shard '" + s + "', which is absent from " + modelDir);
    });
  } else if (::stat(single.c_str(), &st) == 0) {
    shards.push_back("model.safetensors");
  } else {
    throw InputError(modelDir, "holds neither model.safetensors nor model.safetensors.index.json");
  }

  for (const std::string &s : shards) {
    ck->files_.push_back(MappedFile::open(modelDir + "/" + s));
    const MappedFile &f = *ck->files_.back();
    for (TensorRef &t : parseSafetensors(f)) {
      if (!weightMap.is_null()) {
        auto it = weightMap.find(t.name);
        if (it == weightMap.end() || it->get<std::string>() != s)
          throw InputError(f.path(), "holds tensor '" + t.name +
                                         "', which model.safetensors.index.json places elsewhere");
      }
      if (ck->tensors_.count(t.name))
        throw InputError(f.path(), "tensor '" + t.name + "' appears twice");
      std::string name = t.name;
      ck->tensors_.emplace(name, std::move(t));
    }
  }
  if (!weightMap.is_null())
    for (auto &[name, shard] : weightMap.items())
      if (!ck->tensors_.count(name))
        throw InputError(modelDir + "/" + shard.get<std::string>(),
                         "lacks tensor '" + name + "' that model.safetensors.index.json names");
  return ck;
}

const TensorRef *Checkpoint::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

void Checkpoint::releasePages(const TensorRef &t) {
  // Whole pages inside the tensor only: a page it shares with a neighbour
  // may still be wanted (it is small either way).
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(t.data) + page - 1) / page * page;
  const uintptr_t end = (uintptr_t(t.data) + t.numBytes) / page * page;
  if (end > begin)
    ::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
expectedTensors(const ModelConfig &c) {
  const int64_t H = c.hiddenSize, I = c.intermediateSize, D = c.headDim();
  const int64_t q = c.numHeads * D, kv = c.numKvHeads * D;
  std::vector<std::pair<std::string, std::vector<int64_t>>> t;
  t.push_back({"model.embed_tokens.weight", {c.vocabSize, H}});
  for (int64_t i = 0; i < c.numLayers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    t.push_back({p + "input_layernorm.weight", {H}});
    t.push_back({p + "self_attn.q_proj.weight", {q, H}});
    t.push_back({p + "self_attn.q_proj.bias", {q}});
    t.push_back({p + "self_attn.k_proj.weight", {kv, H}});
    t.push_back({p + "self_attn.k_proj.bias", {kv}});
    t.push_back({p + "self_attn.v_proj.weight", {kv, H}});
    t.push_back({p + "self_attn.v_proj.bias", {kv}});
    t.push_back({p + "self_attn.o_proj.weight", {H, q}});
    t.push_back({p + "post_attention_layernorm.weight", {H}});
    t.push_back({p + "mlp.gate_proj.weight", {I, H}});
    t.push_back({p + "mlp.up_proj.weight", {I, H}});
    t.push_back({p + "mlp.down_proj.weight", {H, I}});
  }
  t.push_back({"model.norm.weight", {H}});
  if (!c.tieWordEmbeddings)
    t.push_back({"lm_head.weight", {c.vocabSize, H}});
  return t;
}

void validateCheckpoint(const ModelConfig &config, const Checkpoint &ckpt) {
  // Each layer has 12 tensors: a layer count past what the checkpoint holds
  // is an error before the list of expected tensors is made (1e9 layers
  // would be a list of 1.2e10 names).
  if (uint64_t(config.numLayers) > ckpt.tensors().size() / 12)
    throw InputError(ckpt.dir() + "/config.json",
                     "num_hidden_layers is " + std::to_string(config.numLayers) + " but the checkpoint holds " +
                         std::to_string(ckpt.tensors().size()) + " tensors, 12 a layer");
  std::set<std::string> expectedNames;
  for (auto &[name, shape] : expectedTensors(config)) {
    expectedNames.insert(name);
    const TensorRef *t = ckpt.find(name);
    if (!t) {
      std::string hint;
      if (name == "lm_head.weight")
        hint = " (config.json says tie_word_embeddings=false)";
      throw InputError(ckpt.dir(), "missing tensor '" + name + "'" + hint);
    }
    if (t->shape != shape)
      throw InputError(t->file, "tensor '" + name + "' has shape " + shapeString(t->shape) +
                                    " but config.json implies " + shapeString(shape));
  }
  for (auto &[name, t] : ckpt.tensors()) {
    if (expectedNames.count(name))
      continue;
    // transformers ignores a stored lm_head when embeddings are tied.
    if (name == "lm_head.weight" && config.tieWordEmbeddings)
      continue;
    throw InputError(t.file, "unexpected tensor '" + name +
                                 "' (not part of Qwen2ForCausalLM with this config.json)");
  }
}

} // namespace qwenc
