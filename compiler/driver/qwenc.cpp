//===- qwenc.cpp - the qwenc compiler driver ------------------------------===//
//
//   qwenc import MODEL_DIR [-o FILE.mlir]
//   qwenc compile MODEL_DIR|FILE.mlir --target cpp -o BIN [--keep-source DIR]
//
//===----------------------------------------------------------------------===//
#include "compiler/dialect/QwenDialect.h"
#include "compiler/frontend/ImportModel.h"
#include "compiler/frontend/InputError.h"
#include "passes/Passes.h"
#include "targets/cpp/CppTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>

using namespace mlir;

namespace {

const char *kUsage =
    "usage:\n"
    "  qwenc --version\n"
    "  qwenc import MODEL_DIR [-o FILE.mlir]\n"
    "      Read a Hugging Face Qwen2 model directory and print its graph IR.\n"
    "  qwenc compile MODEL_DIR|FILE.mlir --target cpp -o BIN [options]\n"
    "      Build one standalone executable that carries the model's weights.\n"
    "      --target T          cpp: portable C++ (default); x86-64-avx2: built for AVX2+FMA\n"
    "      --quant MODE        weights: none (as stored, default), f32, bf16, int8 (per\n"
    "                          output channel), int4 (per group)\n"
    "      --group-size N      int4 group: 32, 64 or 128 (default 128)\n"
    "      --head-quant MODE   the embedding and output head: f32, bf16, int8, int4\n"
    "                          (default: int8 under --quant int4, else as --quant)\n"
    "      --no-fuse           skip the fusion passes\n"
    "      --report            print each weight's storage, quantization SNR and the total\n"
    "      --keep-source DIR   keep the generated C++ in DIR\n"
    "      --max-rows N        tokens per forward step, the prefill chunk (default 128)\n"
    "      -q                  no progress lines (errors and warnings still print)\n"
    "      -v                  print the host compiler and kernel generator commands\n";

int fail(const std::string &msg) {
  std::fprintf(stderr, "qwenc: error: %s\n", msg.c_str());
  return 1;
}

/// A model directory is imported; a .mlir file is parsed and verified.
OwningOpRef<ModuleOp> loadInput(MLIRContext &ctx, const std::string &input) {
  ctx.loadDialect<qwen::QwenDialect, func::FuncDialect>();
  struct stat st;
  if (::stat(input.c_str(), &st) != 0)
    throw qwenc::InputError(input, "not found (give a Hugging Face model directory or a .mlir file)");
  if (S_ISDIR(st.st_mode))
    return qwenc::importModel(ctx, input);
  if (!llvm::StringRef(input).ends_with(".mlir"))
    throw qwenc::InputError(input, "is neither a model directory nor a .mlir file");
  // The parser's own diagnostics name the line and column.
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  auto module = parseSourceFile<ModuleOp>(input, sm, ParserConfig(&ctx));
  if (!module)
    throw qwenc::InputError(input, "is not a valid .mlir file (see the error above)");
  return module;
}

/// Reports MLIR's diagnostics as the driver's own errors: a weight's
/// location is its checkpoint file (line 0), printed as the file alone.
/// Counts the errors, so that a failure already explained is not explained
/// twice.
class DiagnosticPrinter {
public:
  explicit DiagnosticPrinter(MLIRContext &ctx) : ctx_(ctx) {
    id_ = ctx.getDiagEngine().registerHandler([this](Diagnostic &d) {
      std::string where;
      if (auto file = dyn_cast<FileLineColLoc>(d.getLocation())) {
        where = file.getFilename().str();
        if (file.getLine() > 0)
          where += ":" + std::to_string(file.getLine()) + ":" + std::to_string(file.getColumn());
        where += ": ";
      }
      const char *kind = d.getSeverity() == DiagnosticSeverity::Error     ? "error"
                         : d.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                                          : "note";
      errors_ += d.getSeverity() == DiagnosticSeverity::Error;
      std::fprintf(stderr, "qwenc: %s: %s%s\n", kind, where.c_str(), d.str().c_str());
      return success();
    });
  }
  ~DiagnosticPrinter() { ctx_.getDiagEngine().eraseHandler(id_); }
  int errors() const { return errors_; }

private:
  MLIRContext &ctx_;
  DiagnosticEngine::HandlerID id_;
  int errors_ = 0;
};

int runImport(int argc, char **argv) {
  std::string input, output;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help")
      return std::fputs(kUsage, stdout), 0;
    if (a == "-o" && i + 1 < argc)
      output = argv[++i];
    else if (!a.empty() && a[0] != '-' && input.empty())
      input = a;
    else
      return fail("import: unexpected argument '" + a + "'\n" + kUsage);
  }
  if (input.empty())
    return fail(std::string("import: give a model directory\n") + kUsage);
  MLIRContext ctx;
  auto module = loadInput(ctx, input);
  if (failed(verify(*module)))
    return fail("the imported graph does not verify (a qwenc bug)");
  std::error_code ec;
  llvm::raw_fd_ostream out(output.empty() ? "-" : output, ec);
  if (ec)
    return fail("cannot write '" + output + "': " + ec.message());
  module->print(out);
  out << "\n";
  return 0;
}

