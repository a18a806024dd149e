//===- qwenc-opt.cpp - parse, verify, transform and print qwen IR ---------===//
#include "compiler/dialect/QwenDialect.h"
#include "passes/Passes.h"
#include "targets/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses(); // canonicalize, cse, ...
  mlir::qwen::registerQwenPasses();
  qwenc::registerCompilePipeline(); // -qwen-compile="target=... quant=..."
  mlir::DialectRegistry registry;
  registry.insert<mlir::qwen::QwenDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qwenc optimizer driver\n", registry));
}
