//===- CppTarget.cpp - lower the qwen dialect to portable C++ -------------===//
//
// Walks func @forward once, in order: each qwen op becomes one call of a
// runtime kernel template instantiated with the op's constant dimensions.
// Activations live in one arena whose offsets are planned here from the
// live ranges of the SSA values, so a forward step allocates nothing.
//
//===----------------------------------------------------------------------===//
#include "targets/cpp/CppTarget.h"
#include "compiler/dialect/QwenDialect.h"
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/TokenizerTables.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstdio>
#include <map>

using namespace mlir;

namespace qwenc {
namespace {

constexpr uint64_t kWeightAlign = 64;

std::string exactDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// A C++ string literal with every byte outside printable ASCII escaped.
std::string cppString(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    }
  }
  return out + "\"";
}

const char *storageType(Type t) {
  if (t.isF32()) return "float";
  if (t.isBF16()) return "bf16";
  if (t.isF16()) return "f16";
  return nullptr;
}

bool matchesDType(Type t, DType d) {
  return (d == DType::F32 && t.isF32()) || (d == DType::BF16 && t.isBF16()) ||
         (d == DType::F16 && t.isF16());
}

int64_t cols(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(1); }

/// First-fit placement of activation buffers by live range.
class ArenaPlanner {
public:
  /// Places a buffer of `size` floats that is live from now on.
  uint64_t allocate(uint64_t size) {
    uint64_t offset = 0;
    for (auto &[start, len] : live) { // sorted by start
      if (offset + size <= start)
        break;
      offset = std::max(offset, start + len);
    }
    live.insert({offset, size});
    peak = std::max(peak, offset + size);
    return offset;
  }
  void release(uint64_t offset) { live.erase(offset); }
  uint64_t peakFloats() const { return peak; }

private:
  std::map<uint64_t, uint64_t> live; // start -> size
  uint64_t peak = 0;
};

class Emitter {
public:
  Emitter(ModuleOp module, const CppTargetOptions &opts) : module(module), opts(opts) {}

  FailureOr<CppModel> run();

private:
  LogicalResult loadCheckpoint();
  LogicalResult placeWeight(qwen::WeightOp op);
  uint64_t appendToBlob(const uint8_t *data, uint64_t numBytes);
  LogicalResult emitOp(Operation *op);
  std::string buf(Value v); // C++ expression for the buffer of an activation
  std::string weightPtr(Value v);

  ModuleOp module;
  CppTargetOptions opts;
  CppModel model;
  DictionaryAttr config;
  std::string body;
  llvm::StringMap<uint64_t> weightOffsets;
  llvm::DenseMap<Value, uint64_t> arenaOffset;
  llvm::DenseMap<Value, std::string> names; // block arguments and weights
  std::string defaultSystemPrompt;
  Value returned;
  int numLayers = 0;
  int64_t kvDim = -1;
};

LogicalResult Emitter::loadCheckpoint() {
  auto path = module->getAttrOfType<StringAttr>(qwen::kCheckpointAttr);
  config = module->getAttrOfType<DictionaryAttr>(qwen::kConfigAttr);
  if (!path || !config)
    return module.emitError() << "module needs the '" << qwen::kCheckpointAttr << "' and '"
                              << qwen::kConfigAttr << "' attributes that `qwenc import` sets";
  try {
    model.checkpoint = Checkpoint::open(path.str());
    if (auto tok = compileTokenizer(path.str())) {
      model.tokenizerTables = std::move(tok->tables);
      defaultSystemPrompt = tok->defaultSystemPrompt;
    }
  } catch (const InputError &e) {
    return module.emitError() << e.what();
  }
  return success();
}

LogicalResult Emitter::placeWeight(qwen::WeightOp op) {
  std::string name = op.getName().str();
  const TensorRef *t = model.checkpoint->find(name);
  if (!t)
    return op.emitOpError() << "names tensor '" << name << "', which the checkpoint lacks";
  auto type = op.getType();
  if (type.getShape() != llvm::ArrayRef<int64_t>(t->shape) ||
      !matchesDType(type.getElementType(), t->dtype))
    return op.emitOpError() << "type " << type << " disagrees with the checkpoint's "
                            << dtypeName(t->dtype) << " tensor '" << name << "'";
  if (!weightOffsets.count(name))
    weightOffsets[name] = appendToBlob(t->data, t->numBytes);
  return success();
}

uint64_t Emitter::appendToBlob(const uint8_t *data, uint64_t numBytes) {
  uint64_t offset = (model.blobBytes + kWeightAlign - 1) / kWeightAlign * kWeightAlign;
  model.blob.push_back({data, numBytes, offset});
  model.blobBytes = offset + numBytes;
  return offset;
}

std::string Emitter::buf(Value v) {
  if (v == returned)
    return "s.logits";
  return llvm::formatv("(A + {0})", arenaOffset.lookup(v)).str();
}

