//===- SdkCheck.cpp - qwenc's engine declarations against a user's SDK ----===//
//
// qwenc declares the engine API itself (the vendor headers are not
// redistributable), so the one way it can break silently is a structure
// whose layout differs from the engine's. Given the SDK, this compiles the
// vendor's headers beside ours and asserts equal sizes and offsets, field
// by field; the compiler's message names the first that differs.
//===----------------------------------------------------------------------===//
#include "targets/ax630c/SdkCheck.h"
#include "targets/aarch64/Aarch64Target.h"
#include "targets/common/HostBuild.h"

#include <filesystem>
#include <fstream>

namespace qwenc {
namespace {

namespace fs = std::filesystem;

/// The folder under `root` (searched a few levels deep) holding `file`.
std::string findFolderOf(const std::string &root, const std::string &file) {
  std::error_code ec;
  if (fs::exists(fs::path(root) / file, ec))
    return root;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    if (it.depth() > 4) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() == file)
      return it->path().parent_path().string();
  }
  return "";
}

/// Our structure, the SDK's, and their fields in the contract's order.
struct Pair {
  const char *ours, *theirs;
  std::vector<std::pair<const char *, const char *>> fields;
};
const std::vector<Pair> &pairs() {
  static const std::vector<Pair> p = {
      {"TensorMeta", "AX_ENGINE_IOMETA_T",
       {{"name", "pName"}, {"shape", "pShape"}, {"shape_size", "nShapeSize"}, {"layout", "eLayout"},
        {"memory_type", "eMemoryType"}, {"data_type", "eDataType"}, {"extra_meta", "pExtraMeta"},
        {"size", "nSize"}, {"quantization_value", "nQuantizationValue"}, {"stride", "pStride"}}},
      {"IoInfo", "AX_ENGINE_IO_INFO_T",
       {{"inputs", "pInputs"}, {"input_count", "nInputSize"}, {"outputs", "pOutputs"},
        {"output_count", "nOutputSize"}, {"max_batch_size", "nMaxBatchSize"}, {"dynamic_batch", "bDynamicBatchSize"}}},
      {"IoBuffer", "AX_ENGINE_IO_BUFFER_T",
       {{"phys", "phyAddr"}, {"virt", "pVirAddr"}, {"size", "nSize"}, {"stride", "pStride"},
        {"stride_size", "nStrideSize"}}},
      {"Io", "AX_ENGINE_IO_T",
       {{"inputs", "pInputs"}, {"input_count", "nInputSize"}, {"outputs", "pOutputs"},
        {"output_count", "nOutputSize"}, {"batch_size", "nBatchSize"}, {"io_setting", "pIoSetting"}}},
  };
  return p;
}

} // namespace

std::string sdkLibDir(const std::string &sdk) { return findFolderOf(sdk, "libax_engine.so"); }

std::string checkSdkLayout(const std::string &sdk, const TargetOptions &opts) {
  const std::string include = findFolderOf(sdk, "ax_engine_api.h");
  if (include.empty())
    return "--ax-sdk " + sdk + ": no ax_engine_api.h in it (give the SDK folder with the engine's headers)";
  if (sdkLibDir(sdk).empty())
    return "--ax-sdk " + sdk + ": no libax_engine.so in it (give the SDK folder with the engine's libraries)";
  std::string src = "// qwenc's engine structures against the SDK's (targets/ax630c/SdkCheck.cpp).\n"
                    "#include <cstddef>\n#include \"ax_engine_api.h\"\n"
                    "#define QWENC_AX_NO_FUNCTIONS\n#include \"device/ax630c/ax_api.h\"\n\n";
  for (const Pair &p : pairs()) {
    src += "static_assert(sizeof(qwenc_ax::" + std::string(p.ours) + ") == sizeof(" + p.theirs + "), \"sizeof(" +
           p.theirs + ") differs from qwenc's " + p.ours + "\");\n";
    for (const auto &[ours, theirs] : p.fields)
      src += "static_assert(offsetof(qwenc_ax::" + std::string(p.ours) + ", " + ours + ") == offsetof(" + p.theirs +
             ", " + theirs + "), \"" + p.theirs + "::" + theirs + " is not where qwenc's " + p.ours + "::" + ours +
             " is\");\n";
  }
  const std::string tmp = makeTempDir();
  if (tmp.empty())
    return "cannot create a temporary folder for the SDK layout check";
  const std::string file = tmp + "/sdk-layout-check.cpp";
  {
    std::ofstream out(file);
    out << src;
  }
  Toolchain tc = aarch64Toolchain("cortex-a53");
  std::string err = runCommand({tc.cxx, "-std=c++17", "-fsyntax-only", "-I" + include,
                                "-I" + runtimeLayout().includeDir, file},
                               opts.verbose, "the SDK layout check", tc.cxxHint);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!err.empty())
    return "--ax-sdk " + sdk + ": the SDK's engine structures (" + include +
           "/ax_engine_api.h) disagree with qwenc's declarations in runtime/device/ax630c/ax_api.h, or use other "
           "names (the compiler's message above says which); the host program would corrupt memory, so no "
           "bundle was built";
  return "";
}

} // namespace qwenc
