//===- CppTarget.h ----------------------------------------------*- C++ -*-===//
#ifndef QWENC_TARGETS_CPP_CPPTARGET_H
#define QWENC_TARGETS_CPP_CPPTARGET_H
#include "targets/Target.h"
namespace qwenc {
const Target &cppTarget();
}
#endif
