//===- HostBuild.cpp - C++ source + kernels + runtime -> one executable ---===//
#include "targets/common/HostBuild.h"
#include "targets/common/WeightBlob.h"

#include "llvm/ADT/StringRef.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace qwenc {

std::string runCommand(const std::vector<std::string> &args, bool verbose, const std::string &what,
                       const std::string &hint) {
  std::vector<char *> argv;
  std::string shown;
  for (const std::string &a : args) {
    argv.push_back(const_cast<char *>(a.c_str()));
    shown += a + " ";
  }
  argv.push_back(nullptr);
  if (verbose)
    std::fprintf(stderr, "qwenc: %s\n", shown.c_str());
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0)
    return "cannot run " + what + " '" + args[0] + "': " + std::strerror(rc) +
           (hint.empty() ? "" : " (" + hint + ")");
  int status = 0;
  if (waitpid(pid, &status, 0) < 0)
    return std::string("waiting for the C++ compiler failed: ") + std::strerror(errno);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return what + " failed building the model (command: " + shown + ")";
  return "";
}


std::string makeTempDir() {
  const char *tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp ? tmp : "/tmp") + "/qwenc-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    return "";
  return buf.data();
}

const RuntimeLayout &runtimeLayout() {
  static const RuntimeLayout layout = [] {
    RuntimeLayout l = {QWENC_RUNTIME_INCLUDE_DIR, QWENC_LIB_DIR, QWENC_KERNELGEN};
    std::error_code ec;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      std::filesystem::path prefix = self.parent_path().parent_path(), lib = prefix / "lib" / "qwenc";
      if (std::filesystem::exists(lib / "libqwenc_runtime.a", ec))
        l = {(prefix / "include" / "qwenc" / "runtime").string(), lib.string(), (lib / "qwenc-kernelgen").string()};
    }
    auto env = [](const char *name, std::string &value) {
      if (const char *v = std::getenv(name))
        value = v;
    };
    env("QWENC_RUNTIME_INCLUDE_DIR", l.includeDir);
    env("QWENC_LIB_DIR", l.libDir);
    env("QWENC_KERNELGEN", l.kernelgen);
    return l;
  }();
  return layout;
}

std::vector<std::string> splitList(llvm::StringRef joined) {
  std::vector<std::string> out;
  for (llvm::StringRef rest = joined; !rest.empty();) {
    auto [item, tail] = rest.split('|');
    if (!item.empty())
      out.push_back(item.str());
    rest = tail;
  }
  return out;
}

