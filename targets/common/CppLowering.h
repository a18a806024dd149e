//===- CppLowering.h - the qwen dialect to C++ with constant shapes -*- C++ -*-===//
//
// What every target that builds an executable shares: func @forward, its ops
// annotated with their kernels (qwen-select-kernels), becomes one C++
// translation unit whose every dimension is a constant, with the activation
// arena planned at compile time (ArenaPlanner.h) and the weights packed into
// one blob (WeightPacking.h, WeightBlob.h). The target says which arch header
// the code includes and what its ModelDesc declares.
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_COMMON_CPPLOWERING_H
#define QWENC_TARGETS_COMMON_CPPLOWERING_H

#include "compiler/frontend/Checkpoint.h"
#include "compiler/support/Progress.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace qwenc {

/// What a target tells the lowering.
struct LoweringConfig {
  std::string target;           // its --target name (ModelDesc::target)
  std::string archHeader;       // runtime/arch/... header the code includes
  std::string archNamespace;    // the namespace that header defines (select_kernels)
  std::string halideHeader;     // included when the model has Halide kernels
  std::string requiredFeatures; // ModelDesc::required_features
  std::string isaChoices;       // ModelDesc::isa_choices
  int maxRows = 128;
  std::string kvType = "f32";   // the KV cache's storage: f32, bf16, int8 (--kv-type)
  /// Halide products: the row counts of the batched decode kernels (each
  /// weight meets that many rows at once; the server's decode steps of
  /// several sequences), ascending, and the rows from which the prefill
  /// kernel takes over. Fewer rows than the first batch: the decode kernel.
  std::vector<int> matmulBatches;
  int prefillRows = 4;
  /// Int8 and int4 g128 weights of Halide products stored in column tiles
  /// (runtime/int8_layout.h, int4_layout.h; WeightBlob::inTiles) and read
  /// by the generator's tiles=true kernels (x86-64: whose prefill takes 8
  /// rows).
  bool columnTiles = false;
  Progress *progress = nullptr;
};

/// One Halide kernel the model needs: function `name`, made by running the
/// generator (qwen_matmul) with these "key=value" parameters.
struct KernelSpec {
  std::string name, generator;
  std::vector<std::string> params;
};

/// The blob as it is packed: each weight is written at its offset to an
/// unlinked temporary file as soon as it is packed, so that packing holds
/// one tensor in memory at a time whatever the model's size; appendBlob
/// copies it after the executable.
struct BlobFile {
  std::FILE *file = nullptr;
  std::string error; // the first failed write
  ~BlobFile() {
    if (file)
      std::fclose(file);
  }
  void write(uint64_t offset, const uint8_t *data, uint64_t numBytes);
};

/// The result of lowering: model source plus the weight blob layout.
struct CppModel {
  std::string source;
  std::unique_ptr<BlobFile> blob; // null until the first bytes
  uint64_t blobBytes = 0;
  std::unique_ptr<Checkpoint> checkpoint; // keeps the tensors mapped
  std::vector<uint8_t> tokenizerTables;   // empty without tokenizer.json
  /// One row per checkpoint tensor: how it is stored and what that cost.
  struct ReportRow {
    std::string name, storage;
    std::vector<int64_t> shape;
    double snrDb;
    uint64_t bytes;
  };
  std::vector<ReportRow> report;
  /// Weight bytes one decode step reads: every packed weight, except that an
  /// embedding table read only by the gather costs one row.
  uint64_t bytesReadPerToken = 0;
  std::vector<KernelSpec> kernels;
};

/// What the generated kModel (runtime/qwenc_runtime.h) says beyond the
/// module's qwen.config (eos ids, sampling defaults, name).
struct ModelDescFields {
  int64_t vocab = 0, numLayers = 0, kvDim = 0;
  int64_t maxPositions = 0; // 0: the config's max_position_embeddings
  int64_t maxRows = 0;
  uint64_t arenaFloats = 0;
  std::string scratchShared = "0", scratchPerThread = "0"; // C++ expressions (runtime/attention.h)
  uint64_t tokenizerOffset = 0, tokenizerBytes = 0;
  std::string defaultSystemPrompt, target, requiredFeatures, isaChoices;
  std::string selectKernels;          // C++ expression of the select_kernels hook
  std::string openDevice = "nullptr"; // and of open_device
  std::string kvType = "f32";         // --kv-type
  int64_t kvHeads = 0;
};

/// Compiles the checkpoint's tokenizer.json into model.tokenizerTables
/// (a warning where it has none); returns the chat template's default
/// system prompt ("" if none).
std::string loadTokenizer(CppModel &model, Progress *progress);

/// The C++ definition of kModel (and its eos list) for `model`, whose blob
/// is complete. Problems are diagnostics on the module.
mlir::FailureOr<std::string> modelDescSource(mlir::ModuleOp module, const CppModel &model,
                                             const ModelDescFields &fields);

/// Lowers `module` (func @forward in the qwen dialect) to a C++ translation
/// unit. Reports problems as diagnostics on the module and fails.
mlir::FailureOr<CppModel> lowerToCpp(mlir::ModuleOp module, const LoweringConfig &config);

} // namespace qwenc
#endif
