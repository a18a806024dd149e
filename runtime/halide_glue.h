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

/// Causal attention through a Halide qwen_attention kernel (its heads,
/// kv_heads and head_dim are NH, NKV, HD; its cache of KT: float, bf16 or
/// int8_t, the last with scale buffers): the cache takes this step's K and
/// V rows, then each query row attends to cached positions 0..its own, one
/// call per row. The kernel writes the scores into the calling thread's slot
/// of `scratch` (NH rows of `stride` floats per thread).
template <int NH, int NKV, int HD, typename KT, typename Kernel>
void halide_attention(Kernel kernel, const char *name, const float *q, const float *k, const float *v,
                      const int32_t *positions, int rows, KT *k_cache, KT *v_cache, float *k_scales,
                      float *v_scales, float *scratch, int stride, float *out) {
  constexpr int KV = NKV * HD;
  store_kv<KV, NKV>(k, v, positions, rows, k_cache, v_cache, k_scales, v_scales);
  const halide_type_code_t code = std::is_same<KT, float>::value  ? halide_type_float
                                  : std::is_same<KT, bf16>::value ? halide_type_uint
                                                                  : halide_type_int;
  const int bits = int(sizeof(KT)) * 8;
  auto row = [&](int r) {
    const int length = positions[r] + 1;
    HlBuf q_(q + int64_t(r) * NH * HD, halide_type_float, 32, HD, NH);
    HlBuf k_(k_cache, code, bits, KV, length), v_(v_cache, code, bits, KV, length);
    HlBuf out_(out + int64_t(r) * NH * HD, halide_type_float, 32, HD, NH);
    HlBuf scores_(scratch + int64_t(thread_index()) * NH * stride, halide_type_float, 32, (length + 7) / 8 * 8, NH);
    scores_.d[1].stride = stride;
    if constexpr (std::is_same<KT, int8_t>::value) {
      HlBuf ks_(k_scales, halide_type_float, 32, NKV, length), vs_(v_scales, halide_type_float, 32, NKV, length);
      check_kernel(kernel(&q_.b, &k_.b, &v_.b, &ks_.b, &vs_.b, &out_.b, &scores_.b), name);
    } else {
      check_kernel(kernel(&q_.b, &k_.b, &v_.b, &out_.b, &scores_.b), name);
    }
  };
  if (rows == 1) { // decode: the kernel splits the heads across the threads
    row(0);
    return;
  }
  // Prefill: the rows across the threads, each row's heads on its thread (a
  // loop over heads per row cost a thread hand-off per row).
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      row(int(r));
  });
}

} // namespace qwenc_rt

#endif
