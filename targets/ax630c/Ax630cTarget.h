//===- Ax630cTarget.h -------------------------------------------*- C++ -*-===//
#ifndef QWENC_TARGETS_AX630C_AX630CTARGET_H
#define QWENC_TARGETS_AX630C_AX630CTARGET_H
#include "targets/Target.h"
namespace qwenc {
const Target &ax630cTarget();
}
#endif
