//===- QwenOps.td - qwen dialect operations ----------------*- tablegen -*-===//
#ifndef QWEN_OPS_TD
#define QWEN_OPS_TD

include "compiler/dialect/QwenDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Qwen_Activation : 2DTensorOf<[F32]>;
// Weights: as stored (f32/bf16/f16), or quantized (i8, i4) with one scale per
// `group_size` columns of a row, which the target computes when packing.
def Qwen_WeightTensor : RankedTensorOf<[F32, BF16, F16, I8, I<4>]>;
def Qwen_Vector : 1DTensorOf<[F32, BF16, F16]>;
def Qwen_TokenIds : 1DTensorOf<[I32]>;

def Qwen_WeightOp : Qwen_Op<"weight", [Pure]> {
  let summary = "a tensor of the checkpoint, referenced by name";
  let description = [{
    `%w = qwen.weight "model.norm.weight" : tensor<896xbf16>` stands for the
    checkpoint tensor of that name. The module attribute `qwen.checkpoint`
    says which checkpoint directory holds it. The result's element type is
    the one the target stores: the checkpoint's, another float type (the
    target converts), or i8/i4 with `group_size` (the target quantizes,
    symmetric, one scale per group of columns of a row).
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<I64Attr>:$group_size);
  let results = (outs Qwen_WeightTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Qwen_EmbeddingOp : Qwen_Op<"embedding", [Pure]> {
  let summary = "gather rows of an embedding table";
  let arguments = (ins Qwen_TokenIds:$ids, Qwen_WeightTensor:$table);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = [{
    $ids `,` $table attr-dict `:` type($ids) `,` type($table) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qwen_RMSNormOp : Qwen_Op<"rms_norm", [Pure]> {
  let summary = "x * rsqrt(mean(x^2) + eps) * weight, per row";
  let arguments = (ins Qwen_Activation:$input, Qwen_Vector:$weight, F64Attr:$eps);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qwen_LinearOp : Qwen_Op<"linear", [Pure]> {
  let summary = "y = x * W^T (+ bias), W stored [out_features, in_features]";
  let arguments = (ins Qwen_Activation:$input, Qwen_WeightTensor:$weight,
                       Optional<Qwen_Vector>:$bias);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qwen_RoPEOp : Qwen_Op<"rope", [Pure]> {
  let summary = "rotary position embedding, rotate-half layout, per head";
  let description = [{
    Each head of `head_dim` columns is rotated by angle pos * theta^(-2i/head_dim)
    pairing column i with column i + head_dim/2, as transformers' Qwen2 does.
    `scaling`, when present, is config.json's rope_scaling: {type = "yarn",
    factor, original_max_position_embeddings, beta_fast, beta_slow,
    attention_factor} scales the frequencies and cos/sin as YaRN does
    (runtime/rope.h), the same at every position.
  }];
  let arguments = (ins Qwen_Activation:$input, Qwen_TokenIds:$positions,
                       I64Attr:$head_dim, F64Attr:$theta,
                       OptionalAttr<DictionaryAttr>:$scaling);
  let results = (outs Qwen_Activation:$result);
  let extraClassDeclaration = [{
    /// The scaling as runtime/rope.h takes it (factor 0: none); valid once verified.
    ::qwenc_rt::rotary::Scaling getRopeScaling();
  }];
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` type($input) `,` type($positions) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qwen_AttentionOp : Qwen_Op<"attention", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "causal grouped-query attention over the layer's KV cache";
  let description = [{
    Stores the rows of `key` and `value` into the KV cache of layer `layer` at
    `positions`, then lets each query row attend to every cached position up
    to its own. Query head h reads kv head h / (num_heads / num_kv_heads);
    scores are scaled by 1/sqrt(head_dim). Writes the cache, so it is not pure.
  }];
  let arguments = (ins Qwen_Activation:$query, Qwen_Activation:$key,
                       Qwen_Activation:$value, Qwen_TokenIds:$positions,
                       I64Attr:$layer, I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions attr-dict `:` type($query) `,`
    type($key) `,` type($value) `,` type($positions) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qwen_SiluMulOp : Qwen_Op<"silu_mul", [Pure, SameOperandsAndResultType]> {
  let summary = "silu(gate) * up, elementwise";
  let arguments = (ins Qwen_Activation:$gate, Qwen_Activation:$up);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Qwen_AddOp : Qwen_Op<"add", [Pure, SameOperandsAndResultType, Commutative]> {
  let summary = "elementwise sum (residual connection)";
  let arguments = (ins Qwen_Activation:$lhs, Qwen_Activation:$rhs);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Qwen_LogitsOp : Qwen_Op<"logits", [Pure]> {
  let summary = "output head: x * W^T over the vocabulary";
  let description = [{
    Like qwen.linear without bias, but a target may compute only the rows it
    needs (the last one, when generating), since the head dominates the cost
    of a step for large vocabularies.
  }];
  let arguments = (ins Qwen_Activation:$input, Qwen_WeightTensor:$weight);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Ops that the fusion passes introduce.
//===----------------------------------------------------------------------===//

def Qwen_ConcatOp : Qwen_Op<"concat", [Pure]> {
  let summary = "weights stacked along their first dimension";
  let description = [{
    `qwen.concat %wq, %wk, %wv` is one weight whose rows are those of the
    operands in order; a target lays the operands out back to back, so the
    concatenation costs nothing at run time.
  }];
  let arguments = (ins Variadic<Qwen_WeightTensor>:$inputs);
  let results = (outs Qwen_WeightTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Qwen_SliceOp : Qwen_Op<"slice", [Pure]> {
  let summary = "columns [offset, offset + size) of an activation";
  let arguments = (ins Qwen_Activation:$input, I64Attr:$offset);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Qwen_GatedLinearOp : Qwen_Op<"gated_linear", [Pure]> {
  let summary = "silu(x * gate^T) * (x * up^T): the SwiGLU MLP's first half";
  let arguments = (ins Qwen_Activation:$input, Qwen_WeightTensor:$gate,
                       Qwen_WeightTensor:$up);
  let results = (outs Qwen_Activation:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $up attr-dict `:` type($input) `,` type($gate) `,` type($up)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qwen_AddRMSNormOp : Qwen_Op<"add_rms_norm",
    [Pure, AllTypesMatch<["lhs", "rhs", "sum", "normed"]>]> {
  let summary = "residual add and the RMSNorm of its result, in one pass";
  let description = [{
    Returns `sum = lhs + rhs` (the residual stream) and `rms_norm(sum, weight)`.
  }];
  let arguments = (ins Qwen_Activation:$lhs, Qwen_Activation:$rhs, Qwen_Vector:$weight,
                       F64Attr:$eps);
  let results = (outs Qwen_Activation:$sum, Qwen_Activation:$normed);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $weight attr-dict `:` type($lhs) `,` type($weight)
  }];
  let hasVerifier = 1;
}

#endif // QWEN_OPS_TD
