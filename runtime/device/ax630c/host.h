// The AX630C host program's side of a compiled model: model_forward() and
// ModelDesc's hooks, run through the engine API (ax_api.h) on the layer
// files of the bundle folder, exactly as docs/ax630c/CONTRACT.md says. The
// generated source of a bundle defines kModel and kAxBundle and includes
// this header; the CLI (main.cpp) is every qwenc executable's.
#ifndef QWENC_AX630C_HOST_H
#define QWENC_AX630C_HOST_H

#include "../../qwenc_runtime.h"
#include "bundle.h"

namespace qwenc_rt::ax630c {
/// ModelDesc::select_kernels: the NPU runs the layers; no --isa.
const char *select_kernels(const char *required, const char *request, const char **error);
/// ModelDesc::open_device: loads every model file beside the executable.
const char *open_bundle(int ctx, bool verbose);
} // namespace qwenc_rt::ax630c

#endif
