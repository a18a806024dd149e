//===- CppLowering.cpp - the qwen dialect to C++ with constant shapes -----===//
//
// Walks func @forward once, in order: each qwen op becomes one call of the
// kernel its `kernel` attribute names (qwen-select-kernels): a runtime
// template instantiated with the op's constant dimensions ("cpp"), or a
// Halide kernel made for the op's shape ("halide"). Activations live in one
// arena whose offsets are planned here from the live ranges of the SSA
// values, so a forward step allocates nothing.
//
//===----------------------------------------------------------------------===//
#include "targets/common/CppLowering.h"
#include "compiler/dialect/QwenDialect.h"
#include "compiler/frontend/TokenizerTables.h"
#include "passes/KernelChoice.h"
#include "targets/common/ArenaPlanner.h"
#include "targets/common/HalideCalls.h"
#include "targets/common/WeightBlob.h"
#include "targets/common/CppLiterals.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

using namespace mlir;

namespace qwenc {
namespace {

/// The C++ element type of a --kv-type.
std::string kvCppType(const std::string &kvType) {
  return kvType == "bf16" ? "bf16" : kvType == "int8" ? "int8_t" : "float";
}

const char *storageType(Type t) {
  if (t.isF32()) return "float";
  if (t.isBF16()) return "bf16";
  if (t.isF16()) return "f16";
  return nullptr;
}

int64_t cols(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(1); }

class Emitter {
public:
  Emitter(ModuleOp module, const LoweringConfig &opts)
      : module(module), opts(opts), blob(model, opts.progress, opts.columnTiles), halide(model, blob, quantizedInputViews, opts.matmulBatches, opts.prefillRows) {}

  FailureOr<CppModel> run();

private:
  LogicalResult loadCheckpoint();
  LogicalResult emitOp(Operation *op);
  std::string buf(Value v); // C++ expression for the buffer of an activation
  std::string weightView(Value v);  // a Dense/Int8Rows/Int4Groups view
  /// Emits the Halide call of a product the op's `kernel` gives to Halide;
  /// false (the caller emits a C++ kernel) otherwise.
  bool emitHalideMatmul(Operation *op, const std::string &xExpr, const std::string &rowsExpr, Value w, Value w2,
                        Value bias, const std::string &yExpr, int64_t n);
  std::string vectorPtr(Value v);   // a pointer to a 1-D weight
  std::string ropeTable(qwen::RoPEOp r); // the name of its inverse-frequency table