void printReport(const qwenc::CppModel &model) {
  std::printf("%-52s %-14s %-10s %12s %10s\n", "tensor", "shape", "storage", "bytes", "SNR dB");
  uint64_t total = 0;
  for (const auto &r : model.report) {
    std::string shape;
    for (size_t i = 0; i < r.shape.size(); ++i)
      shape += (i ? "x" : "") + std::to_string(r.shape[i]);
    std::printf("%-52s %-14s %-10s %12llu %10.2f\n", r.name.c_str(), shape.c_str(),
                r.storage.c_str(), (unsigned long long)r.bytes, r.snrDb);
    total += r.bytes;
  }
  std::printf("total weight bytes: %llu (%.1f MB), blob with scales and tokenizer: %.1f MB\n",
              (unsigned long long)total, total / 1e6, model.blobBytes / 1e6);
  std::printf("weight bytes read per decoded token: %llu (%.1f MB)\n",
              (unsigned long long)model.bytesReadPerToken, model.bytesReadPerToken / 1e6);
}

int runCompile(int argc, char **argv) {
  std::string input, output, target, keep, quant = "none", headQuant;
  qwenc::CppTargetOptions opts;
  bool verbose = false, fuse = true, report = false, quiet = false;
  int64_t groupSize = 128;
  bool groupSizeGiven = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "-h" || a == "--help")
      return std::fputs(kUsage, stdout), 0;
    if (a == "-o")
      output = value();
    else if (a == "--target")
      target = value();
    else if (a == "--keep-source")
      keep = value();
    else if (a == "--max-rows") {
      std::string v = value();
      char *end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 4096)
        return fail("--max-rows needs an integer in [1, 4096]");
      opts.maxRows = int(n);
    } else if (a == "--quant") {
      quant = value();
      if (quant != "none" && quant != "f32" && quant != "bf16" && quant != "int8" && quant != "int4")
        return fail("--quant must be none, f32, bf16, int8 or int4, got '" + quant + "'");
    } else if (a == "--head-quant") {
      headQuant = value();
      if (headQuant != "f32" && headQuant != "bf16" && headQuant != "int8" && headQuant != "int4")
        return fail("--head-quant must be f32, bf16, int8 or int4, got '" + headQuant + "'");
    } else if (a == "--group-size") {
      std::string v = value();
      if (v != "32" && v != "64" && v != "128")
        return fail("--group-size must be 32, 64 or 128, got '" + v + "'");
      groupSize = std::stoi(v);
      groupSizeGiven = true;
    } else if (a == "--no-fuse")
      fuse = false;
    else if (a == "--report")
      report = true;
    else if (a == "-v")
      verbose = true;
    else if (a == "-q")
      quiet = true;
    else if (!a.empty() && a[0] != '-' && input.empty())
      input = a;
    else
      return fail("compile: unexpected argument '" + a + "'\n" + kUsage);
  }
  if (input.empty() || output.empty())
    return fail(std::string("compile: give a model and -o BIN\n") + kUsage);
  if (groupSizeGiven && quant != "int4" && headQuant != "int4")
    return fail("--group-size applies to int4 weights: give --quant int4 or --head-quant int4");
  if (!headQuant.empty() && quant == "none")
    return fail("--head-quant needs --quant (f32, bf16, int8 or int4)");
  if (target.empty())
    target = "cpp";
  if (!qwenc::targetOptions(target, opts))
    return fail("unknown --target '" + target + "' (available: cpp, x86-64-avx2)");

  auto t0 = std::chrono::steady_clock::now();
  qwenc::Progress progress(!quiet);
  opts.progress = &progress;
  MLIRContext ctx;
  progress.begin("read " + input);
  auto module = loadInput(ctx, input);
  DiagnosticPrinter diagnostics(ctx);
  // The generic line only where no diagnostic said what went wrong.
  auto failWith = [&](const std::string &msg) {
    progress.abandon();
    return diagnostics.errors() ? 1 : fail(msg);
  };
  if (failed(verify(*module)))
    return failWith(input + ": the graph does not verify");
  int64_t weights = 0;
  module->walk([&](qwen::WeightOp) { ++weights; });
  progress.end(std::to_string(weights) + " tensors");
  progress.begin("run the passes");
  PassManager pm(&ctx);
  qwen::buildCompilePipeline(pm, quant, groupSize, headQuant, fuse);
  if (failed(pm.run(*module)))
    return failWith(input + ": the compile pipeline failed");
  progress.end(std::string(fuse ? "fusion, " : "") + "weights " + (quant == "none" ? "as stored" : quant) +
               (quant == "int4" ? " g" + std::to_string(groupSize) : "") +
               (headQuant.empty() ? "" : ", head " + headQuant));
  auto model = qwenc::emitCppModel(*module, opts);
  if (failed(model))
    return failWith(input + ": lowering to C++ failed");
  if (report)
    printReport(*model);
  std::string err = qwenc::buildExecutable(*model, opts, output, keep, verbose);
  if (!err.empty())
    return progress.abandon(), fail(err);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet)
    std::fprintf(stderr, "qwenc: wrote %s (%.1f MB of weights) in %.1f s\n", output.c_str(),
                 model->blobBytes / 1e6, secs);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("qwenc %s (MLIR %s)\n", QWENC_VERSION, LLVM_VERSION_STRING);
    return 0;
  }
  std::string cmd = argv[1];
  try {
    if (cmd == "import")
      return runImport(argc - 2, argv + 2);
    if (cmd == "compile")
      return runCompile(argc - 2, argv + 2);
  } catch (const qwenc::InputError &e) {
    return fail(e.what());
  } catch (const std::bad_alloc &) {
    return fail("out of memory");
  } catch (const std::exception &e) {
    // Input checks cover every exception the fuzzers have found; one they
    // have not is still an error message, not an abort.
    return fail(std::string("unexpected: ") + e.what() + " (a qwenc bug: please report it with the input)");
  }
  return fail("unknown command '" + cmd + "'\n" + kUsage);
}