std::string buildExecutable(const CppModel &model, const Toolchain &tc, const TargetOptions &opts,
                            const std::string &outputPath) {
  const std::string &keepSourceDir = opts.keepSourceDir;
  const bool verbose = opts.verbose;
  std::string dir = keepSourceDir;
  if (dir.empty()) {
    dir = makeTempDir();
    if (dir.empty())
      return std::string("cannot create a temporary directory: ") + std::strerror(errno);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return "cannot create --keep-source directory '" + dir + "': " + ec.message();
  }
  // Build next to the output so that the final rename cannot cross devices.
  std::string tmpExe = outputPath + ".qwenc-tmp";
  if (std::FILE *probe = std::fopen(tmpExe.c_str(), "wb")) {
    std::fclose(probe);
  } else {
    return "cannot write the output '" + outputPath + "': " + std::strerror(errno);
  }
  std::string source = dir + "/model.cpp";
  {
    std::ofstream out(source);
    out << model.source;
    if (!out.flush())
      return "cannot write '" + source + "'";
  }
  // Halide kernels: one generator run per distinct shape and format, each
  // built for the target's variants (x86: AVX2 and AVX-512 VNNI; aarch64:
  // NEON and dot product); Halide's wrapper picks one at run time, asking
  // the arch header's check.
  Progress *progress = opts.progress;
  std::vector<std::string> kernelObjects;
  if (progress && !model.kernels.empty())
    progress->begin("generate Halide kernels");
  for (const KernelSpec &k : model.kernels) {
    std::vector<std::string> gen = {runtimeLayout().kernelgen, "-g", k.generator, "-o", dir,
                                    "-f", k.name, "-e", "static_library,h", tc.halideTargets};
    gen.insert(gen.end(), k.params.begin(), k.params.end());
    if (k.generator == "qwen_matmul")
      gen.insert(gen.end(), tc.matmulParams.begin(), tc.matmulParams.end());
    std::string err = runCommand(gen, verbose, "the Halide kernel generator");
    if (!err.empty()) {
      std::remove(tmpExe.c_str());
      return err;
    }
    kernelObjects.push_back(dir + "/" + k.name + ".a");
    if (progress)
      progress->update(kernelObjects.size(), model.kernels.size(), /*items=*/true);
  }
  if (progress && !model.kernels.empty())
    progress->end(std::to_string(model.kernels.size()) + " kernels, each for " + tc.halideVariants);

  const RuntimeLayout &rt = runtimeLayout();
  const std::string object = dir + "/model.o";
  std::vector<std::string> compile = {tc.cxx, "-std=c++17"};
  compile.insert(compile.end(), tc.cxxFlags.begin(), tc.cxxFlags.end());
  std::vector<std::string> link = compile;
  compile.push_back("-I" + rt.includeDir);
  if (!model.kernels.empty())
    compile.push_back("-I" + std::string(QWENC_HALIDE_INCLUDE));
  for (std::string a : {std::string("-c"), source, std::string("-o"), object})
    compile.push_back(a);
  link.insert(link.end(), tc.linkFlags.begin(), tc.linkFlags.end());
  for (std::string a : {object, tc.runtimeMainLib, tc.runtimeLib})
    link.push_back(a);
  link.insert(link.end(), tc.systemLibs.begin(), tc.systemLibs.end());
  if (!model.kernels.empty()) {
    link.insert(link.end(), kernelObjects.begin(), kernelObjects.end());
    link.push_back(tc.halideRuntime);
    link.push_back("-ldl");
  }
  for (std::string a : {std::string("-o"), tmpExe, std::string("-lm"), std::string("-pthread")})
    link.push_back(a);
  // Instrumented builds (tests: an allocation counter linked into static
  // executables, which LD_PRELOAD cannot reach): extra link arguments.
  if (const char *extra = std::getenv("QWENC_EXTRA_LINK_ARGS"))
    for (llvm::StringRef rest = extra; !rest.empty();) {
      auto [item, tail] = rest.split(' ');
      if (!item.empty())
        link.push_back(item.str());
      rest = tail;
    }

  if (progress)
    progress->begin("compile the model's C++");
  std::string err = runCommand(compile, verbose, "the C++ compiler", tc.cxxHint);
  if (err.empty() && progress)
    progress->end(std::to_string(model.source.size() / 1000) + " kB of source");
  if (err.empty() && progress)
    progress->begin("link");
  if (err.empty())
    err = runCommand(link, verbose, "the linker");
  if (err.empty() && progress) {
    progress->end();
    progress->begin("append the weights");
  }
  if (err.empty())
    err = appendBlob(model, tmpExe, progress);
  if (err.empty() && progress) {
    char detail[64];
    std::snprintf(detail, sizeof detail, "%.1f MB", model.blobBytes / 1e6);
    progress->end(detail);
  }
  if (err.empty() && std::rename(tmpExe.c_str(), outputPath.c_str()) != 0)
    err = "cannot write the output '" + outputPath + "': " + std::strerror(errno);
  if (!err.empty() && progress)
    progress->abandon();
  if (!err.empty())
    std::remove(tmpExe.c_str());
  if (keepSourceDir.empty()) {
    std::remove(source.c_str());
    std::remove(object.c_str());
    for (const KernelSpec &k : model.kernels) {
      std::remove((dir + "/" + k.name + ".a").c_str());
      std::remove((dir + "/" + k.name + ".h").c_str());
    }
    ::rmdir(dir.c_str());
  }
  return err;
}

} // namespace qwenc
