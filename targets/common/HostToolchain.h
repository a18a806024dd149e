//===- HostToolchain.h - the build machine's compiler and runtime -*- C++ -*-===//
#ifndef QWENC_TARGETS_COMMON_HOSTTOOLCHAIN_H
#define QWENC_TARGETS_COMMON_HOSTTOOLCHAIN_H

#include "targets/common/HostBuild.h"

namespace qwenc {

/// The toolchain of targets that run where qwenc runs (cpp, x86-64-avx2):
/// $CXX (default c++), the runtime built with qwenc, utf8proc and libedit
/// linked statically; with a sanitized qwenc (QWENC_SANITIZE), sanitized
/// models. The target adds its flags.
Toolchain hostToolchain();

} // namespace qwenc
#endif
