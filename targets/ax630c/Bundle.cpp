//===- Bundle.cpp - the files of an AX630C bundle folder ------------------===//
#include "targets/ax630c/Bundle.h"
#include "runtime/bf16.h"
#include "runtime/device/ax630c/bundle.h"
#include "runtime/device/ax630c/emulator/descriptor.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace qwenc {
namespace {

namespace fs = std::filesystem;
using qwenc_rt::ax630c::EmulatedModel;

std::string shellQuote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool writeFile(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return bool(out.flush());
}

/// model.embed_tokens.weight.bfloat16.bin: raw row-major bf16 [vocab, hidden],
/// each float32 truncated to its upper 16 bits, as the contract says.
std::string writeEmbedding(const Checkpoint &ckpt, const std::string &path, Progress *progress) {
  const TensorRef *t = ckpt.find("model.embed_tokens.weight");
  if (!t || t->shape.size() != 2)
    return ckpt.dir() + ": no 2-D model.embed_tokens.weight";
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return "cannot write '" + path + "'";
  const int64_t rows = t->shape[0], cols = t->shape[1];
  std::vector<uint16_t> row(static_cast<size_t>(cols));
  bool ok = true;
  for (int64_t r = 0; r < rows && ok; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      row[size_t(c)] = qwenc_rt::bf16_truncate(t->valueAt(r * cols + c));
    ok = std::fwrite(row.data(), 2, row.size(), f) == row.size();
    if (progress && r % 4096 == 0)
      progress->update(uint64_t(r), uint64_t(rows));
  }
  ok = std::fclose(f) == 0 && ok;
  return ok ? "" : "writing '" + path + "' failed";
}

EmulatedModel::Tensor tensorOf(const Checkpoint &ckpt, const std::string &key, const std::string &name) {
  const TensorRef *t = ckpt.find(name);
  EmulatedModel::Tensor d;
  d.key = key;
  d.dtype = dtypeName(t->dtype);
  d.rows = t->shape.size() == 2 ? t->shape[0] : 1;
  d.cols = t->shape.back();
  d.offset = t->fileOffset;
  d.file = fs::absolute(t->file).string();
  return d;
}

std::string writeDescriptors(const Checkpoint &ckpt, const ModelConfig &c, const AxOptions &ax,
                             const std::string &dir) {
  EmulatedModel m;
  m.hidden = int(c.hiddenSize);
  m.heads = int(c.numHeads);
  m.kv_heads = int(c.numKvHeads);
  m.head_dim = int(c.headDim());
  m.intermediate = int(c.intermediateSize);
  m.vocab = int(c.vocabSize);
  m.rms_norm_eps = c.rmsNormEps;
  m.rope_theta = c.ropeTheta;
  m.rope_scaling = c.ropeScaling;
  m.prefill = ax.prefill;
  m.kv_cache_len = ax.kvLen;
  m.history = ax.history;
  m.weights = ax.quant;
  m.group_size = 128;
  m.head = "int8"; // as qwenc's own --quant int4 keeps the head (an assumption about Pulsar2's s4)
  static const char *const kLayerTensors[] = {
      "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
      "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.o_proj.weight",
      "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"};
  for (int64_t i = 0; i < c.numLayers; ++i) {
    m.part = "layer";
    m.layer = int(i);
    m.tensors.clear();
    for (const char *key : kLayerTensors)
      m.tensors.push_back(tensorOf(ckpt, key, "model.layers." + std::to_string(i) + "." + key));
    const std::string path = dir + "/" + qwenc_rt::ax630c::layer_file(ax.prefill, int(i));
    if (!writeFile(path, to_text(m)))
      return "cannot write '" + path + "'";
  }
  m.part = "post";
  m.layer = 0;
  m.tensors = {tensorOf(ckpt, "model.norm.weight", "model.norm.weight"),
               tensorOf(ckpt, "lm_head.weight",
                        c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight")};
  const std::string path = dir + "/" + qwenc_rt::ax630c::kPostFile;
  return writeFile(path, to_text(m)) ? "" : "cannot write '" + path + "'";
}

/// Files an earlier --emulate left that would stand in for Pulsar2's.
void removeEmulation(const ModelConfig &c, const AxOptions &ax, const std::string &dir) {
  std::vector<std::string> files = {qwenc_rt::ax630c::kPostFile};
  for (int64_t i = 0; i < c.numLayers; ++i)
    files.push_back(qwenc_rt::ax630c::layer_file(ax.prefill, int(i)));
  const std::string magic = qwenc_rt::ax630c::kEmulatedMagic;
  for (const std::string &name : files) {
    std::ifstream in(dir + "/" + name);
    std::string first;
    if (in && std::getline(in, first) && first == magic)
      fs::remove(dir + "/" + name);
  }
  std::error_code ec;
  for (const char *lib : {"libax_engine.so", "libax_sys.so", "libax_interpreter.so"})
    fs::remove(dir + "/lib/" + lib, ec);
  fs::remove(dir + "/lib", ec); // only if empty
}

std::string readme(const ModelConfig &c, const AxOptions &ax, const std::string &checkpointDir) {
  std::string files = "- `" + qwenc_rt::ax630c::layer_file(ax.prefill, 0) + "` ... `" +
                      qwenc_rt::ax630c::layer_file(ax.prefill, int(c.numLayers) - 1) + "` and `" +
                      qwenc_rt::ax630c::kPostFile + "`";
  std::string s;
  s += "# Qwen2 for the Axera AX630C, built by qwenc\n\n";
  s += "From `" + checkpointDir + "`: " + std::to_string(c.numLayers) + " layers, hidden " +
       std::to_string(c.hiddenSize) + ", vocab " + std::to_string(c.vocabSize) + "; weights " +
       (ax.quant == "int8" ? "w8a16 (int8)" : "w4a16 (int4)") + ", prefill " + std::to_string(ax.prefill) +
       " rows, KV cache " + std::to_string(ax.kvLen) + " rows" +
       (ax.history.empty() ? "" : ", prefill groups with history") + ".\n\n";
  if (ax.emulate)
    s += "**This bundle is emulated** (`--emulate`): the `.axmodel` files are descriptors for qwenc's emulated "
         "engine (in `lib/`), which computes each layer on the CPU from the checkpoint. It runs anywhere "
         "aarch64 Linux runs (e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu ./" +
         std::string(kHostProgram) + " -p Hi`), not on the NPU. Build without `--emulate` for the board.\n\n";
  s += "## 1. On a PC with Pulsar2 (Axera's model compiler)\n\n";
  s += "    sh " + std::string(kPulsar2Script) + " [HF_DIR]\n\n";
  s += "runs `pulsar2 llm_build` with this bundle's options on the checkpoint (default: the one qwenc compiled) "
       "and moves its NPU files here:\n" + files + ".\n";
  s += "Pulsar2 quantizes the weights itself (`-w " + std::string(ax.quant == "int8" ? "s8" : "s4") +
       "`) from the checkpoint as given; `model.embed_tokens.weight.bfloat16.bin` was written by qwenc, so no "
       "Python step is needed.\n\n";
  s += "## 2. On the board\n\n";
  s += "Copy this folder to the board (e.g. `scp -r` it) and run:\n\n";
  s += "    ./" + std::string(kHostProgram) + " -p \"Give me a short introduction to large language model.\"\n";
  s += "    ./" + std::string(kHostProgram) + "                    # chat\n\n";
  s += "`./" + std::string(kHostProgram) + " --help` lists the options (the same as every qwenc executable: "
       "`--prompt-ids`, `--dump-logits`, `--greedy`, `-n`, `--seed`, `-v` ...). The program is an aarch64 "
       "executable linked statically except for libc and the engine's libraries (`libax_engine.so`, "
       "`libax_sys.so`, `libax_interpreter.so`), which the board's system provides; if the loader does not "
       "find them, set `LD_LIBRARY_PATH` to the folder that holds them.\n\n";
  s += "Prompts longer than " + std::to_string(ax.prefill) + " tokens work: " +
       (ax.history.empty() ? "the first " + std::to_string(ax.prefill) +
                                 " tokens in one prefill, the rest one decode step each (build with "
                                 "`--history` for chunked prefill)"
                           : std::string("chunked prefill through the groups with history, one decode step per "
                                         "token where no group holds the chunk")) +
       ". A chat keeps the KV cache across turns; when it is full, the oldest turns are dropped.\n\n";
  s += "`./axmodel-info *.axmodel` prints what the engine reports for each file (groups, tensor names, shapes, "
       "sizes); the host program checks the same against what it was built for when it starts.\n\n";
  s += "## What has been validated\n\n";
  s += "The host program and the file layout follow qwenc's AX630C contract (names, shapes, sizes, mask, indices, "
       "KV row copies, post model); they are tested end to end under qemu-aarch64 (Cortex-A53) against qwenc's "
       "emulated engine, which computes each layer on the CPU with fake-quantized weights. Not validated without "
       "the chip: Pulsar2's output for this checkpoint, the vendor engine itself, the NPU's numerics and speed.\n";
  return s;
}

} // namespace

std::string pulsar2Command(const std::string &inputDir, const std::string &outputDir, const AxOptions &ax) {
  std::string cmd = "pulsar2 llm_build --input_path " + inputDir + " --output_path " + outputDir +
                    " --kv_cache_len " + std::to_string(ax.kvLen) + " --hidden_state_type bf16 --prefill_len " +
                    std::to_string(ax.prefill) + " --chip AX620E -w " + (ax.quant == "int8" ? "s8" : "s4");
  for (int h : ax.history)
    cmd += " --last_kv_cache_len " + std::to_string(h);
  return cmd;
}

std::string writeBundleFiles(const Checkpoint &ckpt, const ModelConfig &c, const AxOptions &ax,
                             const std::string &dir, const std::string &emulatorDir, Progress *progress) {
  if (progress)
    progress->begin("write " + std::string(qwenc_rt::ax630c::kEmbedFile));
  if (std::string err = writeEmbedding(ckpt, dir + "/" + qwenc_rt::ax630c::kEmbedFile, progress); !err.empty())
    return progress ? (progress->abandon(), err) : err;
  if (progress)
    progress->end(std::to_string(c.vocabSize * c.hiddenSize * 2 / 1000000) + " MB");

  std::string files;
  for (int64_t i = 0; i < c.numLayers; ++i)
    files += " " + qwenc_rt::ax630c::layer_file(ax.prefill, int(i));
  std::string script =
      "#!/bin/sh\n"
      "# The Pulsar2 step of this AX630C bundle (see README.md): run where Axera's Pulsar2 is installed.\n"
      "#   sh " + std::string(kPulsar2Script) + " [HF_DIR]   (default: the checkpoint qwenc compiled)\n"
      "# It compiles the checkpoint as given (Pulsar2 quantizes: -w " + (ax.quant == "int8" ? "s8" : "s4") +
      ") and moves the NPU files beside the host program.\n"
      "set -e\n"
      "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
      "input=${1:-" + shellQuote(ckpt.dir()) + "}\n"
      "out=\"$here/pulsar2-output\"\n" +
      pulsar2Command("\"$input\"", "\"$out\"", ax) + "\n"
      "for f in" + files + " " + qwenc_rt::ax630c::kPostFile + "; do\n"
      "  found=$(find \"$out\" -name \"$f\" | head -n 1)\n"
      "  if [ -z \"$found\" ]; then echo \"pulsar2 did not write $f\" >&2; exit 1; fi\n"
      "  mv \"$found\" \"$here/$f\"\n"
      "done\n"
      "echo \"the NPU files are in $here; copy the folder to the board and run ./" + kHostProgram + "\"\n";
  const std::string scriptPath = dir + "/" + kPulsar2Script;
  if (!writeFile(scriptPath, script))
    return "cannot write '" + scriptPath + "'";
  fs::permissions(scriptPath, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  if (!writeFile(dir + "/README.md", readme(c, ax, ckpt.dir())))
    return "cannot write '" + dir + "/README.md'";

  std::error_code ec;
  fs::copy_file(fs::path(emulatorDir).parent_path() / "axmodel-info", dir + "/axmodel-info",
                fs::copy_options::overwrite_existing, ec);
  if (ec)
    return "cannot copy axmodel-info into the bundle: " + ec.message();
  if (!ax.emulate) {
    removeEmulation(c, ax, dir);
    return "";
  }
  if (std::string err = writeDescriptors(ckpt, c, ax, dir); !err.empty())
    return err;
  fs::create_directories(dir + "/lib", ec);
  for (const char *lib : {"libax_engine.so", "libax_sys.so", "libax_interpreter.so"}) {
    fs::copy_file(emulatorDir + "/" + lib, dir + "/lib/" + lib, fs::copy_options::overwrite_existing, ec);
    if (ec)
      return "cannot copy the emulated engine's " + std::string(lib) + " from " + emulatorDir + ": " + ec.message();
  }
  return "";
}

} // namespace qwenc
