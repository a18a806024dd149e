//===- X86Target.h ----------------------------------------------*- C++ -*-===//
#ifndef QWENC_TARGETS_X86_64_X86TARGET_H
#define QWENC_TARGETS_X86_64_X86TARGET_H
#include "targets/Target.h"
namespace qwenc {
const Target &x86Target();
}
#endif
