//===- ImportModel.cpp - model directory to qwen dialect ------------------===//
#include "compiler/frontend/ImportModel.h"
#include "compiler/dialect/QwenDialect.h"
#include "compiler/frontend/Checkpoint.h"
#include "compiler/frontend/ModelConfig.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cstdlib>
#include <map>

using namespace mlir;

namespace qwenc {
namespace {

Type elementType(OpBuilder &b, DType t) {
  switch (t) {
  case DType::F32: return b.getF32Type();
  case DType::BF16: return b.getBF16Type();
  case DType::F16: return b.getF16Type();
  }
  return {};
}

/// Builds the ops of one forward step, one weight op per checkpoint tensor.
class GraphBuilder {
public:
  GraphBuilder(OpBuilder &b, Location loc, const Checkpoint &ck, const ModelConfig &c)
      : b(b), loc(loc), ck(ck), c(c) {}

  /// One qwen.weight per tensor: the tied head reuses the embedding's.
  Value weight(const std::string &name) {
    Value &v = weights[name];
    if (!v) {
      const TensorRef &t = *ck.find(name); // validated before building
      auto type = RankedTensorType::get(t.shape, elementType(b, t.dtype));
      // Diagnostics about a weight (a pass refusing its shape) name its file.
      Location at = FileLineColLoc::get(b.getContext(), t.file, 0, 0);
      v = b.create<qwen::WeightOp>(at, type, b.getStringAttr(name), IntegerAttr());
    }
    return v;
  }
  Type act(int64_t cols) {
    return RankedTensorType::get({ShapedType::kDynamic, cols}, b.getF32Type());
  }
  Value rmsNorm(Value x, const std::string &w) {
    return b.create<qwen::RMSNormOp>(loc, x.getType(), x, weight(w),
                                     b.getF64FloatAttr(c.rmsNormEps));
  }
  Value linear(Value x, const std::string &prefix, int64_t outCols, bool hasBias) {
    Value w = weight(prefix + ".weight");
    Value bias = hasBias ? weight(prefix + ".bias") : Value();
    return b.create<qwen::LinearOp>(loc, act(outCols), x, w, bias);
  }

