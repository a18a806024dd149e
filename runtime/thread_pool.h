// A fixed set of worker threads for the kernels' parallel loops. Workers spin
// briefly between loops (a decode step runs a few hundred of them), then sleep.
#ifndef QWENC_THREAD_POOL_H
#define QWENC_THREAD_POOL_H

#include <cstdint>

namespace qwenc_rt {

/// Sets the number of threads (the caller included); 0 means one per core.
void set_num_threads(int n);
int num_threads();
/// 0 on the thread that starts the loops, 1..num_threads()-1 on the workers:
/// picks a thread's slot of per-thread scratch.
int thread_index();

/// A loop body fn(begin, end) by reference: unlike std::function it never
/// copies the callable to the heap, so a parallel loop allocates nothing.
class ChunkFn {
public:
  template <typename F>
  ChunkFn(F &fn)
      : object_(const_cast<void *>(static_cast<const void *>(&fn))), call_([](void *o, int64_t b, int64_t e) { (*static_cast<F *>(o))(b, e); }) {}
  void operator()(int64_t begin, int64_t end) const { call_(object_, begin, end); }

private:
  void *object_;
  void (*call_)(void *, int64_t, int64_t);
};

/// Runs fn(begin, end) over [0, n) split into contiguous chunks, and returns
/// when all are done: each thread takes the chunks of its own share in order,
/// then the back halves of what the others have left. Chunks are multiples
/// of `align`.
void parallel_for_chunks(int64_t n, int64_t align, ChunkFn fn);

template <typename F>
void parallel_for(int64_t n, F &&fn, int64_t align = 1) {
  if (num_threads() <= 1 || n < 2 * align) {
    fn(int64_t(0), n);
    return;
  }
  parallel_for_chunks(n, align, ChunkFn(fn));
}

} // namespace qwenc_rt
#endif
