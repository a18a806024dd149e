//===- HostBuild.h - C++ source + kernels + runtime -> one executable -*- C++ -*-===//
//
// The build step of every target that makes an executable: run the Halide
// generator once per kernel, compile the model's C++ with the target's
// compiler and flags, link it with the target's build of the runtime, and
// append the weight blob (WeightBlob.h). The target fills in a Toolchain.
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_COMMON_HOSTBUILD_H
#define QWENC_TARGETS_COMMON_HOSTBUILD_H

#include "targets/Target.h"

#include <string>
#include <vector>

namespace qwenc {

/// Where qwenc's own files are. An installed qwenc (cmake --install, the
/// .deb) finds them beside itself: PREFIX/bin/qwenc, PREFIX/lib/qwenc/,
/// PREFIX/include/qwenc/runtime/. A qwenc in its build tree uses the build
/// tree's paths. QWENC_RUNTIME_INCLUDE_DIR, QWENC_LIB_DIR and QWENC_KERNELGEN
/// override either.
struct RuntimeLayout {
  std::string includeDir; // runtime/ headers
  std::string libDir;     // the host's runtime archives; <libDir>/<arch>/ a cross target's
  std::string kernelgen;  // qwenc-kernelgen
};
const RuntimeLayout &runtimeLayout();

/// How a target builds.
struct Toolchain {
  std::string cxx;                     // the compiler driver
  std::string cxxHint;                 // what to do when it cannot be run
  std::vector<std::string> cxxFlags;   // compiling the model's C++ (and linking)
  std::vector<std::string> linkFlags;  // linking only (e.g. -static)
  std::string runtimeLib, runtimeMainLib; // the runtime built for the target
  std::vector<std::string> systemLibs; // static utf8proc, libedit and what it needs
  /// Halide kernels: the generator's target list ("target=a,b", the last one
  /// the fallback every CPU of the target runs), qwen_matmul's parameters of
  /// the CPU model (l2_kib), the runtime object, and how the progress line
  /// names the variants.
  std::string halideTargets;
  std::vector<std::string> matmulParams;
  std::string halideRuntime;
  std::string halideVariants;
};

/// Builds `output` from the model; "" or an error message.
std::string buildExecutable(const CppModel &model, const Toolchain &tc, const TargetOptions &opts,
                            const std::string &output);

/// Runs args[0] (found on PATH), its output to the terminal; "" or a
/// message saying which tool (`what`) failed, with `hint` when it cannot run.
std::string runCommand(const std::vector<std::string> &args, bool verbose,
                       const std::string &what = "the C++ compiler", const std::string &hint = "");

/// A new folder under $TMPDIR (or /tmp); "" if none can be made.
std::string makeTempDir();

/// The list items of a CMake list joined with '|' (as the build passes them).
std::vector<std::string> splitList(llvm::StringRef joined);

} // namespace qwenc
#endif