  /// Qwen2DecoderLayer: pre-norm attention and MLP, each with a residual add.
  Value layer(Value x, Value positions, int64_t i) {
    const int64_t D = c.headDim(), q = c.numHeads * D, kv = c.numKvHeads * D;
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Value h = rmsNorm(x, p + "input_layernorm.weight");
    Value qv = linear(h, p + "self_attn.q_proj", q, true);
    Value kv_k = linear(h, p + "self_attn.k_proj", kv, true);
    Value kv_v = linear(h, p + "self_attn.v_proj", kv, true);
    DictionaryAttr scaling;
    if (const qwenc_rt::rotary::Scaling &y = c.ropeScaling; y.factor > 0)
      scaling = b.getDictionaryAttr(
          {b.getNamedAttr("type", b.getStringAttr("yarn")), b.getNamedAttr("factor", b.getF64FloatAttr(y.factor)),
           b.getNamedAttr("original_max_position_embeddings",
                          b.getI64IntegerAttr(int64_t(y.original_max_positions))),
           b.getNamedAttr("beta_fast", b.getF64FloatAttr(y.beta_fast)),
           b.getNamedAttr("beta_slow", b.getF64FloatAttr(y.beta_slow)),
           b.getNamedAttr("attention_factor", b.getF64FloatAttr(qwenc_rt::rotary::attention_factor(y)))});
    auto rope = [&](Value v) {
      return b.create<qwen::RoPEOp>(loc, v.getType(), v, positions, b.getI64IntegerAttr(D),
                                    b.getF64FloatAttr(c.ropeTheta), scaling);
    };
    Value qRot = rope(qv), kRot = rope(kv_k);
    Value attn = b.create<qwen::AttentionOp>(
        loc, act(q), qRot, kRot, kv_v, positions, b.getI64IntegerAttr(i),
        b.getI64IntegerAttr(c.numHeads), b.getI64IntegerAttr(c.numKvHeads),
        b.getI64IntegerAttr(D));
    Value o = linear(attn, p + "self_attn.o_proj", c.hiddenSize, false);
    Value x1 = b.create<qwen::AddOp>(loc, x, o);
    Value h2 = rmsNorm(x1, p + "post_attention_layernorm.weight");
    Value gate = linear(h2, p + "mlp.gate_proj", c.intermediateSize, false);
    Value up = linear(h2, p + "mlp.up_proj", c.intermediateSize, false);
    Value act = b.create<qwen::SiluMulOp>(loc, gate, up);
    Value down = linear(act, p + "mlp.down_proj", c.hiddenSize, false);
    return b.create<qwen::AddOp>(loc, x1, down);
  }

private:
  OpBuilder &b;
  Location loc;
  const Checkpoint &ck;
  const ModelConfig &c;
  std::map<std::string, Value> weights;
};

/// Everything a target needs besides the graph: sizes for the KV cache and
/// the generation defaults of generation_config.json.
DictionaryAttr configAttr(OpBuilder &b, const ModelConfig &c, const GenerationConfig &g) {
  SmallVector<NamedAttribute> a;
  auto i64 = [&](const char *k, int64_t v) { a.push_back(b.getNamedAttr(k, b.getI64IntegerAttr(v))); };
  auto f64 = [&](const char *k, double v) { a.push_back(b.getNamedAttr(k, b.getF64FloatAttr(v))); };
  i64("hidden_size", c.hiddenSize);
  i64("intermediate_size", c.intermediateSize);
  i64("num_hidden_layers", c.numLayers);
  i64("num_attention_heads", c.numHeads);
  i64("num_key_value_heads", c.numKvHeads);
  i64("vocab_size", c.vocabSize);
  i64("max_position_embeddings", c.maxPositions);
  // The positions the model takes (YaRN: factor x the original window).
  i64("context_length", c.contextLength());
  f64("rms_norm_eps", c.rmsNormEps);
  f64("rope_theta", c.ropeTheta);
  a.push_back(b.getNamedAttr("tie_word_embeddings", b.getBoolAttr(c.tieWordEmbeddings)));
  a.push_back(b.getNamedAttr("eos_token_ids", b.getI64ArrayAttr(g.eosTokenIds)));
  i64("bos_token_id", g.bosTokenId);
  a.push_back(b.getNamedAttr("do_sample", b.getBoolAttr(g.doSample)));
  f64("temperature", g.temperature);
  i64("top_k", g.topK);
  f64("top_p", g.topP);
  f64("repetition_penalty", g.repetitionPenalty);
  return b.getDictionaryAttr(a);
}

std::string absolutePath(const std::string &p) {
  char *r = ::realpath(p.c_str(), nullptr);
  if (!r)
    return p;
  std::string s(r);
  std::free(r);
  return s;
}

} // namespace

OwningOpRef<ModuleOp> importModel(MLIRContext &ctx, const std::string &modelDir) {
  ctx.loadDialect<qwen::QwenDialect, func::FuncDialect>();
  ModelConfig config = loadModelConfig(modelDir);
  GenerationConfig gen = loadGenerationConfig(modelDir);
  std::unique_ptr<Checkpoint> ck = Checkpoint::open(modelDir);
  validateCheckpoint(config, *ck);

  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  module->getOperation()->setAttr(qwen::kCheckpointAttr, b.getStringAttr(absolutePath(modelDir)));
  module->getOperation()->setAttr(qwen::kConfigAttr, configAttr(b, config, gen));

  auto ids = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  auto logitsType = RankedTensorType::get({ShapedType::kDynamic, config.vocabSize}, b.getF32Type());
  b.setInsertionPointToEnd(module->getBody());
  auto fn = b.create<func::FuncOp>(loc, "forward", b.getFunctionType({ids, ids}, {logitsType}));
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToEnd(body);

  GraphBuilder g(b, loc, *ck, config);
  Value tokens = body->getArgument(0), positions = body->getArgument(1);
  Value x = b.create<qwen::EmbeddingOp>(loc, g.act(config.hiddenSize), tokens,
                                        g.weight("model.embed_tokens.weight"));
  for (int64_t i = 0; i < config.numLayers; ++i)
    x = g.layer(x, positions, i);
  Value h = g.rmsNorm(x, "model.norm.weight");
  // Tied embeddings: the output head is the embedding table itself.
  Value head = g.weight(config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  Value logits = b.create<qwen::LogitsOp>(loc, logitsType, h, head);
  b.create<func::ReturnOp>(loc, logits);
  return module;
}

} // namespace qwenc
