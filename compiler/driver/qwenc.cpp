//===- qwenc.cpp - the qwenc compiler driver ------------------------------===//
//
//   qwenc import MODEL_DIR [-o FILE.mlir]
//   qwenc compile MODEL_DIR|FILE.mlir --target T [--cpu C] [--emit mlir|cpp|exe] -o OUT
//
// The driver knows the targets only through targets/Target.h and its
// registry: the compile pipeline is the common passes, then the target's;
// then the target lowers and builds.
//===----------------------------------------------------------------------===//
#include "compiler/dialect/QwenDialect.h"
#include "compiler/frontend/ImportModel.h"
#include "compiler/frontend/InputError.h"
#include "compiler/dialect/WeightFormat.h"
#include "passes/Passes.h"
#include "runtime/int4_layout.h"
#include "targets/Target.h"

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
#include <filesystem>
#include <fstream>
#include <cstring>
#include <string>
#include <sys/stat.h>

using namespace mlir;

namespace {

/// The usage text, its --target, --quant and --group-size lines from the one
/// home of each (the target registry, WeightFormat.h, int4_layout.h).
std::string usage() {
  std::string targets;
  for (const qwenc::Target *t : qwenc::allTargets()) {
    targets += "                          " + t->name().str() + ": " + t->summary().str() + "\n";
    if (!t->cpus().empty()) {
      std::string cpus;
      for (const std::string &c : t->cpus())
        cpus += (cpus.empty() ? "" : "|") + c;
      targets += "                            --cpu " + cpus + " (default " + t->cpus().front() + ")\n";
    }
    for (const qwenc::TargetFlag &f : t->flags()) {
      std::string flag = f.name + (f.valueName.empty() ? "" : " " + f.valueName);
      targets += "                            " + flag + std::string(flag.size() < 20 ? 20 - flag.size() : 1, ' ') +
                 f.help + "\n";
    }
  }
  return "usage:\n"
         "  qwenc --version\n"
         "  qwenc import MODEL_DIR [-o FILE.mlir]\n"
         "      Read a Hugging Face Qwen2 model directory and print its graph IR.\n"
         "  qwenc compile MODEL_DIR|FILE.mlir --target T -o OUT [options]\n"
         "      Build one standalone executable that carries the model's weights\n"
         "      (ax630c: a bundle folder for the board).\n"
         "      --target T          (default cpp)\n" +
         targets +
         "      --cpu C             the CPU model, for targets that take one (above)\n"
         "      --emit WHAT         mlir: stop after the passes, write the IR to OUT (- for stdout);\n"
         "                          cpp: stop after code generation, write OUT/model.cpp and\n"
         "                          OUT/kernels.txt; exe: build the executable (default)\n"
         "      --quant MODE        weights: none (as stored, default), " + qwenc::quantFormatNames() +
         "\n"
         "                          (int8 per output channel, int4 per group)\n"
         "      --group-size N      int4 group: " + qwenc::int4GroupSizeNames() + " (default " +
         std::to_string(qwenc_rt::int4::kDefaultGroupSize) +
         ")\n"
         "      --head-quant MODE   the embedding and output head: " + qwenc::quantFormatNames() +
         "\n"
         "                          (default: int8 under --quant int4, else as --quant)\n"
         "      --kv-type T         the KV cache's storage: bf16 (default), f32, or int8 with a\n"
         "                          scale per cached row and KV head\n"
         "      --no-fuse           skip the fusion passes\n"
         "      --report            print each weight's storage, quantization SNR and the total\n"
         "      --keep-source DIR   keep the generated C++ in DIR\n"
         "      --max-rows N        tokens per forward step, the prefill chunk (default 128)\n"
         "      -q                  no progress lines (errors and warnings still print)\n"
         "      -v                  print the host compiler and kernel generator commands\n";
}

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
      return std::fputs(usage().c_str(), stdout), 0;
    if (a == "-o" && i + 1 < argc)
      output = argv[++i];
    else if (!a.empty() && a[0] != '-' && input.empty())
      input = a;
    else
      return fail("import: unexpected argument '" + a + "'\n" + usage());
  }
  if (input.empty())
    return fail("import: give a model directory\n" + usage());
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

/// --emit cpp: the model's C++ and the Halide kernels it needs (one line
/// per kernel: its name, generator and parameters) in a directory.
std::string writeSource(const qwenc::CppModel &model, const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return "cannot create '" + dir + "': " + ec.message();
  std::ofstream src(dir + "/model.cpp"), kernels(dir + "/kernels.txt");
  src << model.source;
  for (const qwenc::KernelSpec &k : model.kernels) {
    kernels << k.name << " " << k.generator;
    for (const std::string &p : k.params)
      kernels << " " << p;
    kernels << "\n";
  }
  return src.flush() && kernels.flush() ? "" : "cannot write into '" + dir + "'";
}

