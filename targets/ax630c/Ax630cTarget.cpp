//===- Ax630cTarget.cpp - a bundle folder for the Axera AX630C ------------===//
//
// --target ax630c writes a folder a person copies to the board
// (docs/ax630c/CONTRACT.md): the Pulsar2 step for these options, the
// embedding table, and the host program, an aarch64 executable built with
// the aarch64 target's toolchain whose forward() runs the NPU model files
// through the engine API (runtime/device/ax630c/host.cpp). With --emulate,
// descriptors for the emulated engine stand in for Pulsar2's files, and the
// emulated engine's libraries go in lib/, so the bundle runs under qemu.
//
// The weights are quantized by Pulsar2 on the NPU's terms (-w s8 / s4), so
// the common passes keep them as stored (irQuant).
//===----------------------------------------------------------------------===//
#include "targets/ax630c/Ax630cTarget.h"
#include "compiler/dialect/QwenDialect.h"
#include "compiler/frontend/InputError.h"
#include "runtime/device/ax630c/bundle.h"
#include "targets/aarch64/Aarch64Target.h"
#include "targets/ax630c/Bundle.h"
#include "targets/ax630c/SdkCheck.h"
#include "targets/common/WeightBlob.h"

#include "llvm/Support/FormatVariadic.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace qwenc {
namespace {

std::string emulatorDir() { return aarch64LibDir() + "/ax630c-emulator"; }
std::string hostLib() { return aarch64LibDir() + "/libqwenc_ax630c_host.a"; }

bool parseInt(const std::string &s, long lo, long hi, long &v) {
  char *end = nullptr;
  errno = 0;
  v = std::strtol(s.c_str(), &end, 10);
  return !s.empty() && !errno && *end == '\0' && v >= lo && v <= hi;
}

class Ax630cTarget final : public Target {
public:
  llvm::StringRef name() const override { return "ax630c"; }
  llvm::StringRef summary() const override {
    return "Axera AX630C NPU: a bundle folder (Pulsar2 step, embeddings, aarch64 host program)";
  }
  llvm::StringRef artifact() const override { return "bundle folder"; }
  std::vector<TargetFlag> flags() const override {
    return {{"--prefill", "N", "rows of a prefill run (Pulsar2 --prefill_len, default 128)"},
            {"--kv-len", "N", "KV cache rows (Pulsar2 --kv_cache_len, default 1023)"},
            {"--history", "A,B,..", "prefill groups with this much history (--last_kv_cache_len)"},
            {"--emulate", "", "descriptors for the emulated engine in place of Pulsar2's files"},
            {"--ax-sdk", "DIR", "check the engine structures against DIR's headers, link DIR's libraries"}};
  }
  std::string unavailable() const override {
    std::string why = aarch64Unavailable();
    if (!why.empty())
      return why;
    std::error_code ec;
    if (!std::filesystem::exists(hostLib(), ec) || !std::filesystem::exists(emulatorDir() + "/libax_engine.so", ec))
      return "this qwenc was built without the AX630C host runtime (no " + hostLib() + "): rebuild";
    return "";
  }
  std::string configure(const TargetOptions &opts) const override {
    AxOptions ax;
    return parseOptions(opts, ax);
  }
  std::string irQuant(const std::string &) const override { return "none"; }
  void buildPipeline(mlir::OpPassManager &, const TargetOptions &) const override {}
  mlir::FailureOr<CppModel> emit(mlir::ModuleOp module, const TargetOptions &opts) const override;
  std::string build(const CppModel &model, const TargetOptions &opts, const std::string &output) const override;

