// Calling Halide-generated kernels from a compiled model, on any target that
// has them (x86-64-avx2, aarch64): buffers over the arena and the weight
// blob, and Halide's parallel loops run on the runtime's own thread pool (one
// pool, no two sets of spinning threads competing for the cores). Which of a
// kernel's variants runs is the arch's choice (arch/<name>/halide.h, which
// includes this header after the arch's kernels.h).
#ifndef QWENC_HALIDE_GLUE_H
#define QWENC_HALIDE_GLUE_H

#include "HalideRuntime.h"
#include "kernels.h"
#include "thread_pool.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace qwenc_rt {

/// A 2-D (or 1-D) dense buffer, dimension 0 contiguous.
struct HlBuf {
  halide_buffer_t b;
  halide_dimension_t d[2];
  HlBuf(const void *host, halide_type_code_t code, int bits, int extent0, int extent1 = -1) {
    std::memset(&b, 0, sizeof b);
    b.host = static_cast<uint8_t *>(const_cast<void *>(host));
    b.type.code = code;
    b.type.bits = uint8_t(bits);
    b.type.lanes = 1;
    b.dim = d;
    b.dimensions = extent1 < 0 ? 1 : 2;
    d[0] = {0, extent0, 1, 0};
    d[1] = {0, extent1 < 0 ? 1 : extent1, extent0, 0};
  }
};

inline int do_par_for(void *user_context, halide_task_t task, int min, int size, uint8_t *closure) {
  std::atomic<int> result{0};
  parallel_for(size, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      if (int r = task(user_context, min + int(i), closure))
        result.store(r);
  });
  return result.load();
}

inline void check_kernel(int status, const char *name) {
  if (status != 0) {
    std::fprintf(stderr, "error: kernel %s failed (Halide status %d)\n", name, status);
    std::exit(1);
  }
}

} // namespace qwenc_rt

#endif
