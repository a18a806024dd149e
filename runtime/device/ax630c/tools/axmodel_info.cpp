// axmodel-info FILE...: what the engine says about each model file: its
// groups, and each input and output with its name, shape and byte size, in
// the engine's order. Runs on the board against the vendor's engine (what did
// Pulsar2 make?) and in tests against the emulated one (is it the contract?).
#include "../ax_api.h"
#include "../map_file.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

void print(const char *kind, const qwenc_ax::TensorMeta &m) {
  std::printf("  %s %s [", kind, m.name ? m.name : "(null)");
  for (int i = 0; i < m.shape_size; ++i)
    std::printf(i ? ", %d" : "%d", m.shape[i]);
  std::printf("] %u bytes\n", m.size);
}

int info(const char *path) {
  size_t size = 0;
  std::string error;
  const void *bytes = qwenc_rt::ax630c::map_file(path, size, error);
  if (!bytes) {
    std::fprintf(stderr, "axmodel-info: %s\n", error.c_str());
    return 1;
  }
  qwenc_ax::Handle h = nullptr;
  uint32_t groups = 0;
  if (size > 0xffffffffu || AX_ENGINE_CreateHandle(&h, bytes, uint32_t(size)) != 0 ||
      AX_ENGINE_GetGroupIOInfoCount(h, &groups) != 0) {
    std::fprintf(stderr, "axmodel-info: %s: the engine cannot load it\n", path);
    return 1;
  }
  const char *name = std::strrchr(path, '/');
  std::printf("%s: %u group%s\n", name ? name + 1 : path, groups, groups == 1 ? "" : "s");
  for (uint32_t g = 0; g < groups; ++g) {
    qwenc_ax::IoInfo *io = nullptr;
    if (AX_ENGINE_GetGroupIOInfo(h, g, &io) != 0 || !io) {
      std::fprintf(stderr, "axmodel-info: %s: no io info for group %u\n", path, g);
      return 1;
    }
    std::printf(" group %u\n", g);
    for (uint32_t i = 0; i < io->input_count; ++i)
      print("in ", io->inputs[i]);
    for (uint32_t i = 0; i < io->output_count; ++i)
      print("out", io->outputs[i]);
  }
  AX_ENGINE_DestroyHandle(h);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: axmodel-info FILE.axmodel...\n");
    return 2;
  }
  qwenc_ax::NpuAttr attr;
  std::memset(&attr, 0, sizeof attr);
  if (AX_SYS_Init() != 0 || AX_ENGINE_Init(&attr) != 0) {
    std::fprintf(stderr, "axmodel-info: the engine does not start\n");
    return 1;
  }
  int rc = 0;
  for (int i = 1; i < argc; ++i)
    rc |= info(argv[i]);
  return rc;
}
