//===- Aarch64Target.h ------------------------------------------*- C++ -*-===//
#ifndef QWENC_TARGETS_AARCH64_AARCH64TARGET_H
#define QWENC_TARGETS_AARCH64_AARCH64TARGET_H
#include "targets/Target.h"
namespace qwenc {
const Target &aarch64Target();
}
#endif
