//===- Bundle.h - the files of an AX630C bundle folder ----------*- C++ -*-===//
#ifndef QWENC_TARGETS_AX630C_BUNDLE_H
#define QWENC_TARGETS_AX630C_BUNDLE_H

#include "compiler/frontend/Checkpoint.h"
#include "compiler/support/Progress.h"

#include <string>
#include <vector>

namespace qwenc {

/// --target ax630c's options.
struct AxOptions {
  std::string quant = "int8"; // int8 (Pulsar2 -w s8, w8a16) or int4 (-w s4, w4a16)
  int prefill = 128;          // --prefill: Pulsar2 --prefill_len
  int kvLen = 1023;           // --kv-len: Pulsar2 --kv_cache_len
  std::vector<int> history;   // --history: Pulsar2 --last_kv_cache_len, one per group
  bool emulate = false;       // descriptors for the emulated engine
  std::string sdkDir;         // --ax-sdk
};

/// The host program's file name in the bundle.
constexpr const char *kHostProgram = "qwen2";
/// The Pulsar2 step's script.
constexpr const char *kPulsar2Script = "pulsar2_build.sh";

/// The exact `pulsar2 llm_build` command line for these options.
std::string pulsar2Command(const std::string &inputDir, const std::string &outputDir, const AxOptions &ax);

/// Writes everything but the host program into `dir`: the embedding table,
/// the Pulsar2 script, README.md, and with --emulate the descriptors and
/// the emulated engine's libraries (from `emulatorDir`). "" or an error.
std::string writeBundleFiles(const Checkpoint &ckpt, const ModelConfig &config, const AxOptions &ax,
                             const std::string &dir, const std::string &emulatorDir, Progress *progress);

} // namespace qwenc
#endif
