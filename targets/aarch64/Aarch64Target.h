//===- Aarch64Target.h ------------------------------------------*- C++ -*-===//
#ifndef QWENC_TARGETS_AARCH64_AARCH64TARGET_H
#define QWENC_TARGETS_AARCH64_AARCH64TARGET_H
#include "targets/common/HostBuild.h"
namespace qwenc {
const Target &aarch64Target();
/// What --target aarch64 builds with for a --cpu ("" for generic): the
/// cross compiler, flags, the runtime built for aarch64 and its libraries.
/// The ax630c target builds its host program with it.
Toolchain aarch64Toolchain(const std::string &cpu);
/// Where the aarch64 runtime's archives are (<lib dir>/aarch64).
std::string aarch64LibDir();
/// Why this qwenc cannot build aarch64 programs ("" if it can).
std::string aarch64Unavailable();
}
#endif