std::string Emitter::weightPtr(Value v) {
  auto op = v.getDefiningOp<qwen::WeightOp>();
  auto type = op.getType();
  return llvm::formatv("reinterpret_cast<const {0} *>(W + {1})", storageType(type.getElementType()),
                       weightOffsets.lookup(op.getName()))
      .str();
}

LogicalResult Emitter::emitOp(Operation *op) {
  auto line = [&](const std::string &s) { body += "  " + s + ";\n"; };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](qwen::WeightOp w) { return placeWeight(w); })
      .Case([&](qwen::EmbeddingOp e) {
        auto t = e.getTable().getType();
        line(llvm::formatv("embedding<{0}, {1}>({2}, ids, rows, {3})", t.getDimSize(0),
                           t.getDimSize(1), weightPtr(e.getTable()), buf(e.getResult())));
        return success();
      })
      .Case([&](qwen::RMSNormOp n) {
        line(llvm::formatv("rms_norm<{0}>({1}, {2}, {3}, rows, {4})", cols(n.getInput()),
                           buf(n.getInput()), weightPtr(n.getWeight()),
                           exactDouble(n.getEps().convertToDouble()), buf(n.getResult())));
        return success();
      })
      .Case([&](qwen::LinearOp l) {
        std::string bias = l.getBias() ? weightPtr(l.getBias()) : "static_cast<const float *>(nullptr)";
        line(llvm::formatv("linear<{0}, {1}>({2}, {3}, {4}, rows, {5})", cols(l.getResult()),
                           cols(l.getInput()), buf(l.getInput()), weightPtr(l.getWeight()), bias,
                           buf(l.getResult())));
        return success();
      })
      .Case([&](qwen::RoPEOp r) {
        line(llvm::formatv("rope<{0}, {1}>({2}, positions, {3}, rows, {4})", cols(r.getInput()),
                           r.getHeadDim(), buf(r.getInput()),
                           exactDouble(r.getTheta().convertToDouble()), buf(r.getResult())));
        return success();
      })
      .Case([&](qwen::AttentionOp a) -> LogicalResult {
        int64_t kv = a.getNumKvHeads() * a.getHeadDim();
        if (kvDim >= 0 && kv != kvDim)
          return a.emitOpError("every layer must cache the same number of key columns");
        kvDim = kv;
        numLayers = std::max<int>(numLayers, int(a.getLayer()) + 1);
        std::string cacheOffset = llvm::formatv("size_t({0}) * s.ctx * {1}", a.getLayer(), kv).str();
        line(llvm::formatv("attention<{0}, {1}, {2}>({3}, {4}, {5}, positions, rows, s.k_cache + {6}, "
                           "s.v_cache + {6}, s.scratch, {7})",
                           a.getNumHeads(), a.getNumKvHeads(), a.getHeadDim(), buf(a.getQuery()),
                           buf(a.getKey()), buf(a.getValue()), cacheOffset, buf(a.getResult())));
        return success();
      })
      .Case([&](qwen::SiluMulOp m) {
        line(llvm::formatv("silu_mul<{0}>({1}, {2}, rows, {3})", cols(m.getResult()), buf(m.getGate()),
                           buf(m.getUp()), buf(m.getResult())));
        return success();
      })
      .Case([&](qwen::AddOp m) {
        line(llvm::formatv("add<{0}>({1}, {2}, rows, {3})", cols(m.getResult()), buf(m.getLhs()),
                           buf(m.getRhs()), buf(m.getResult())));
        return success();
      })
      .Case([&](qwen::LogitsOp l) -> LogicalResult {
        if (l.getResult() != returned)
          return l.emitOpError("the cpp target needs the logits to be what @forward returns");
        auto w = l.getWeight().getType();
        line(llvm::formatv("logits<{0}, {1}>({2}, {3}, rows, all_logits, s.logits)", w.getDimSize(0),
                           w.getDimSize(1), buf(l.getInput()), weightPtr(l.getWeight())));
        return success();
      })
      .Case([&](func::ReturnOp) { return success(); })
      .Default([&](Operation *other) -> LogicalResult {
        return other->emitOpError("is not supported by the cpp target");
      });
}

