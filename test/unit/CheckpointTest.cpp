// Safetensors parsing and checkpoint validation: every kind of broken input
// gets an InputError that names the file and the problem.
#include "compiler/frontend/Checkpoint.h"
#include "compiler/frontend/InputError.h"
#include "test/tools/SafetensorsWriter.h"
#include "test/unit/TestDir.h"

#include <gtest/gtest.h>

using namespace qwenc;
using namespace qwenc::test;

namespace {

OutTensor f32Tensor(const std::string &name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return {name, "F32", shape, std::vector<uint8_t>(size_t(n) * 4, 0)};
}

/// Expects parsing `path` to fail with a message holding the path and `what`.
void expectParseError(const std::string &path, const std::string &what) {
  try {
    auto f = MappedFile::open(path);
    parseSafetensors(*f);
    FAIL() << "no error for " << what;
  } catch (const InputError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(Safetensors, ParsesWellFormedFile) {
  TestDir d;
  OutTensor a = f32Tensor("a", {2, 3});
  OutTensor b{"b", "BF16", {4}, std::vector<uint8_t>(8, 1)};
  writeSafetensors(d.file("x.safetensors"), {a, b});
  auto f = MappedFile::open(d.file("x.safetensors"));
  auto tensors = parseSafetensors(*f);
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].name, "a");
  EXPECT_EQ(tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensors[0].numBytes, 24u);
  EXPECT_EQ(tensors[1].dtype, DType::BF16);
  EXPECT_EQ(tensors[1].data[0], 1);
}

TEST(Safetensors, RejectsFileShorterThanLengthField) {
  TestDir d;
  d.write("x.safetensors", "abc");
  expectParseError(d.file("x.safetensors"), "too short");
}

TEST(Safetensors, RejectsHeaderLengthBeyondFile) {
  TestDir d;
  writeSafetensors(d.file("x.safetensors"), "{}", {}, 1000);
  expectParseError(d.file("x.safetensors"), "beyond the end of the file");
}

TEST(Safetensors, RejectsHeaderThatIsNotJson) {
  TestDir d;
  writeSafetensors(d.file("x.safetensors"), "{not json", {});
  expectParseError(d.file("x.safetensors"), "not a JSON object");
}

TEST(Safetensors, RejectsUnknownDtype) {
  TestDir d;
  OutTensor t{"t", "I64", {2}, std::vector<uint8_t>(16, 0)};
  writeSafetensors(d.file("x.safetensors"), {t});
  expectParseError(d.file("x.safetensors"), "unknown or unsupported dtype I64");
}

TEST(Safetensors, RejectsOffsetsOutOfRange) {
  TestDir d;
  std::string h = R"({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})";
  writeSafetensors(d.file("x.safetensors"), h, std::vector<uint8_t>(8, 0));
  expectParseError(d.file("x.safetensors"), "outside the data section");
}

TEST(Safetensors, RejectsOverlappingOffsets) {
  TestDir d;
  std::string h = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  writeSafetensors(d.file("x.safetensors"), h, std::vector<uint8_t>(12, 0));
  expectParseError(d.file("x.safetensors"), "overlapping");
}

TEST(Safetensors, RejectsShapeThatDisagreesWithByteRange) {
  TestDir d;
  std::string h = R"({"t": {"dtype": "BF16", "shape": [3, 3], "data_offsets": [0, 16]}})";
  writeSafetensors(d.file("x.safetensors"), h, std::vector<uint8_t>(16, 0));
  expectParseError(d.file("x.safetensors"), "needs 18 bytes but data_offsets span 16");
}

TEST(Safetensors, RejectsEntryWithoutOffsets) {
  TestDir d;
  writeSafetensors(d.file("x.safetensors"), R"({"t": {"dtype": "F32", "shape": [1]}})", {});
  expectParseError(d.file("x.safetensors"), "needs dtype, shape and data_offsets");
}

TEST(Safetensors, IgnoresMetadata) {
  TestDir d;
  std::string h = R"({"__metadata__": {"format": "pt"},
                      "t": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}})";
  writeSafetensors(d.file("x.safetensors"), h, std::vector<uint8_t>(2, 0));
  auto f = MappedFile::open(d.file("x.safetensors"));
  EXPECT_EQ(parseSafetensors(*f).size(), 1u);
}

