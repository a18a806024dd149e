//===- HalideCalls.h - calls of Halide kernels in the generated C++ -*- C++ -*-===//
//
// The lowering's part for ops that qwen-select-kernels gave to Halide: the
// C++ that wraps the operands in halide_buffer_t (HlBuf of
// runtime/halide_glue.h), quantizes the activations as the kernel reads
// them, and calls the kernel; and the list of kernels the build step has
// the generators (targets/halide/) make, one per distinct shape and format.
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_COMMON_HALIDECALLS_H
#define QWENC_TARGETS_COMMON_HALIDECALLS_H

#include "targets/common/WeightBlob.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace qwenc {

class HalideCalls {
public:
  HalideCalls(CppModel &model, WeightBlob &blob, std::set<std::string> &quantizedInputViews,
              std::vector<int> batches, int prefillRows)
      : model(model), blob(blob), quantizedInputViews(quantizedInputViews), batches(std::move(batches)),
        prefillRows(prefillRows) {}
  /// The C++ block computing y = x W^T (+ bias), or the gated form with w2,
  /// for every row count (the kernel chosen by rows: LoweringConfig's
  /// matmulBatches and prefillRows), of weights the generator takes
  /// (halideTakesWeight).
  std::string matmul(const std::string &xExpr, const std::string &rowsExpr, mlir::Value w, mlir::Value w2,
                     mlir::Value bias, const std::string &yExpr, int64_t n);
  /// The function name of the kernel `generator` makes with `params`.
  std::string kernel(const std::string &generator, const std::vector<std::string> &params);
  /// The widest input of the int8 kernels (its int16 rows are reserved at start).
  int64_t int16Columns = 0;

private:
  CppModel &model;
  WeightBlob &blob;
  std::set<std::string> &quantizedInputViews;
  std::map<std::string, std::string> names; // generator parameters -> function
  std::vector<int> batches; // LoweringConfig::matmulBatches
  int prefillRows;
};

} // namespace qwenc
#endif
