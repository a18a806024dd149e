//===- Target.h - what every qwenc target implements ------------*- C++ -*-===//
//
// A target turns the qwen dialect, after the common passes, into something a
// person runs: an executable (cpp, x86-64-avx2, aarch64) or a bundle. Each
// lives in its own folder under targets/ and owns its flags, its weight
// layout rules, its kernels and its toolchain; the driver knows targets only
// through this interface and the registry (targets/Registry.cpp), the one
// list of them.
//
//   pipeline:  the target's passes after the common ones: they check the IR
//              against the target's rules and annotate each op with the
//              kernel that will run it (visible in `--emit=mlir`);
//   emit:      the annotated module to C++ source and a weight blob;
//   build:     that source and blob to the artifact.
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_TARGET_H
#define QWENC_TARGETS_TARGET_H

#include "targets/common/CppLowering.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace qwenc {

/// What the driver passes every target.
struct TargetOptions {
  std::string cpu;           // --cpu ("" for the target's default)
  int maxRows = 128;         // tokens per forward() call: the prefill chunk
  std::string keepSourceDir; // --keep-source ("" for a temporary one)
  bool verbose = false;      // print the commands run
  Progress *progress = nullptr;
  std::string quant = "none"; // --quant as given
  std::string kvType = "bf16"; // --kv-type: the KV cache's storage (bf16 by default)
  bool kvTypeGiven = false;
  bool groupSizeGiven = false;
  bool headQuantGiven = false;
  /// The target's own flags (Target::flags()) as given: value, or "" for a switch.
  std::map<std::string, std::string> flags;
};

/// A flag of one target, beyond the driver's common ones.
struct TargetFlag {
  std::string name;      // "--prefill"
  std::string valueName; // "N" ("" for a switch)
  std::string help;
};

class Target {
public:
  virtual ~Target() = default;
  /// The --target name and a line for --help.
  virtual llvm::StringRef name() const = 0;
  virtual llvm::StringRef summary() const = 0;
  /// The --cpu values it takes, the default first; empty if it takes none.
  virtual std::vector<std::string> cpus() const { return {}; }
  /// Its own flags, for --help and the driver's parsing.
  virtual std::vector<TargetFlag> flags() const { return {}; }
  /// Checks the options (--quant, the target's flags) before any work: ""
  /// or an error message.
  virtual std::string configure(const TargetOptions &opts) const { return ""; }
  /// The --quant the common passes apply: the weights' storage in the IR.
  virtual std::string irQuant(const std::string &quant) const { return quant; }
  /// What build() writes: "executable" or "bundle folder" (for messages).
  virtual llvm::StringRef artifact() const { return "executable"; }
  /// Why this build of qwenc cannot compile for it ("" if it can): a
  /// toolchain it was configured without.
  virtual std::string unavailable() const { return ""; }
  /// Adds the target's passes (after the common pipeline).
  virtual void buildPipeline(mlir::OpPassManager &pm, const TargetOptions &opts) const = 0;
  /// Lowers the module to C++ and the weight blob. Problems are diagnostics.
  virtual mlir::FailureOr<CppModel> emit(mlir::ModuleOp module, const TargetOptions &opts) const = 0;
  /// Builds `output` from what emit() made: "" or an error message.
  virtual std::string build(const CppModel &model, const TargetOptions &opts, const std::string &output) const = 0;
};

/// Every target this build of qwenc has, in the order --help lists them.
const std::vector<const Target *> &allTargets();
/// The target called `name`, or null.
const Target *findTarget(llvm::StringRef name);
/// "cpp, x86-64-avx2, aarch64": for messages.
std::string targetNames();

/// Registers `qwen-compile{target=... quant=... group-size=... head-quant=...
/// fuse=...}` with MLIR's pass registry: the whole pipeline of `qwenc
/// compile` (common passes, then the target's), for qwenc-opt and its tests.
void registerCompilePipeline();

/// The whole pipeline `qwenc compile` runs.
void buildFullPipeline(mlir::OpPassManager &pm, const Target &target, const TargetOptions &opts,
                       const std::string &quant, int64_t groupSize, const std::string &headQuant, bool fuse);

} // namespace qwenc
#endif