/// A tiny but complete Qwen2 checkpoint: hidden 8, 2 heads, 1 kv head.
struct TinyModel {
  ModelConfig config;
  std::vector<OutTensor> tensors;
  TinyModel() {
    config.hiddenSize = 8;
    config.intermediateSize = 16;
    config.numLayers = 1;
    config.numHeads = 2;
    config.numKvHeads = 1;
    config.vocabSize = 32;
    config.tieWordEmbeddings = true;
    for (auto &[name, shape] : expectedTensors(config))
      tensors.push_back(f32Tensor(name, shape));
  }
};

void expectCheckpointError(const std::string &dir, const ModelConfig &config,
                           const std::string &what) {
  try {
    auto ck = Checkpoint::open(dir);
    validateCheckpoint(config, *ck);
    FAIL() << "no error for " << what;
  } catch (const InputError &e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, AcceptsCompleteTiedModel) {
  TestDir d;
  TinyModel m;
  writeSafetensors(d.file("model.safetensors"), m.tensors);
  auto ck = Checkpoint::open(d.path());
  EXPECT_NO_THROW(validateCheckpoint(m.config, *ck));
  EXPECT_EQ(ck->tensors().size(), m.tensors.size());
}

TEST(Checkpoint, ReportsMissingTensor) {
  TestDir d;
  TinyModel m;
  m.tensors.erase(m.tensors.begin() + 3);
  writeSafetensors(d.file("model.safetensors"), m.tensors);
  expectCheckpointError(d.path(), m.config, "missing tensor 'model.layers.0.self_attn.q_proj.bias'");
}

TEST(Checkpoint, ReportsMissingLmHeadWhenUntied) {
  TestDir d;
  TinyModel m;
  writeSafetensors(d.file("model.safetensors"), m.tensors);
  m.config.tieWordEmbeddings = false;
  expectCheckpointError(d.path(), m.config, "missing tensor 'lm_head.weight'");
}

TEST(Checkpoint, ReportsUnexpectedTensor) {
  TestDir d;
  TinyModel m;
  m.tensors.push_back(f32Tensor("model.layers.7.extra", {2}));
  writeSafetensors(d.file("model.safetensors"), m.tensors);
  expectCheckpointError(d.path(), m.config, "unexpected tensor 'model.layers.7.extra'");
}

TEST(Checkpoint, ReportsShapeThatDisagreesWithConfig) {
  TestDir d;
  TinyModel m;
  m.tensors[0] = f32Tensor("model.embed_tokens.weight", {32, 9});
  writeSafetensors(d.file("model.safetensors"), m.tensors);
  expectCheckpointError(d.path(), m.config, "has shape [32, 9] but config.json implies [32, 8]");
}

TEST(Checkpoint, LoadsShardsThroughIndex) {
  TestDir d;
  TinyModel m;
  std::vector<OutTensor> first(m.tensors.begin(), m.tensors.begin() + 5);
  std::vector<OutTensor> second(m.tensors.begin() + 5, m.tensors.end());
  writeSafetensors(d.file("model-00001-of-00002.safetensors"), first);
  writeSafetensors(d.file("model-00002-of-00002.safetensors"), second);
  nlohmann::json map;
  for (auto &t : first)
    map[t.name] = "model-00001-of-00002.safetensors";
  for (auto &t : second)
    map[t.name] = "model-00002-of-00002.safetensors";
  d.write("model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  auto ck = Checkpoint::open(d.path());
  EXPECT_NO_THROW(validateCheckpoint(m.config, *ck));
  EXPECT_NE(ck->find("model.norm.weight")->file.find("00002-of-00002"), std::string::npos);
}

TEST(Checkpoint, ReportsIndexNamingAbsentShard) {
  TestDir d;
  TinyModel m;
  writeSafetensors(d.file("model-00001-of-00002.safetensors"), m.tensors);
  nlohmann::json map;
  for (auto &t : m.tensors)
    map[t.name] = "model-00001-of-00002.safetensors";
  map["model.norm.weight"] = "model-00002-of-00002.safetensors";
  d.write("model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  expectCheckpointError(d.path(), m.config,
                        "names shard 'model-00002-of-00002.safetensors', which is absent");
}

TEST(Checkpoint, ReportsDirectoryWithoutWeights) {
  TestDir d;
  TinyModel m;
  expectCheckpointError(d.path(), m.config, "neither model.safetensors nor");
}

} // namespace
