//===- QwenDialect.td - the qwen graph dialect -------------*- tablegen -*-===//
//
// One high-level dialect describes a Qwen2 model as a graph of layer-level
// ops. Targets lower from here; passes (fusion, quantization) rewrite it.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN_DIALECT_TD
#define QWEN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Qwen_Dialect : Dialect {
  let name = "qwen";
  let summary = "Graph-level IR for Qwen2-architecture language models";
  let description = [{
    Activations are 2-D tensors `tensor<?xDxf32>`: one row per token of the
    current step (a prefill chunk or one decoded token). Weights enter the
    graph through `qwen.weight`, which names a checkpoint tensor instead of
    holding its data, so printed IR stays small.
  }];
  let cppNamespace = "::mlir::qwen";
}

class Qwen_Op<string mnemonic, list<Trait> traits = []> :
    Op<Qwen_Dialect, mnemonic, traits>;

#endif // QWEN_DIALECT_TD
