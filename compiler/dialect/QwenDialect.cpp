//===- QwenDialect.cpp - qwen dialect and op verifiers ---------------------===//
#include "compiler/dialect/QwenDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qwen;

#include "compiler/dialect/QwenOpsDialect.cpp.inc"

void QwenDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "compiler/dialect/QwenOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "compiler/dialect/QwenOps.cpp.inc"

namespace {
RankedTensorType ranked(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Dimensions agree when equal or when either is dynamic.
bool compatible(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

/// Activations of one op share their row count (tokens of the step).
LogicalResult checkRows(Operation *op, RankedTensorType a, RankedTensorType b,
                        StringRef what) {
  if (!compatible(a.getDimSize(0), b.getDimSize(0)))
    return op->emitOpError() << what << " has " << b.getDimSize(0)
                             << " rows but the input has " << a.getDimSize(0);
  return success();
}

LogicalResult checkStaticColumns(Operation *op, RankedTensorType t, StringRef what) {
  if (t.isDynamicDim(1))
    return op->emitOpError() << what << " must have a static column count";
  return success();
}
} // namespace

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty checkpoint tensor name");
  if (!getType().hasStaticShape())
    return emitOpError("weight shape must be static");
  bool quantized = isa<IntegerType>(getType().getElementType());
  if (quantized != getGroupSize().has_value())
    return emitOpError(quantized ? "quantized weights need a group_size"
                                 : "group_size applies to quantized weights only");
  if (quantized) {
    int64_t cols = getType().getShape().back(), g = *getGroupSize();
    if (getType().getRank() != 2 || g <= 0 || cols % g != 0)
      return emitOpError("group_size ") << g << " must divide the " << cols
                                        << " columns of a 2-D weight";
  }
  return success();
}

LogicalResult EmbeddingOp::verify() {
  auto table = ranked(getTable()), result = ranked(getResult());
  if (table.getRank() != 2)
    return emitOpError("table must be 2-D [vocab, hidden], got rank ") << table.getRank();
  if (!compatible(result.getDimSize(1), table.getDimSize(1)))
    return emitOpError("result has ") << result.getDimSize(1)
           << " columns but the table rows have " << table.getDimSize(1);
  return checkRows(*this, ranked(getIds()), result, "result");
}

LogicalResult RMSNormOp::verify() {
  auto in = ranked(getInput()), w = ranked(getWeight()), out = ranked(getResult());
  if (failed(checkStaticColumns(*this, in, "input")))
    return failure();
  if (w.getDimSize(0) != in.getDimSize(1))
    return emitOpError("weight has ") << w.getDimSize(0)
           << " elements but the input has " << in.getDimSize(1) << " columns";
  if (in.getShape() != out.getShape())
    return emitOpError("result shape must equal the input shape");
  if (!(getEps().convertToDouble() > 0.0) || !std::isfinite(getEps().convertToDouble()))
    return emitOpError("eps must be positive and finite");
  return success();
}

namespace {
/// Shared by linear and logits: input [T, K] x weight [N, K] -> [T, N].
LogicalResult verifyMatmul(Operation *op, RankedTensorType in, RankedTensorType w,
                           RankedTensorType out) {
  if (w.getRank() != 2)
    return op->emitOpError("weight must be 2-D [out_features, in_features], got rank ")
           << w.getRank();
  if (failed(checkStaticColumns(op, in, "input")))
    return failure();
  if (in.getDimSize(1) != w.getDimSize(1))
    return op->emitOpError("input has ") << in.getDimSize(1)
           << " columns but the weight has " << w.getDimSize(1) << " in_features";
  if (out.getDimSize(1) != w.getDimSize(0))
    return op->emitOpError("result has ") << out.getDimSize(1)
           << " columns but the weight has " << w.getDimSize(0) << " out_features";
  return checkRows(op, in, out, "result");
}
} // namespace

LogicalResult LinearOp::verify() {
  auto w = ranked(getWeight());
  if (failed(verifyMatmul(*this, ranked(getInput()), w, ranked(getResult()))))
    return failure();
  if (getBias() && ranked(getBias()).getDimSize(0) != w.getDimSize(0))
    return emitOpError("bias has ") << ranked(getBias()).getDimSize(0)
           << " elements but the weight has " << w.getDimSize(0) << " out_features";
  return success();
}

LogicalResult LogitsOp::verify() {
  return verifyMatmul(*this, ranked(getInput()), ranked(getWeight()), ranked(getResult()));
}

LogicalResult RoPEOp::verify() {
  auto in = ranked(getInput());
  int64_t hd = getHeadDim();
  if (hd <= 0 || hd % 2 != 0)
    return emitOpError("head_dim must be positive and even, got ") << hd;
  if (failed(checkStaticColumns(*this, in, "input")))
    return failure();
  if (in.getDimSize(1) % hd != 0)
    return emitOpError("input columns (") << in.getDimSize(1)
           << ") are not a whole number of heads of " << hd;
  if (in.getShape() != ranked(getResult()).getShape())
    return emitOpError("result shape must equal the input shape");
  if (!(getTheta().convertToDouble() > 0.0) || !std::isfinite(getTheta().convertToDouble()))
    return emitOpError("theta must be positive and finite");
  if (auto s = getScalingAttr()) {
    auto type = s.getAs<StringAttr>("type");
    if (!type || type.getValue() != "yarn")
      return emitOpError("scaling must have type = \"yarn\" (the only rope scaling supported)");
    auto num = [&](StringRef key) -> double {
      auto f = s.getAs<FloatAttr>(key);
      return f ? f.getValueAsDouble() : std::nan("");
    };
    if (!(num("factor") >= 1.0) || !(num("beta_fast") > 0.0) || !(num("beta_slow") > 0.0) ||
        !(num("attention_factor") > 0.0) || !s.getAs<IntegerAttr>("original_max_position_embeddings") ||
        s.getAs<IntegerAttr>("original_max_position_embeddings").getInt() <= 0)
      return emitOpError("yarn scaling needs factor >= 1, beta_fast, beta_slow and attention_factor > 0 (f64) "
                         "and original_max_position_embeddings > 0 (i64)");
  }
  return checkRows(*this, in, ranked(getPositions()), "positions");
}

qwenc_rt::rotary::Scaling RoPEOp::getRopeScaling() {
  qwenc_rt::rotary::Scaling r;
  if (auto s = getScalingAttr()) {
    r.factor = s.getAs<FloatAttr>("factor").getValueAsDouble();
    r.original_max_positions = double(s.getAs<IntegerAttr>("original_max_position_embeddings").getInt());
    r.beta_fast = s.getAs<FloatAttr>("beta_fast").getValueAsDouble();
    r.beta_slow = s.getAs<FloatAttr>("beta_slow").getValueAsDouble();
    r.attention_factor = s.getAs<FloatAttr>("attention_factor").getValueAsDouble();
  }
  return r;
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(), hd = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || hd <= 0 || getLayer() < 0)
    return emitOpError("layer, num_heads, num_kv_heads and head_dim must be positive");
  if (heads % kvHeads != 0)
    return emitOpError("num_heads (") << heads << ") is not a multiple of num_kv_heads ("
                                      << kvHeads << ")";
  auto q = ranked(getQuery()), k = ranked(getKey()), v = ranked(getValue());
  if (q.getDimSize(1) != heads * hd)
    return emitOpError("query has ") << q.getDimSize(1) << " columns, expected num_heads * head_dim = "
                                     << heads * hd;
  if (k.getDimSize(1) != kvHeads * hd || v.getDimSize(1) != kvHeads * hd)
    return emitOpError("key and value need num_kv_heads * head_dim = ")
           << kvHeads * hd << " columns";
  if (ranked(getResult()).getDimSize(1) != heads * hd)
    return emitOpError("result needs num_heads * head_dim = ") << heads * hd << " columns";
  if (failed(checkRows(*this, q, k, "key")) || failed(checkRows(*this, q, v, "value")) ||
      failed(checkRows(*this, q, ranked(getPositions()), "positions")))
    return failure();
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one weight");
  auto first = ranked(getInputs()[0]);
  int64_t rows = 0;
  for (Value in : getInputs()) {
    auto t = ranked(in);
    if (t.getRank() != first.getRank() || t.getElementType() != first.getElementType() ||
        t.getShape().drop_front() != first.getShape().drop_front())
      return emitOpError("operands must agree in element type and in all but the first dimension");
    rows += t.getDimSize(0);
  }
  auto out = ranked(getResult());
  if (out.getElementType() != first.getElementType() || out.getDimSize(0) != rows ||
      out.getShape().drop_front() != first.getShape().drop_front())
    return emitOpError("result must be the operands stacked: ") << rows << " rows";
  return success();
}