FailureOr<CppModel> Emitter::run() {
  if (failed(loadCheckpoint()))
    return failure();
  auto fn = module.lookupSymbol<func::FuncOp>("forward");
  if (!fn || fn.getBody().getBlocks().size() != 1 || fn.getNumArguments() != 2 ||
      fn.getNumResults() != 1)
    return module.emitError("the cpp target needs func.func @forward(%ids, %positions) -> logits "
                            "with one block");
  Block &block = fn.getBody().front();
  returned = block.getTerminator()->getOperand(0);
  if (!returned.getDefiningOp<qwen::LogitsOp>())
    return fn.emitError("@forward must return the result of qwen.logits");
  auto ids = block.getArgument(0), positions = block.getArgument(1);
  for (Operation *user : ids.getUsers())
    if (!isa<qwen::EmbeddingOp>(user))
      return user->emitOpError("uses the token ids; only qwen.embedding may");
  (void)positions;

  // Live ranges: an activation dies after the last op that reads it.
  llvm::DenseMap<Operation *, unsigned> index;
  unsigned n = 0;
  for (Operation &op : block)
    index[&op] = n++;
  llvm::DenseMap<unsigned, SmallVector<Value>> dyingAfter;
  for (Operation &op : block)
    for (Value r : op.getResults()) {
      if (isa<qwen::WeightOp>(&op) || r == returned)
        continue;
      unsigned last = index[&op];
      for (Operation *user : r.getUsers())
        last = std::max(last, index[user]);
      dyingAfter[last].push_back(r);
    }

  ArenaPlanner arena;
  for (Operation &op : block) {
    // Results are placed while the operands are still live, so no kernel
    // writes over its own input.
    for (Value r : op.getResults())
      if (!isa<qwen::WeightOp>(&op) && r != returned)
        arenaOffset[r] = arena.allocate(uint64_t(opts.maxRows) * cols(r));
    if (failed(emitOp(&op)))
      return failure();
    for (Value dead : dyingAfter.lookup(index[&op]))
      arena.release(arenaOffset[dead]);
  }
  if (numLayers == 0)
    return fn.emitError("the graph has no qwen.attention layer");

  auto intOf = [&](StringRef key) -> int64_t {
    auto a = config.getAs<IntegerAttr>(key);
    return a ? a.getInt() : -1;
  };
  int64_t vocab = cast<RankedTensorType>(returned.getType()).getDimSize(1);
  int64_t maxPositions = intOf("max_position_embeddings");
  if (maxPositions <= 0)
    return module.emitError("qwen.config lacks max_position_embeddings");
  std::string eos;
  if (auto list = config.getAs<ArrayAttr>("eos_token_ids"))
    for (Attribute a : list)
      eos += std::to_string(cast<IntegerAttr>(a).getInt()) + ", ";

  uint64_t tokenizerOffset = 0;
  if (!model.tokenizerTables.empty())
    tokenizerOffset = appendToBlob(model.tokenizerTables.data(), model.tokenizerTables.size());
  auto num = [&](StringRef key, double fallback) {
    if (auto f = config.getAs<FloatAttr>(key))
      return f.getValueAsDouble();
    if (auto i = config.getAs<IntegerAttr>(key))
      return double(i.getInt());
    return fallback;
  };
  auto doSample = config.getAs<BoolAttr>("do_sample");
  auto eosList = config.getAs<ArrayAttr>("eos_token_ids");

  std::string name = llvm::StringRef(model.checkpoint->dir()).rsplit('/').second.str();
  std::string &s = model.source;
  s += "// Generated by qwenc (target cpp) from " + model.checkpoint->dir() + ".\n";
  s += "// Every dimension is a constant; weights are appended to the executable.\n";
  s += "#include \"kernels.h\"\n\nusing namespace qwenc_rt;\n\n";
  s += "static const int32_t kEosIds[] = {" + eos + "-1};\n";
  s += llvm::formatv("const ModelDesc kModel = {{\n"
                     "    {0}, /*vocab_size=*/{1}, /*num_layers=*/{2}, /*kv_dim=*/{3},\n"
                     "    /*max_positions=*/{4}, /*max_rows=*/{5}, /*arena_floats=*/{6},\n"
                     "    /*scratch_floats_per_position=*/1, /*weight_bytes=*/{7}ull,\n"
                     "    kEosIds, /*num_eos_ids=*/{8},\n"
                     "    /*tokenizer_offset=*/{9}ull, /*tokenizer_bytes=*/{10}ull,\n"
                     "    /*default_system_prompt=*/{11},\n"
                     "    /*do_sample=*/{12}, /*temperature=*/{13}f, /*top_k=*/{14}, /*top_p=*/{15}f,\n"
                     "    /*repetition_penalty=*/{16}f};\n\n",
                     cppString(name), vocab, numLayers, kvDim, maxPositions, opts.maxRows,
                     arena.peakFloats(), model.blobBytes, eosList ? eosList.size() : 0,
                     tokenizerOffset, model.tokenizerTables.size(), cppString(defaultSystemPrompt),
                     doSample && doSample.getValue() ? "true" : "false",
                     exactDouble(num("temperature", 1.0)), int64_t(num("top_k", 50)),
                     exactDouble(num("top_p", 1.0)), exactDouble(num("repetition_penalty", 1.0)))
           .str();
  s += "void model_forward(Session &s, const int32_t *ids, const int32_t *positions, int rows,\n"
       "                   bool all_logits) {\n"
       "  float *const A = s.arena;\n"
       "  const uint8_t *const W = s.weights;\n";
  s += body;
  s += "}\n";
  return std::move(model);
}

} // namespace

FailureOr<CppModel> emitCppModel(ModuleOp module, const CppTargetOptions &opts) {
  return Emitter(module, opts).run();
}

} // namespace qwenc