  ModuleOp module;
  LoweringConfig opts;
  CppModel model;
  std::set<std::string> quantizedInputViews; // weight view types with integer inputs
  WeightBlob blob;
  HalideCalls halide;
  DictionaryAttr config;
  std::string body;
  llvm::DenseMap<Value, uint64_t> arenaOffset;
  std::string defaultSystemPrompt;
  std::map<std::vector<double>, std::string> ropeTableNames; // one table per distinct frequencies
  std::string ropeTables;                                     // their definitions
  Value returned;
  int numLayers = 0;
  int64_t kvDim = -1;
  int64_t kvHeads = 0;
  std::set<std::string> attentionShapes; // "heads, kv_heads, head_dim" of each attention
};

LogicalResult Emitter::loadCheckpoint() {
  auto path = module->getAttrOfType<StringAttr>(qwen::kCheckpointAttr);
  config = module->getAttrOfType<DictionaryAttr>(qwen::kConfigAttr);
  if (!path || !config)
    return module.emitError() << "module needs the '" << qwen::kCheckpointAttr << "' and '"
                              << qwen::kConfigAttr << "' attributes that `qwenc import` sets";
  // Bad input files throw InputError, which names the file: the driver
  // reports it as the one error of the compile.
  model.checkpoint = Checkpoint::open(path.str());
  defaultSystemPrompt = loadTokenizer(model, opts.progress);
  return success();
}

std::string Emitter::buf(Value v) {
  if (v == returned)
    return "s.logits";
  return llvm::formatv("(A + {0})", arenaOffset.lookup(v)).str();
}

std::string Emitter::weightView(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  Type element = type.getElementType();
  int64_t k = type.getDimSize(1);
  uint64_t offset = *blob.pack(v); // packed by emitOp's check before any use
  if (const char *t = storageType(element))
    return llvm::formatv("Dense<{0}, {1}>{{reinterpret_cast<const {0} *>(W + {2})}", t, k, offset).str();
  uint64_t scales = blob.scalesOf(v);
  if (blob.inTiles(v)) { // read only by the gather (Halide runs the products)
    int64_t group = 0;
    quantizedViewType(v, &group);
    const bool int8 = element.isInteger(8);
    return llvm::formatv("{0}{{reinterpret_cast<const {1} *>(W + {2}), reinterpret_cast<const float *>(W + {3})}",
                         int8 ? llvm::formatv("Int8Tiles<{0}>", k).str() : llvm::formatv("Int4Tiles<{0}, {1}>", k, group).str(),
                         int8 ? "int8_t" : "uint8_t", offset, scales)
        .str();
  }
  std::string view = quantizedViewType(v);
  // int4 and portable int8 quantize their input: room for it is made at
  // start (reserve_inputs does nothing for a view that reads floats).
  quantizedInputViews.insert(view);
  return llvm::formatv("{0}{{reinterpret_cast<const {1} *>(W + {2}), reinterpret_cast<const float *>(W + {3})}",
                       view, element.isInteger(8) ? "int8_t" : "uint8_t", offset, scales)
      .str();
}

std::string Emitter::ropeTable(qwen::RoPEOp r) {
  // Computed here once (runtime/rope.h), in double, as the kernel used to
  // compute them per row: the same angles, and YaRN's blend besides.
  std::vector<double> f = qwenc_rt::rotary::inv_freq(int(r.getHeadDim()), r.getTheta().convertToDouble(),
                                                   r.getRopeScaling());
  auto [it, added] = ropeTableNames.try_emplace(f, "kRopeInvFreq" + std::to_string(ropeTableNames.size()));
  if (added) {
    ropeTables += "static const double " + it->second + "[] = {";
    for (size_t i = 0; i < f.size(); ++i)
      ropeTables += (i % 4 ? " " : "\n    ") + cppDoubleLiteral(f[i]) + ",";
    ropeTables += "};\n";
  }
  return it->second;
}

std::string Emitter::vectorPtr(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return llvm::formatv("reinterpret_cast<const {0} *>(W + {1})", storageType(type.getElementType()),
                       *blob.pack(v))
      .str();
}

bool Emitter::emitHalideMatmul(Operation *op, const std::string &xExpr, const std::string &rowsExpr, Value w,
                               Value w2, Value bias, const std::string &yExpr, int64_t n) {
  // An op the IR gives to Halide with weights the generator does not take
  // (hand-written IR) runs the C++ kernel, as without the attribute.
  if (mlir::qwen::kernelOf(op) != mlir::qwen::Kernel::Halide || !mlir::qwen::halideTakesWeight(w) ||
      (w2 && !mlir::qwen::halideTakesWeight(w2)))
    return false;
  body += halide.matmul(xExpr, rowsExpr, w, w2, bias, yExpr, n);
  return true;
}

LogicalResult Emitter::emitOp(Operation *op) {
  auto line = [&](const std::string &s) { body += "  " + s + ";\n"; };
  // Weights are packed where first read, so a concat's parts sit together.
  if (!isa<qwen::WeightOp, qwen::ConcatOp>(op))
    for (Value operand : op->getOperands())
      if (operand.getDefiningOp<qwen::WeightOp>() || operand.getDefiningOp<qwen::ConcatOp>())
        if (failed(blob.pack(operand)))
          return failure();
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<qwen::WeightOp, qwen::ConcatOp>([&](Operation *) { return success(); })
      .Case([&](qwen::EmbeddingOp e) {
        auto t = e.getTable().getType();
        line(llvm::formatv("embedding<{0}, {1}>({2}, ids, rows, {3})", t.getDimSize(0),
                           t.getDimSize(1), weightView(e.getTable()), buf(e.getResult())));
        return success();
      })
      .Case([&](qwen::RMSNormOp n) {
        line(llvm::formatv("rms_norm<{0}>({1}, {2}, {3}, rows, {4})", cols(n.getInput()),
                           buf(n.getInput()), vectorPtr(n.getWeight()),
                           cppDoubleLiteral(n.getEps().convertToDouble()), buf(n.getResult())));
        return success();
      })
      .Case([&](qwen::LinearOp l) {
        if (emitHalideMatmul(l, buf(l.getInput()), "rows", l.getWeight(), Value(), l.getBias(), buf(l.getResult()),
                             cols(l.getResult())))
          return success();
        std::string bias = l.getBias() ? vectorPtr(l.getBias()) : "static_cast<const float *>(nullptr)";
        line(llvm::formatv("linear<{0}, {1}>({2}, {3}, {4}, rows, {5})", cols(l.getResult()),
                           cols(l.getInput()), buf(l.getInput()), weightView(l.getWeight()), bias,
                           buf(l.getResult())));
        return success();
      })
      .Case([&](qwen::RoPEOp r) {
        line(llvm::formatv("rope<{0}, {1}>({2}, positions, {3}, {4}, rows, {5})", cols(r.getInput()),
                           r.getHeadDim(), buf(r.getInput()), ropeTable(r),
                           cppFloatLiteral(float(qwenc_rt::rotary::attention_factor(r.getRopeScaling()))),
                           buf(r.getResult())));
        return success();
      })
      .Case([&](qwen::AttentionOp a) -> LogicalResult {
        int64_t kv = a.getNumKvHeads() * a.getHeadDim();
        if (kvDim >= 0 && kv != kvDim)
          return a.emitOpError("every layer must cache the same number of key columns");
        kvDim = kv;
        numLayers = std::max<int>(numLayers, int(a.getLayer()) + 1);
        std::string cacheOffset = llvm::formatv("size_t({0}) * s.ctx * {1}", a.getLayer(), kv).str();
        kvHeads = a.getNumKvHeads();
        // The layer's cache rows, of the --kv-type, and (int8) their scales.
        const std::string kt = kvCppType(opts.kvType);
        const std::string caches =
            llvm::formatv("static_cast<{0} *>(s.k_cache) + {1}, static_cast<{0} *>(s.v_cache) + {1}, "
                          "s.k_scales + size_t({2}) * s.ctx * {3}, s.v_scales + size_t({2}) * s.ctx * {3}",
                          kt, cacheOffset, a.getLayer(), a.getNumKvHeads())
                .str();
        attentionShapes.insert(
            llvm::formatv("{0}, {1}, {2}", a.getNumHeads(), a.getNumKvHeads(), a.getHeadDim()).str());
        line(llvm::formatv("attention<{0}, {1}, {2}>({3}, {4}, {5}, positions, rows, {6}, s.row_slots, s.slot_rows, "
                           "s.scratch, {7})",
                           a.getNumHeads(), a.getNumKvHeads(), a.getHeadDim(), buf(a.getQuery()),
                           buf(a.getKey()), buf(a.getValue()), caches, buf(a.getResult())));
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
          return l.emitOpError("the C++ lowering needs the logits to be what @forward returns");
        auto w = l.getWeight().getType();
        std::string lastRows =
            llvm::formatv("{0} + (all_logits ? 0 : int64_t(rows - 1) * {1})", buf(l.getInput()), w.getDimSize(1));
        if (emitHalideMatmul(l, lastRows, "(all_logits ? rows : 1)", l.getWeight(), Value(), Value(), "s.logits",
                             w.getDimSize(0)))
          return success();
        line(llvm::formatv("logits<{0}, {1}>({2}, {3}, rows, all_logits, s.logits)", w.getDimSize(0),
                           w.getDimSize(1), buf(l.getInput()), weightView(l.getWeight())));
        return success();
      })
      .Case([&](qwen::GatedLinearOp g) {
        if (emitHalideMatmul(g, buf(g.getInput()), "rows", g.getGate(), g.getUp(), Value(), buf(g.getResult()),
                             cols(g.getResult())))
          return success();
        line(llvm::formatv("gated_linear<{0}, {1}>({2}, {3}, {4}, rows, {5})", cols(g.getResult()),
                           cols(g.getInput()), buf(g.getInput()), weightView(g.getGate()),
                           weightView(g.getUp()), buf(g.getResult())));
        return success();
      })
      .Case([&](qwen::SliceOp sl) {
        line(llvm::formatv("slice<{0}, {1}>({2}, {3}, rows, {4})", cols(sl.getInput()),
                           cols(sl.getResult()), buf(sl.getInput()), sl.getOffset(),
                           buf(sl.getResult())));
        return success();
      })
      .Case([&](qwen::AddRMSNormOp n) {
        line(llvm::formatv("add_rms_norm<{0}>({1}, {2}, {3}, {4}, rows, {5}, {6})", cols(n.getLhs()),
                           buf(n.getLhs()), buf(n.getRhs()), vectorPtr(n.getWeight()),
                           cppDoubleLiteral(n.getEps().convertToDouble()), buf(n.getSum()),
                           buf(n.getNormed())));
        return success();
      })
      .Case([&](func::ReturnOp) { return success(); })
      .Default([&](Operation *other) -> LogicalResult {
        return other->emitOpError("is not supported by target ") << opts.target;
      });
}

FailureOr<CppModel> Emitter::run() {
  if (failed(loadCheckpoint()))
    return failure();
  auto fn = module.lookupSymbol<func::FuncOp>("forward");
  if (!fn || fn.getBody().getBlocks().size() != 1 || fn.getNumArguments() != 2 ||
      fn.getNumResults() != 1)
    return module.emitError("the C++ lowering needs func.func @forward(%ids, %positions) -> logits "
                            "with one block");
  Block &block = fn.getBody().front();
  blob.beginProgress();
  returned = block.getTerminator()->getOperand(0);
  if (!returned.getDefiningOp<qwen::LogitsOp>())
    return fn.emitError("@forward must return the result of qwen.logits");
  auto ids = block.getArgument(0);
  for (Operation *user : ids.getUsers())
    if (!isa<qwen::EmbeddingOp>(user))
      return user->emitOpError("uses the token ids; only qwen.embedding may");

  // Activations live in the arena; weights in the blob, logits in s.logits.
  auto inArena = [&](Value v) {
    return !isa<qwen::WeightOp, qwen::ConcatOp>(v.getDefiningOp()) && v != returned;
  };
  // Live ranges: an activation dies after the last op that reads it.
  llvm::DenseMap<Operation *, unsigned> index;
  unsigned n = 0;
  for (Operation &op : block)
    index[&op] = n++;
  llvm::DenseMap<unsigned, SmallVector<Value>> dyingAfter;
  for (Operation &op : block)
    for (Value r : op.getResults()) {
      if (!inArena(r))
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
      if (inArena(r))
        arenaOffset[r] = arena.allocate(uint64_t(opts.maxRows) * cols(r));
    if (failed(emitOp(&op)))
      return failure();
    for (Value dead : dyingAfter.lookup(index[&op]))
      arena.release(arenaOffset[dead]);
  }
  if (numLayers == 0)
    return fn.emitError("the graph has no qwen.attention layer");

  int64_t vocab = cast<RankedTensorType>(returned.getType()).getDimSize(1);
  uint64_t tokenizerOffset = 0;
  if (!model.tokenizerTables.empty())
    tokenizerOffset = blob.append(model.tokenizerTables.data(), model.tokenizerTables.size());
  ModelDescFields desc;
  desc.vocab = vocab;
  desc.numLayers = numLayers;
  desc.kvDim = kvDim;
  desc.maxRows = opts.maxRows;
  desc.arenaFloats = arena.peakFloats();
  // Scratch for the largest attention shape (runtime/attention.h's sizes).
  auto atLeast = [](std::string &expr, const std::string &term) {
    expr = expr == "0" ? term : "std::max(" + expr + ", " + term + ")";
  };
  for (const std::string &shape : attentionShapes) {
    atLeast(desc.scratchShared, "flash::scratch_shared(" + shape + ")");
    atLeast(desc.scratchPerThread, "flash::scratch_per_thread(" + shape + ")");
  }
  desc.tokenizerOffset = tokenizerOffset;
  desc.tokenizerBytes = model.tokenizerTables.size();
  desc.defaultSystemPrompt = defaultSystemPrompt;
  desc.target = opts.target;
  desc.requiredFeatures = opts.requiredFeatures;
  desc.isaChoices = opts.isaChoices;
  desc.kvType = opts.kvType;
  desc.kvHeads = kvHeads;
  desc.selectKernels = "&qwenc_rt::" + opts.archNamespace +
                       (model.kernels.empty() ? "::select_kernels" : "::select_halide_kernels");
  std::string &s = model.source;
  s += "// Generated by qwenc (target " + opts.target + ") from " + model.checkpoint->dir() + ".\n";
  s += "// Every dimension is a constant; weights are appended to the executable.\n";
  s += "#include \"" + opts.archHeader + "\"\n";
  if (!model.kernels.empty()) {
    s += "#include \"" + opts.halideHeader + "\"\n";
    for (const KernelSpec &k : model.kernels)
      s += "#include \"" + k.name + ".h\"\n";
  }
  s += "\nusing namespace qwenc_rt;\n\n";
  if (!model.kernels.empty())
    s += "// Halide's parallel loops run on the runtime's thread pool.\n"
         "static const bool kHalideOnOurThreads =\n"
         "    (halide_set_custom_do_par_for(&qwenc_rt::do_par_for), true);\n\n";
  if (!quantizedInputViews.empty() || halide.int16Columns > 0) {
    s += "// Room for the inputs integer weights quantize: forward() allocates nothing.\n"
         "static const bool kInputsReserved =";
    for (const std::string &view : quantizedInputViews)
      s += llvm::formatv("\n    reserve_inputs<{0}>({1}) &&", view, opts.maxRows).str();
    if (halide.int16Columns > 0)
      s += llvm::formatv("\n    (quant_scratch<QuantRows<int16_t>>().reserve({0}, {1}, {1}), true) &&",
                         opts.maxRows, halide.int16Columns)
               .str();
    s += " true;\n\n";
  }
  if (!ropeTables.empty())
    s += "// RoPE's inverse frequencies (runtime/rope.h).\n" + ropeTables + "\n";
  FailureOr<std::string> descSource = modelDescSource(module, model, desc);
  if (failed(descSource))
    return failure();
  s += *descSource;
  s += "void model_forward(Session &s, const int32_t *ids, const int32_t *positions, int rows,\n"
       "                   bool all_logits) {\n"
       "  float *const A = s.arena;\n"
       "  const uint8_t *const W = s.weights;\n";
  s += body;
  s += "}\n";
  if (opts.progress) {
    char detail[96];
    std::snprintf(detail, sizeof detail, "%.1f MB blob, %zu Halide kernels to make", model.blobBytes / 1e6,
                  model.kernels.size());
    opts.progress->end(detail);
  }
  return std::move(model);
}

} // namespace

std::string loadTokenizer(CppModel &model, Progress *progress) {
  const std::string &dir = model.checkpoint->dir();
  if (progress)
    progress->begin("compile the tokenizer");
  if (auto tok = compileTokenizer(dir)) {
    model.tokenizerTables = std::move(tok->tables);
    if (progress)
      progress->end(std::to_string(model.tokenizerTables.size() / 1000) + " kB of tables");
    return tok->defaultSystemPrompt;
  }
  if (progress)
    progress->abandon();
  std::fprintf(stderr, "qwenc: warning: %s/tokenizer.json: not found; the executable will take token ids "
                       "only (--prompt-ids), no chat, -p or --tokenize\n", dir.c_str());
  return "";
}

FailureOr<std::string> modelDescSource(ModuleOp module, const CppModel &model, const ModelDescFields &f) {
  auto config = module->getAttrOfType<DictionaryAttr>(qwen::kConfigAttr);
  if (!config)
    return module.emitError() << "module needs the '" << qwen::kConfigAttr << "' attribute that `qwenc import` sets";
  auto intOf = [&](StringRef key) -> int64_t {
    auto a = config.getAs<IntegerAttr>(key);
    return a ? a.getInt() : -1;
  };
  int64_t maxPositions = f.maxPositions > 0          ? f.maxPositions
                         : intOf("context_length") > 0 ? intOf("context_length")
                                                       : intOf("max_position_embeddings");
  if (maxPositions <= 0)
    return module.emitError("qwen.config lacks max_position_embeddings");
  std::string eos;
  if (auto list = config.getAs<ArrayAttr>("eos_token_ids"))
    for (Attribute a : list)
      eos += std::to_string(cast<IntegerAttr>(a).getInt()) + ", ";
  auto num = [&](StringRef key, double fallback) {
    if (auto x = config.getAs<FloatAttr>(key))
      return x.getValueAsDouble();
    if (auto i = config.getAs<IntegerAttr>(key))
      return double(i.getInt());
    return fallback;
  };
  const double temperature = num("temperature", 1.0), topP = num("top_p", 1.0),
               repetitionPenalty = num("repetition_penalty", 1.0);
  for (double v : {temperature, topP, repetitionPenalty})
    if (!std::isfinite(float(v)))
      return module.emitError("qwen.config: temperature, top_p and repetition_penalty must be finite floats");
  auto doSample = config.getAs<BoolAttr>("do_sample");
  auto eosList = config.getAs<ArrayAttr>("eos_token_ids");
  std::string name = llvm::StringRef(model.checkpoint->dir()).rsplit('/').second.str();
  std::string s = "static const int32_t kEosIds[] = {" + eos + "-1};\n";
  s += llvm::formatv("const ModelDesc kModel = {{\n"
                     "    {0}, /*vocab_size=*/{1}, /*num_layers=*/{2}, /*kv_dim=*/{3},\n"
                     "    /*max_positions=*/{4}, /*max_rows=*/{5}, /*arena_floats=*/{6},\n"
                     "    /*scratch_floats_shared=*/{17}, /*scratch_floats_per_thread=*/{25},\n"
                     "    /*weight_bytes=*/{7}ull,\n"
                     "    kEosIds, /*num_eos_ids=*/{8},\n"
                     "    /*tokenizer_offset=*/{9}ull, /*tokenizer_bytes=*/{10}ull,\n"
                     "    /*default_system_prompt=*/{11},\n"
                     "    /*do_sample=*/{12}, /*temperature=*/{13}, /*top_k=*/{14}, /*top_p=*/{15},\n"
                     "    /*repetition_penalty=*/{16}, /*target=*/{18},\n"
                     "    /*required_features=*/{19}, /*isa_choices=*/{20},\n"
                     "    /*select_kernels=*/{21}, /*open_device=*/{22},\n"
                     "    /*kv_type=*/{23}, /*kv_heads=*/{24}};\n\n",
                     cppStringLiteral(name), f.vocab, f.numLayers, f.kvDim, maxPositions, f.maxRows,
                     f.arenaFloats, model.blobBytes, eosList ? eosList.size() : 0,
                     f.tokenizerOffset, f.tokenizerBytes, cppStringLiteral(f.defaultSystemPrompt),
                     doSample && doSample.getValue() ? "true" : "false",
                     cppFloatLiteral(temperature),
                     // Keeping more tokens than the vocabulary keeps them all.
                     std::clamp<int64_t>(int64_t(num("top_k", 50)), 0, f.vocab),
                     cppFloatLiteral(topP), cppFloatLiteral(repetitionPenalty),
                     f.scratchShared, cppStringLiteral(f.target), cppStringLiteral(f.requiredFeatures),
                     cppStringLiteral(f.isaChoices), f.selectKernels, f.openDevice,
                     f.kvType == "bf16" ? "KvType::BF16" : f.kvType == "int8" ? "KvType::Int8" : "KvType::F32",
                     f.kvHeads, f.scratchPerThread)
           .str();
  return s;
}

FailureOr<CppModel> lowerToCpp(ModuleOp module, const LoweringConfig &config) {
  return Emitter(module, config).run();
}

} // namespace qwenc