int runCompile(int argc, char **argv) {
  std::string input, output, targetName = "cpp", quant = "none", headQuant, emit = "exe";
  qwenc::TargetOptions opts;
  bool fuse = true, report = false, quiet = false, cpuGiven = false;
  int64_t groupSize = qwenc_rt::int4::kDefaultGroupSize;
  bool groupSizeGiven = false;
  // The target first: its own flags are parsed with the others.
  for (int i = 0; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--target")
      targetName = argv[i + 1];
  const qwenc::Target *target = qwenc::findTarget(targetName);
  if (!target)
    return fail("unknown --target '" + targetName + "' (available: " + qwenc::targetNames() + ")");
  const std::vector<qwenc::TargetFlag> targetFlags = target->flags();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    auto flag = std::find_if(targetFlags.begin(), targetFlags.end(),
                             [&](const qwenc::TargetFlag &f) { return f.name == a; });
    if (flag != targetFlags.end()) {
      if (!flag->valueName.empty() && i + 1 >= argc)
        return fail(a + " needs a value (" + flag->valueName + ")");
      opts.flags[a] = flag->valueName.empty() ? "" : value();
      continue;
    }
    if (a == "-h" || a == "--help")
      return std::fputs(usage().c_str(), stdout), 0;
    if (a == "-o")
      output = value();
    else if (a == "--target")
      targetName = value();
    else if (a == "--cpu") {
      opts.cpu = value();
      cpuGiven = true;
    } else if (a == "--emit" || llvm::StringRef(a).starts_with("--emit=")) {
      emit = a == "--emit" ? value() : a.substr(7);
      if (emit != "mlir" && emit != "cpp" && emit != "exe")
        return fail("--emit needs mlir, cpp or exe, got '" + emit + "'");
    } else if (a == "--keep-source")
      opts.keepSourceDir = value();
    else if (a == "--max-rows") {
      std::string v = value();
      char *end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 4096)
        return fail("--max-rows needs an integer in [1, 4096]");
      opts.maxRows = int(n);
    } else if (a == "--quant") {
      quant = value();
      if (quant != "none" && !qwenc::parseQuantFormat(quant))
        return fail("--quant must be none, " + qwenc::quantFormatNames() + ", got '" + quant + "'");
    } else if (a == "--head-quant") {
      headQuant = value();
      if (!qwenc::parseQuantFormat(headQuant))
        return fail("--head-quant must be " + qwenc::quantFormatNames() + ", got '" + headQuant + "'");
    } else if (a == "--group-size") {
      std::string v = value();
      char *end = nullptr;
      long g = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || !qwenc_rt::int4::valid_group(g))
        return fail("--group-size must be " + qwenc::int4GroupSizeNames() + ", got '" + v + "'");
      groupSize = g;
      groupSizeGiven = true;
    } else if (a == "--kv-type") {
      opts.kvType = value();
      opts.kvTypeGiven = true;
      if (opts.kvType != "f32" && opts.kvType != "bf16" && opts.kvType != "int8")
        return fail("--kv-type must be f32, bf16 or int8, got '" + opts.kvType + "'");
    } else if (a == "--no-fuse")
      fuse = false;
    else if (a == "--report")
      report = true;
    else if (a == "-v")
      opts.verbose = true;
    else if (a == "-q")
      quiet = true;
    else if (!a.empty() && a[0] != '-' && input.empty())
      input = a;
    else
      return fail("compile: unexpected argument '" + a + "'\n" + usage());
  }
  if (input.empty() || output.empty())
    return fail("compile: give a model and -o OUT\n" + usage());
  if (groupSizeGiven && quant != "int4" && headQuant != "int4")
    return fail("--group-size applies to int4 weights: give --quant int4 or --head-quant int4");
  if (!headQuant.empty() && quant == "none")
    return fail("--head-quant needs --quant (" + qwenc::quantFormatNames() + ")");
  opts.quant = quant;
  opts.groupSizeGiven = groupSizeGiven;
  opts.headQuantGiven = !headQuant.empty();
  if (std::string err = target->configure(opts); !err.empty())
    return fail("--target " + targetName + ": " + err);
  if (cpuGiven) {
    std::vector<std::string> cpus = target->cpus();
    if (cpus.empty())
      return fail("--cpu: target " + targetName + " takes no CPU model");
    if (std::find(cpus.begin(), cpus.end(), opts.cpu) == cpus.end()) {
      std::string list;
      for (const std::string &c : cpus)
        list += (list.empty() ? "" : ", ") + c;
      return fail("--cpu for target " + targetName + " must be one of " + list + ", got '" + opts.cpu + "'");
    }
  }
  if (emit != "mlir") {
    std::string why = target->unavailable();
    if (!why.empty())
      return fail("--target " + targetName + ": " + why);
  }

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
  const std::string irQuant = target->irQuant(quant);
  qwenc::buildFullPipeline(pm, *target, opts, irQuant, groupSize, irQuant == quant ? headQuant : "", fuse);
  if (failed(pm.run(*module)))
    return failWith(input + ": the compile pipeline failed");
  progress.end(std::string(fuse ? "fusion, " : "") + "weights " + (irQuant == "none" ? "as stored" : irQuant) +
               (irQuant == "int4" ? " g" + std::to_string(groupSize) : "") +
               (headQuant.empty() ? "" : ", head " + headQuant) + ", kernels for " + targetName);
  if (emit == "mlir") {
    std::error_code ec;
    llvm::raw_fd_ostream out(output, ec);
    if (ec)
      return fail("cannot write '" + output + "': " + ec.message());
    module->print(out);
    out << "\n";
    return 0;
  }
  auto model = target->emit(*module, opts);
  if (failed(model))
    return failWith(input + ": lowering to C++ failed");
  if (report)
    printReport(*model);
  std::string err = emit == "cpp" ? writeSource(*model, output) : target->build(*model, opts, output);
  if (!err.empty())
    return progress.abandon(), fail(err);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet && target->artifact() == "executable")
    std::fprintf(stderr, "qwenc: wrote %s (%.1f MB of weights) in %.1f s\n", output.c_str(),
                 model->blobBytes / 1e6, secs);
  else if (!quiet)
    std::fprintf(stderr, "qwenc: wrote the %s %s in %.1f s\n", target->artifact().str().c_str(), output.c_str(),
                 secs);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::fputs(usage().c_str(), argc < 2 ? stderr : stdout);
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
  return fail("unknown command '" + cmd + "'\n" + usage());
}
