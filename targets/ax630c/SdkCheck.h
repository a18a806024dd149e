//===- SdkCheck.h - qwenc's engine declarations against a user's SDK -*- C++ -*-===//
#ifndef QWENC_TARGETS_AX630C_SDKCHECK_H
#define QWENC_TARGETS_AX630C_SDKCHECK_H

#include "targets/Target.h"

#include <string>

namespace qwenc {

/// Compiles, with the aarch64 compiler, a check that every engine structure
/// of runtime/device/ax630c/ax_api.h has the size and field offsets of the
/// SDK's own (its ax_engine_api.h, found under `sdk`). "" or an error.
std::string checkSdkLayout(const std::string &sdk, const TargetOptions &opts);

/// The folder under `sdk` that holds libax_engine.so ("" if none).
std::string sdkLibDir(const std::string &sdk);

} // namespace qwenc
#endif
