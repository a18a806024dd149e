// checkpoint-tool: makes variants of a checkpoint for the end-to-end tests.
//   checkpoint-tool reshard SRC DST N        same tensors in N shards + index.json
//   checkpoint-tool convert SRC DST f16      every tensor rounded to F16
//   checkpoint-tool convert SRC DST f16-as-f32
//                                            rounded to F16, stored widened as F32:
//                                            must compute exactly what the F16 one does
//   checkpoint-tool random DST VOCAB           a tiny random BF16 model (hidden 32, one
//                                            layer, tied) with a real-size vocabulary
#include "compiler/frontend/Checkpoint.h"
#include "compiler/frontend/InputError.h"
#include "test/tools/SafetensorsWriter.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;
using namespace qwenc;
using qwenc::test::OutTensor;

namespace {

/// Round-to-nearest-even F32 -> F16 for finite values in range (test data).
uint16_t toF16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = (x >> 16) & 0x8000;
  float a = std::fabs(f);
  if (a < std::ldexp(1.0f, -24) / 2)
    return sign;
  int e;
  std::frexp(a, &e); // a = frac * 2^e, frac in [0.5, 1)
  int exp16 = e - 1 + 15;
  if (exp16 <= 0) { // subnormal: units of 2^-24
    long m = std::lrint(std::ldexp(a, 24));
    return uint16_t(sign | m);
  }
  long m = std::lrint(std::ldexp(a, 10 - (e - 1))); // 1024..2048
  if (m == 2048) {
    m = 1024;
    ++exp16;
  }
  return uint16_t(sign | (exp16 << 10) | (m - 1024));
}

std::vector<OutTensor> loadAll(const Checkpoint &ck) {
  std::vector<OutTensor> out;
  for (auto &[name, t] : ck.tensors())
    out.push_back({name, dtypeName(t.dtype), t.shape,
                   std::vector<uint8_t>(t.data, t.data + t.numBytes)});
  return out;
}

void copyConfigs(const std::string &src, const std::string &dst) {
  fs::create_directories(dst);
  for (const char *f : {"config.json", "generation_config.json"})
    if (fs::exists(src + "/" + f))
      fs::copy_file(src + "/" + f, dst + "/" + f, fs::copy_options::overwrite_existing);
}

} // namespace

/// Writes config.json, generation_config.json (Qwen2.5-Instruct's sampling
/// defaults) and random BF16 weights with a fixed seed.
int writeRandomModel(const std::string &dst, int64_t vocab) {
  ModelConfig c;
  c.hiddenSize = 32;
  c.intermediateSize = 64;
  c.numLayers = 1;
  c.numHeads = 2;
  c.numKvHeads = 1;
  c.vocabSize = vocab;
  c.tieWordEmbeddings = true;
  fs::create_directories(dst);
  nlohmann::json cfg = {{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"},
                        {"hidden_size", c.hiddenSize}, {"intermediate_size", c.intermediateSize},
                        {"num_hidden_layers", c.numLayers}, {"num_attention_heads", c.numHeads},
                        {"num_key_value_heads", c.numKvHeads}, {"vocab_size", c.vocabSize},
                        {"max_position_embeddings", 32768}, {"rms_norm_eps", 1e-6},
                        {"rope_theta", 1000000.0}, {"tie_word_embeddings", true},
                        {"bos_token_id", 151643}, {"eos_token_id", 151645}};
  std::ofstream(dst + "/config.json") << cfg.dump(2);
  nlohmann::json gen = {{"bos_token_id", 151643}, {"eos_token_id", {151645, 151643}},
                        {"do_sample", true}, {"temperature", 0.7}, {"top_p", 0.8},
                        {"top_k", 20}, {"repetition_penalty", 1.05}};
  std::ofstream(dst + "/generation_config.json") << gen.dump(2);
  uint64_t state = 42;
  auto uniform = [&]() { // splitmix64 -> [-1, 1)
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return double((z ^ (z >> 31)) >> 11) / 4503599627370496.0 - 1.0;
  };
  std::vector<OutTensor> tensors;
  for (auto &[name, shape] : expectedTensors(c)) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    bool norm = name.find("norm") != std::string::npos;
    double scale = shape.size() == 2 ? 1.7 / std::sqrt(double(shape[1])) : 0.05;
    OutTensor t{name, "BF16", shape, {}};
    for (int64_t i = 0; i < n; ++i) {
      float f = float(norm ? 1.0 + 0.1 * uniform() : scale * uniform());
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      t.bytes.push_back(uint8_t(bits >> 16));
      t.bytes.push_back(uint8_t(bits >> 24));
    }
    tensors.push_back(std::move(t));
  }
  qwenc::test::writeSafetensors(dst + "/model.safetensors", tensors);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && std::string(argv[1]) == "random")
    return writeRandomModel(argv[2], std::atoll(argv[3]));
  if (argc != 5) {
    std::fprintf(stderr, "usage: checkpoint-tool reshard SRC DST N | convert SRC DST f16|f16-as-f32\n");
    return 2;
  }
  std::string cmd = argv[1], src = argv[2], dst = argv[3], arg = argv[4];
  try {
    auto ck = Checkpoint::open(src);
    copyConfigs(src, dst);
    std::vector<OutTensor> tensors = loadAll(*ck);
    if (cmd == "reshard") {
      int n = std::atoi(arg.c_str());
      nlohmann::json map = nlohmann::json::object();
      for (int s = 0; s < n; ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, n);
        std::vector<OutTensor> part;
        for (size_t i = s; i < tensors.size(); i += size_t(n)) {
          part.push_back(tensors[i]);
          map[tensors[i].name] = name;
        }
        qwenc::test::writeSafetensors(dst + "/" + name, part);
      }
      std::ofstream(dst + "/model.safetensors.index.json")
          << nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", map}}.dump(2);
    } else if (cmd == "convert") {
      for (OutTensor &o : tensors) {
        const TensorRef &t = *ck->find(o.name);
        std::vector<uint8_t> bytes;
        for (int64_t i = 0; i < t.numElements(); ++i) {
          uint16_t h = toF16(t.valueAt(i));
          if (arg == "f16") {
            bytes.push_back(uint8_t(h & 0xff));
            bytes.push_back(uint8_t(h >> 8));
          } else {
            TensorRef half{"", DType::F16, {}, reinterpret_cast<const uint8_t *>(&h), 2, ""};
            float f = half.valueAt(0);
            uint8_t b[4];
            std::memcpy(b, &f, 4);
            bytes.insert(bytes.end(), b, b + 4);
          }
        }
        o.dtype = arg == "f16" ? "F16" : "F32";
        o.bytes = std::move(bytes);
      }
      qwenc::test::writeSafetensors(dst + "/model.safetensors", tensors);
    } else {
      std::fprintf(stderr, "checkpoint-tool: unknown command '%s'\n", cmd.c_str());
      return 2;
    }
  } catch (const InputError &e) {
    std::fprintf(stderr, "checkpoint-tool: %s\n", e.what());
    return 1;
  }
  return 0;
}
