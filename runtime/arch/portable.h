// The `cpp` target's kernels: every hook as plain C++ (portable_hooks.h), no
// CPU check, no kernel variants. Generated code of that target includes
// this header.
#ifndef QWENC_ARCH_PORTABLE_H
#define QWENC_ARCH_PORTABLE_H

#include "../portable_hooks.h"

namespace qwenc_rt {
namespace arch = portable;

namespace portable {
/// ModelDesc::select_kernels: any CPU runs portable C++; one variant.
inline const char *select_kernels(const char *, const char *request, const char **error) {
  if (request && *request && std::strcmp(request, "auto") != 0) {
    *error = "--isa applies to executables compiled with --target x86-64-avx2 or aarch64";
    return nullptr;
  }
  return "portable C++";
}
} // namespace portable
} // namespace qwenc_rt

#define QWENC_ARCH_SELECTED 1
#include "../kernels.h"

#endif
