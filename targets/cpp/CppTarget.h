//===- CppTarget.h - lower the qwen dialect to portable C++ ----*- C++ -*-===//
#ifndef QWENC_TARGETS_CPP_CPPTARGET_H
#define QWENC_TARGETS_CPP_CPPTARGET_H

#include "compiler/frontend/Checkpoint.h"
#include "compiler/support/Progress.h"

#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <string>
#include <vector>

namespace qwenc {

struct CppTargetOptions {
  int maxRows = 128; // tokens per forward() call: the prefill chunk (64: 3-6 % slower prefill)
  /// Host compiler flags for the model's kernels, and the CPU features the
  /// executable checks for at start ("" for none).
  std::vector<std::string> cxxFlags = {"-O2"};
  std::string requiredIsa;
  /// Kernels from the Halide generators (qwenc-kernelgen), specialised to
  /// each shape: decode-step (one row) matrix products of f32, bf16 and int8
  /// weights, and attention over the KV cache; the C++ templates for prefill
  /// blocks and int4.
  bool halideKernels = false;
  /// Where the stages of lowering and building report (none: silent).
  Progress *progress = nullptr;
};

/// One Halide kernel the model needs: function `name`, made by running the
/// generator (qwen_matmul, qwen_attention) with these "key=value" parameters.
struct KernelSpec {
  std::string name, generator;
  std::vector<std::string> params;
};

/// The targets this build of qwenc can compile for: cpp (portable C++) and
/// x86-64-avx2 (the same kernels built for AVX2 + FMA). False if unknown.
bool targetOptions(const std::string &target, CppTargetOptions &opts);

/// Bytes at their place in the blob appended to the executable: a weight
/// tensor (still in the mapped checkpoint) or the tokenizer tables.
struct BlobEntry {
  const uint8_t *data;
  uint64_t numBytes;
  uint64_t offset;
};

/// The result of lowering: model source plus the weight blob layout.
struct CppModel {
  std::string source;
  std::vector<BlobEntry> blob;
  uint64_t blobBytes = 0;
  std::unique_ptr<Checkpoint> checkpoint; // keeps the tensors mapped
  std::vector<uint8_t> tokenizerTables;   // empty without tokenizer.json
  std::vector<std::vector<uint8_t>> packedWeights; // converted or quantized copies
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

/// Lowers `module` (func @forward in the qwen dialect) to a C++ translation
/// unit in which every dimension is a constant, with the activation arena
/// planned here. Reports problems as diagnostics on the module and fails.
mlir::FailureOr<CppModel> emitCppModel(mlir::ModuleOp module, const CppTargetOptions &opts);

/// Builds an executable from the model source with the host compiler and
/// appends the weight blob. Returns an error message, empty on success.
std::string buildExecutable(const CppModel &model, const CppTargetOptions &opts,
                            const std::string &outputPath, const std::string &keepSourceDir,
                            bool verbose);

} // namespace qwenc
#endif
