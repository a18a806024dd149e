//===- HalideCalls.cpp ----------------------------------------------------===//
#include "targets/common/HalideCalls.h"

#include "compiler/dialect/WeightFormat.h"
#include "runtime/int4_layout.h"
#include "runtime/int8_layout.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace mlir;

namespace qwenc {

std::string HalideCalls::kernel(const std::string &generator, const std::vector<std::string> &params) {
  std::string key = generator;
  for (const std::string &p : params)
    key += " " + p;
  std::string &fn = names[key];
  if (fn.empty()) {
    fn = "qwen_k" + std::to_string(names.size() - 1);
    model.kernels.push_back({fn, generator, params});
  }
  return fn;
}

std::string HalideCalls::matmul(const std::string &xExpr, const std::string &rowsExpr, Value w, Value w2,
                                Value bias, const std::string &yExpr, int64_t n) {
  auto type = cast<RankedTensorType>(w.getType());
  Type element = type.getElementType();
  int64_t k = type.getDimSize(1);
  // The generator's `quant` is the format's name (WeightFormat.h); the
  // buffer element types are those of the packed layouts.
  const std::optional<WeightFormat> format = formatOf(element);
  const std::string quant = formatName(*format).str();
  std::string wType, code, bits;
  switch (*format) {
  case WeightFormat::F32: wType = "float32", code = "halide_type_float", bits = "32"; break;
  case WeightFormat::BF16: wType = "uint16", code = "halide_type_uint", bits = "16"; break;
  case WeightFormat::Int8: wType = "int8", code = "halide_type_int", bits = "8"; break;
  default: wType = "uint8", code = "halide_type_uint", bits = "8"; break; // int4: two a byte
  }
  const bool tiles = blob.inTiles(w); // (a gated product's two weights share shape and reader)
  int64_t group = 0; // int4: columns per scale
  const std::string int4View = quant == "int4" ? quantizedViewType(w, &group) : "";
  // Every format has a decode kernel and a prefill kernel (tokens in fours,
  // so at least four rows): all rows run on Halide. int8 weights meet x as
  // int16 rows (int16_rows), int4 weights as int8 rows per group in the
  // weights' interleaved order (the Input of Int4Groups).
  const std::string xType = quant == "int8" ? "int16" : quant == "int4" ? "int8" : "float32";
  // batch 0: the prefill kernel; else the decode kernel for that many rows
  // at once (LoweringConfig::matmulBatches).
  auto matmulKernel = [&](int batch) {
    std::vector<std::string> params = {"N=" + std::to_string(n), "K=" + std::to_string(k), "quant=" + quant,
                                       std::string("has_bias=") + (bias ? "true" : "false"),
                                       std::string("gated=") + (w2 ? "true" : "false"), "w.type=" + wType,
                                       "w2.type=" + wType, "x.type=" + xType,
                                       std::string("prefill=") + (batch == 0 ? "true" : "false")};
    if (group)
      params.push_back("group=" + std::to_string(group));
    if (batch > 1)
      params.push_back("batch=" + std::to_string(batch));
    if (tiles)
      params.push_back("tiles=true");
    return this->kernel("qwen_matmul", params);
  };
  // Tiles (the generator's tiles=true): w(kTile * K, N / kTile) for int8,
  // w(kTileRows * K / 2, N / kTileRows) and scale(kTileRows * K / G, ...) for int4.
  const int64_t tileRows = group ? qwenc_rt::int4::kTileRows : qwenc_rt::int8::kTile;
  auto weightBuf = [&](Value v) {
    const int64_t row = group ? k / 2 : k;
    const int64_t dim0 = tiles ? tileRows * row : row, dim1 = tiles ? n / tileRows : n;
    return llvm::formatv("HlBuf(W + {0}, {1}, {2}, {3}, {4})", *blob.pack(v), code, bits, dim0, dim1).str();
  };
  auto scaleBuf = [&](Value v) { // int8: one scale per row, int4: per group; unused for floats
    if (quant != "int8" && quant != "int4")
      return std::string("HlBuf(W, halide_type_float, 32, 1, 1)");
    const int64_t perRow = group ? k / group : 1;
    return llvm::formatv("HlBuf(W + {0}, halide_type_float, 32, {1}, {2})", blob.scalesOf(v),
                         tiles && group ? tileRows * perRow : perRow, tiles && group ? n / tileRows : n)
        .str();
  };
  std::string biasBuf = "HlBuf(W, halide_type_float, 32, 1)";
  if (bias) // the generator adds a float bias: an f32 copy of it
    biasBuf = llvm::formatv("HlBuf(W + {0}, halide_type_float, 32, {1})", blob.floatCopy(bias), n).str();
  Value second = w2 ? w2 : w;
  // The kernel by row count: prefill from prefillRows, below it the
  // largest batch that fits (the decode kernel for one row).
  const std::string args = "(&x_.b, &xs_.b, &xm_.b, &w_.b, &s_.b, &w2_.b, &s2_.b, &b_.b, &y_.b)";
  const std::string decodeFn = matmulKernel(1);
  std::string call = decodeFn + args, name = "\"" + decodeFn + "\"";
  std::vector<std::pair<int, int>> fromRows; // (rows from, batch), ascending
  for (int batch : batches)
    fromRows.push_back({batch, batch});
  fromRows.push_back({prefillRows, 0});
  for (auto [rows, batch] : fromRows) {
    const std::string fn = matmulKernel(batch);
    call = llvm::formatv("{0} >= {1} ? {2}{3} : {4}", rowsExpr, rows, fn, args, call).str();
    name = llvm::formatv("{0} >= {1} ? \"{2}\" : {3}", rowsExpr, rows, fn, name).str();
  }
  std::string input;
  if (quant == "int8") {
    int16Columns = std::max(int16Columns, k);
    input = llvm::formatv("const QuantRows<int16_t> &xq_ = int16_rows<{0}>({1}, {2});\n"
                          "    HlBuf x_(xq_.q.data(), halide_type_int, 16, {0}, {2}), "
                          "xs_(xq_.d.data(), halide_type_float, 32, 1, {2}), xm_(W, halide_type_float, 32, 1, 1);",
                          k, xExpr, rowsExpr)
                .str();
  } else if (quant == "int4") {
    quantizedInputViews.insert(int4View); // its input rows are reserved at start
    input = llvm::formatv("const QuantRows<int8_t> &xq_ = *prepare_rows<{0}, {1}>({2}, {3});\n"
                          "    HlBuf x_(xq_.q.data(), halide_type_int, 8, {0}, {3}), "
                          "xs_(xq_.d.data(), halide_type_float, 32, {4}, {3}), "
                          "xm_(xq_.sum8.data(), halide_type_float, 32, {4}, {3});",
                          k, int4View, xExpr, rowsExpr, k / group)
                .str();
  } else {
    input = llvm::formatv("HlBuf x_({0}, halide_type_float, 32, {1}, {2}), xs_(W, halide_type_float, 32, 1, 1), "
                          "xm_(W, halide_type_float, 32, 1, 1);",
                          xExpr, k, rowsExpr)
                .str();
  }
  std::string block = llvm::formatv("{\n    {0}\n    HlBuf y_({1}, halide_type_float, 32, {2}, {3});\n"
                                   "    HlBuf w_ = {4}, s_ = {5}, w2_ = {6}, s2_ = {7}, b_ = {8};\n"
                                   "    check_kernel({9}, {10});\n  }",
                                   input, yExpr, n, rowsExpr, weightBuf(w), scaleBuf(w), weightBuf(second),
                                   scaleBuf(second), biasBuf, call, name)
                         .str();
  return "  " + block + "\n";
}

} // namespace qwenc