LogicalResult SliceOp::verify() {
  auto in = ranked(getInput()), out = ranked(getResult());
  if (getOffset() < 0 || getOffset() + out.getDimSize(1) > in.getDimSize(1))
    return emitOpError("columns [") << getOffset() << ", " << getOffset() + out.getDimSize(1)
                                    << ") exceed the input's " << in.getDimSize(1);
  return checkRows(*this, in, out, "result");
}

LogicalResult GatedLinearOp::verify() {
  auto in = ranked(getInput()), out = ranked(getResult());
  if (failed(verifyMatmul(*this, in, ranked(getGate()), out)) ||
      failed(verifyMatmul(*this, in, ranked(getUp()), out)))
    return failure();
  return success();
}

LogicalResult AddRMSNormOp::verify() {
  auto a = ranked(getLhs()), b = ranked(getRhs()), w = ranked(getWeight());
  if (a != b || ranked(getSum()) != a || ranked(getNormed()) != a)
    return emitOpError("operands and results must share one activation type");
  if (w.getDimSize(0) != a.getDimSize(1))
    return emitOpError("weight has ") << w.getDimSize(0) << " elements but the input has "
                                      << a.getDimSize(1) << " columns";
  if (!(getEps().convertToDouble() > 0.0) || !std::isfinite(getEps().convertToDouble()))
    return emitOpError("eps must be positive and finite");
  return success();
}
