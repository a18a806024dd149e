#include "thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace qwenc_rt {
namespace {

// Set while this thread runs a loop's chunks: a parallel loop started from
// inside one (a Halide kernel's loop over heads, called per prompt row from a
// loop over rows) runs on the calling thread instead.
thread_local bool in_loop = false;
thread_local int index_of_thread = 0;

class Pool {
public:
  ~Pool() { stop(); }

  void start(int threads) {
    stop();
    threads_ = threads < 1 ? 1 : threads;
    quit_ = false;
    for (int i = 1; i < threads_; ++i)
      workers_.emplace_back([this, i] {
        index_of_thread = i;
        work();
      });
  }

  int threads() const { return threads_; }

  void run(int64_t n, int64_t align, ChunkFn fn) {
    fn_ = &fn;
    n_ = n;
    align_ = align;
    units_ = (n + align - 1) / align;
    grain_ = units_ / (int64_t(threads_) * 4);
    grain_ = grain_ < 1 ? 1 : grain_;
    next_.store(0, std::memory_order_relaxed);
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    chunks();
    while (pending_.load(std::memory_order_acquire) != 0)
      ;
  }

private:
  // Threads claim chunks of grain_ units (a quarter of a thread's share)
  // until none are left: a thread that a busy neighbour on the host slows
  // down takes fewer, instead of the others waiting for its fixed share.
  // Not smaller: decoding streams weights, and longer runs of rows per thread
  // decoded 5 % faster than sixteenths (1.5B int4).
  void chunks() {
    in_loop = true;
    while (true) {
      const int64_t unit = next_.fetch_add(grain_, std::memory_order_relaxed);
      if (unit >= units_)
        break;
      const int64_t end = (unit + grain_) * align_;
      (*fn_)(unit * align_, end < n_ ? end : n_);
    }
    in_loop = false;
  }

  void work() {
    uint64_t seen = 0;
    while (true) {
      // Spin a while for the next loop, then sleep until one comes.
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !quit_ && ++spins < 200000)
        ;
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen || quit_; });
      }
      if (quit_)
        return;
      seen = generation_.load(std::memory_order_acquire);
      chunks();
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : workers_)
      t.join();
    workers_.clear();
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> quit_{false};
  const ChunkFn *fn_ = nullptr;
  int64_t n_ = 0, align_ = 1, units_ = 0, grain_ = 1;
  std::atomic<int64_t> next_{0};
};

Pool &pool() {
  static Pool p;
  return p;
}

} // namespace

void set_num_threads(int n) {
  if (n <= 0)
    n = int(std::thread::hardware_concurrency());
  pool().start(n);
}

int num_threads() { return pool().threads(); }

int thread_index() { return index_of_thread; }

void parallel_for_chunks(int64_t n, int64_t align, ChunkFn fn) {
  if (in_loop) {
    fn(0, n);
    return;
  }
  pool().run(n, align, fn);
}

} // namespace qwenc_rt
