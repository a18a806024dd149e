//===- HostToolchain.cpp --------------------------------------------------===//
#include "targets/common/HostToolchain.h"

#include <cstdlib>

namespace qwenc {

Toolchain hostToolchain() {
  Toolchain tc;
  const char *cxx = std::getenv("CXX");
  tc.cxx = cxx && *cxx ? cxx : "c++";
  tc.cxxHint = "install g++, or set CXX to a C++17 compiler";
  tc.cxxFlags = splitList(QWENC_SANITIZE_FLAGS);
  const std::string lib = runtimeLayout().libDir;
  tc.runtimeLib = lib + "/libqwenc_runtime.a";
  tc.runtimeMainLib = lib + "/libqwenc_runtime_main.a";
  const char *utf8proc = std::getenv("QWENC_UTF8PROC_LIB");
  tc.systemLibs = {utf8proc ? utf8proc : QWENC_UTF8PROC_LIB};
  for (const std::string &l : splitList(QWENC_LINEEDIT_LIBS))
    tc.systemLibs.push_back(l);
  return tc;
}

} // namespace qwenc
