//===- WeightFormat.cpp ---------------------------------------------------===//
#include "compiler/dialect/WeightFormat.h"
#include "runtime/int4_layout.h"

#include "mlir/IR/BuiltinTypes.h"

#include <vector>

namespace qwenc {

namespace {
struct Entry {
  WeightFormat format;
  const char *name;
  bool quantTarget; // the quantize pass converts to it
};
constexpr Entry kFormats[] = {{WeightFormat::F32, "f32", true},
                              {WeightFormat::BF16, "bf16", true},
                              {WeightFormat::F16, "f16", false},
                              {WeightFormat::Int8, "int8", true},
                              {WeightFormat::Int4, "int4", true}};
} // namespace

llvm::StringRef formatName(WeightFormat f) {
  for (const Entry &e : kFormats)
    if (e.format == f)
      return e.name;
  return "?";
}

std::optional<WeightFormat> parseQuantFormat(llvm::StringRef name) {
  for (const Entry &e : kFormats)
    if (e.quantTarget && name == e.name)
      return e.format;
  return std::nullopt;
}

std::string quantFormatNames() {
  std::vector<std::string> names;
  for (const Entry &e : kFormats)
    if (e.quantTarget)
      names.push_back(e.name);
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return s;
}

std::string int4GroupSizeNames() {
  std::string s;
  const int n = int(std::size(qwenc_rt::int4::kGroupSizes));
  for (int i = 0; i < n; ++i)
    s += (i == 0 ? "" : i + 1 == n ? " or " : ", ") + std::to_string(qwenc_rt::int4::kGroupSizes[i]);
  return s;
}

mlir::Type elementType(WeightFormat f, mlir::MLIRContext *ctx) {
  switch (f) {
  case WeightFormat::F32: return mlir::Float32Type::get(ctx);
  case WeightFormat::BF16: return mlir::BFloat16Type::get(ctx);
  case WeightFormat::F16: return mlir::Float16Type::get(ctx);
  case WeightFormat::Int8: return mlir::IntegerType::get(ctx, 8);
  case WeightFormat::Int4: return mlir::IntegerType::get(ctx, 4);
  }
  return {};
}

std::optional<WeightFormat> formatOf(mlir::Type e) {
  if (e.isF32()) return WeightFormat::F32;
  if (e.isBF16()) return WeightFormat::BF16;
  if (e.isF16()) return WeightFormat::F16;
  if (e.isInteger(8)) return WeightFormat::Int8;
  if (e.isInteger(4)) return WeightFormat::Int4;
  return std::nullopt;
}

double bytesPerElement(WeightFormat f) {
  switch (f) {
  case WeightFormat::F32: return 4;
  case WeightFormat::BF16:
  case WeightFormat::F16: return 2;
  case WeightFormat::Int8: return 1;
  case WeightFormat::Int4: return 0.5;
  }
  return 0;
}

} // namespace qwenc