  /// The options of a bundle, from the driver's; "" or an error.
  static std::string parseOptions(const TargetOptions &opts, AxOptions &ax) {
    if (opts.quant != "none" && opts.quant != "int8" && opts.quant != "int4")
      return "--quant " + opts.quant + ": the AX630C NPU stores weights as int8 (w8a16, Pulsar2 -w s8, the "
             "default) or int4 (w4a16, -w s4)";
    ax.quant = opts.quant == "none" ? "int8" : opts.quant;
    if (opts.kvTypeGiven)
      return "--kv-type does not apply: the NPU's KV cache is bf16 (the contract)";
    if (opts.groupSizeGiven || opts.headQuantGiven)
      return "--group-size and --head-quant do not apply: Pulsar2 quantizes (int4 in groups of 128)";
    long v = 0;
    auto get = [&](const char *flag) -> const std::string * {
      auto it = opts.flags.find(flag);
      return it == opts.flags.end() ? nullptr : &it->second;
    };
    if (const std::string *s = get("--prefill")) {
      if (!parseInt(*s, 1, 4096, v))
        return "--prefill needs an integer in [1, 4096], got '" + *s + "'";
      ax.prefill = int(v);
    }
    if (const std::string *s = get("--kv-len")) {
      if (!parseInt(*s, 1, 1 << 20, v))
        return "--kv-len needs an integer in [1, 1048576], got '" + *s + "'";
      ax.kvLen = int(v);
    }
    if (ax.prefill > ax.kvLen)
      return "--prefill " + std::to_string(ax.prefill) + " is more than --kv-len " + std::to_string(ax.kvLen) +
             ": a prefill's rows must fit the cache";
    if (const std::string *s = get("--history")) {
      llvm::SmallVector<llvm::StringRef> items;
      llvm::StringRef(*s).split(items, ',');
      for (llvm::StringRef item : items) {
        if (!parseInt(item.str(), 1, ax.kvLen + 1, v))
          return "--history needs a comma-separated list of integers in [1, " + std::to_string(ax.kvLen + 1) +
                 "] (history rows of each prefill group), got '" + *s + "'";
        if (!ax.history.empty() && v <= ax.history.back())
          return "--history must list increasing sizes, got '" + *s + "'";
        ax.history.push_back(int(v));
      }
    }
    ax.emulate = get("--emulate") != nullptr;
    if (const std::string *s = get("--ax-sdk")) {
      std::error_code ec;
      if (!std::filesystem::is_directory(*s, ec))
        return "--ax-sdk " + *s + ": not a directory (give the SDK folder with the engine's headers and libraries)";
      ax.sdkDir = std::filesystem::absolute(*s).string();
    }
    if (ax.emulate && !ax.sdkDir.empty())
      return "--emulate and --ax-sdk exclude each other: the emulated engine replaces the SDK's libraries";
    return "";
  }
};

mlir::FailureOr<CppModel> Ax630cTarget::emit(mlir::ModuleOp module, const TargetOptions &opts) const {
  AxOptions ax;
  if (std::string err = parseOptions(opts, ax); !err.empty())
    return module.emitError(err);
  auto path = module->getAttrOfType<mlir::StringAttr>(mlir::qwen::kCheckpointAttr);
  if (!path)
    return module.emitError() << "module needs the '" << mlir::qwen::kCheckpointAttr
                              << "' attribute that `qwenc import` sets";
  CppModel model;
  model.checkpoint = Checkpoint::open(path.str());
  const ModelConfig c = loadModelConfig(path.str());
  if (ax.kvLen > c.contextLength())
    return module.emitError() << "--kv-len " << ax.kvLen << " is more than the positions the model takes ("
                              << c.contextLength() << ")";
  if (c.ropeScaling.factor > 0 && !ax.emulate)
    std::fprintf(stderr, "qwenc: warning: %s/config.json: rope_scaling (yarn): whether Pulsar2 applies it is not "
                         "known here (the emulated engine does); check the NPU's output on a prompt longer than "
                         "%lld tokens\n",
                 path.str().c_str(), (long long)c.ropeScaling.original_max_positions);
  if (ax.quant == "int4" && (c.hiddenSize % 128 || c.intermediateSize % 128))
    return module.emitError() << "--quant int4 stores groups of 128 columns: hidden_size (" << c.hiddenSize
                              << ") and intermediate_size (" << c.intermediateSize << ") must be multiples of 128";
  const std::string systemPrompt = loadTokenizer(model, opts.progress);
  WeightBlob blob(model, opts.progress);
  const uint64_t tokOffset =
      model.tokenizerTables.empty() ? 0 : blob.append(model.tokenizerTables.data(), model.tokenizerTables.size());
  const int64_t kvDim = c.numKvHeads * c.headDim();
  ModelDescFields f;
  f.vocab = c.vocabSize;
  f.numLayers = c.numLayers;
  f.kvDim = kvDim;
  f.maxPositions = ax.kvLen; // the cache rows are the context
  f.maxRows = ax.prefill;
  f.tokenizerOffset = tokOffset;
  f.tokenizerBytes = model.tokenizerTables.size();
  f.defaultSystemPrompt = systemPrompt;
  f.target = "ax630c";
  f.isaChoices = "auto";
  f.selectKernels = "&qwenc_rt::ax630c::select_kernels";
  f.openDevice = "&qwenc_rt::ax630c::open_bundle";
  f.kvType = "bf16"; // the NPU's; the host's own cache buffers stay unused
  f.kvHeads = c.numKvHeads;
  mlir::FailureOr<std::string> desc = modelDescSource(module, model, f);
  if (failed(desc))
    return mlir::failure();
  std::string &s = model.source;
  s += "// Generated by qwenc (target ax630c) from " + model.checkpoint->dir() + ".\n";
  s += "// The host program of an AX630C bundle: the NPU runs the layers (runtime/device/ax630c/host.cpp).\n";
  s += "#include \"device/ax630c/host.h\"\n\nusing namespace qwenc_rt;\n\n";
  s += llvm::formatv("const ax630c::BundleDesc kAxBundle = {{/*prefill=*/{0}, /*kv_cache_len=*/{1}, "
                     "/*hidden=*/{2}, /*kv_dim=*/{3},\n    /*num_layers=*/{4}, /*vocab=*/{5}};\n\n",
                     ax.prefill, ax.kvLen, c.hiddenSize, kvDim, c.numLayers, c.vocabSize)
           .str();
  s += *desc;
  return std::move(model);
}

std::string Ax630cTarget::build(const CppModel &model, const TargetOptions &opts, const std::string &output) const {
  AxOptions ax;
  if (std::string err = parseOptions(opts, ax); !err.empty())
    return err;
  if (!ax.sdkDir.empty())
    if (std::string err = checkSdkLayout(ax.sdkDir, opts); !err.empty())
      return err;
  std::error_code ec;
  if (std::filesystem::exists(output, ec) && !std::filesystem::is_directory(output, ec))
    return "-o " + output + ": exists and is not a folder (--target ax630c writes a bundle folder)";
  std::filesystem::create_directories(output, ec);
  if (ec)
    return "cannot create the bundle folder '" + output + "': " + ec.message();
  const std::string dir = std::filesystem::absolute(output).string();
  const ModelConfig c = loadModelConfig(model.checkpoint->dir());

  // The host program: the aarch64 toolchain (Cortex-A53, the board's CPU),
  // linked statically but for libc and the engine's shared libraries, which
  // the board has (the vendor ships them only as shared libraries); $ORIGIN/lib
  // holds the emulated ones in an --emulate bundle.
  Toolchain tc = aarch64Toolchain("cortex-a53");
  tc.linkFlags = {"-static-libstdc++", "-static-libgcc", "-Wl,-rpath,$ORIGIN/lib", "-Wl,--as-needed"};
  std::vector<std::string> libs = {hostLib()};
  libs.insert(libs.end(), tc.systemLibs.begin(), tc.systemLibs.end());
  const std::string engineLibDir = ax.sdkDir.empty() ? emulatorDir() : sdkLibDir(ax.sdkDir);
  for (std::string a : {std::string("-Wl,--no-as-needed"), "-L" + engineLibDir, std::string("-lax_engine"),
                        std::string("-lax_sys"), std::string("-lax_interpreter")})
    libs.push_back(a);
  tc.systemLibs = libs;
  if (opts.progress)
    opts.progress->begin("build the host program");
  TargetOptions quiet = opts;
  quiet.progress = nullptr;
  if (std::string err = buildExecutable(model, tc, quiet, dir + "/" + kHostProgram); !err.empty()) {
    if (opts.progress)
      opts.progress->abandon();
    return err;
  }
  if (opts.progress)
    opts.progress->end(std::string(kHostProgram) + " (aarch64, Cortex-A53), linked against " +
                       (ax.sdkDir.empty() ? "the engine's library names" : "the SDK in " + ax.sdkDir));
  return writeBundleFiles(*model.checkpoint, c, ax, dir, emulatorDir(), opts.progress);
}

} // namespace

const Target &ax630cTarget() {
  static const Ax630cTarget t;
  return t;
}

} // namespace qwenc
