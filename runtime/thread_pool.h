// A fixed set of worker threads for the kernels' parallel loops. Workers spin
// briefly between loops (a decode step runs a few hundred of them), then sleep.
#ifndef QWENC_THREAD_POOL_H
#define QWENC_THREAD_POOL_H

#include <cstdint>
#include <functional>

namespace qwenc_rt {

/// Sets the number of threads (the caller included); 0 means one per core.
void set_num_threads(int n);
int num_threads();

/// Runs fn(begin, end) over [0, n) split into contiguous chunks that the
/// threads take in turn, and returns when all are done. Chunks are multiples
/// of `align`.
void parallel_for_chunks(int64_t n, int64_t align, const std::function<void(int64_t, int64_t)> &fn);

template <typename F>
void parallel_for(int64_t n, F &&fn, int64_t align = 1) {
  if (num_threads() <= 1 || n < 2 * align) {
    fn(int64_t(0), n);
    return;
  }
  parallel_for_chunks(n, align, fn);
}

} // namespace qwenc_rt
#endif
