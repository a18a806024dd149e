#include "thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <memory>
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
    segments_ = std::make_unique<Segment[]>(size_t(threads_));
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
    while ((n + align_ - 1) / align_ > int64_t(0x7fffffff)) // units fit a segment's 32-bit ends
      align_ *= 2;
    units_ = (n + align_ - 1) / align_;
    grain_ = units_ / (int64_t(threads_) * 32);
    grain_ = grain_ < 1 ? 1 : grain_;
    for (int t = 0; t < threads_; ++t)
      segments_[t].range.store(pack(units_ * t / threads_, units_ * (t + 1) / threads_), std::memory_order_relaxed);
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    chunks();
    // Yield while waiting: with more threads than cores, a spinning thread
    // had held the core a waited-for thread needed (0.5B decode at -t 4 on 2
    // cores: 41 tok/s spinning, 187 yielding; 213-216 at -t 2 either way).
    while (pending_.load(std::memory_order_acquire) != 0)
      std::this_thread::yield();
  }

private:
  // Each thread owns a contiguous segment of the loop, a thread's share,
  // and takes it from the front a few units at a time, so that its chunks
  // follow each other in memory (decoding streams weights: a run of rows that
  // restarts elsewhere loses its prefetch stream, and runs of a quarter of a
  // thread's share had decoded 5 % faster than sixteenths, 1.5B int4). A
  // thread whose segment is done takes the back half of the fullest other
  // one as its own: no thread waits long for another's last chunk, and a
  // thread that a busy neighbour on the host slows down does less.
  static uint64_t pack(int64_t begin, int64_t end) { return uint64_t(begin) | uint64_t(end) << 32; }
  static int64_t front(uint64_t s) { return int64_t(s & 0xffffffffu); }
  static int64_t back(uint64_t s) { return int64_t(s >> 32); }

  bool take_front(int self, int64_t &begin, int64_t &end) {
    uint64_t s = segments_[self].range.load(std::memory_order_acquire);
    while (front(s) < back(s)) {
      const int64_t b = front(s), e = b + grain_ < back(s) ? b + grain_ : back(s);
      if (segments_[self].range.compare_exchange_weak(s, pack(e, back(s)), std::memory_order_acq_rel)) {
        begin = b;
        end = e;
        return true;
      }
    }
    return false;
  }

  // Only the owner refills its segment, and only once it is empty; the
  // others change a segment only by a compare-exchange against a non-empty
  // value. A segment's value always names units that no thread has run yet
  // (units move between segments, never back once run), so a
  // compare-exchange that matches a value also matches what it meant.
  bool steal_into(int self) {
    while (true) {
      int victim = -1;
      uint64_t seen = 0;
      for (int t = 0; t < threads_; ++t) {
        const uint64_t s = segments_[t].range.load(std::memory_order_acquire);
        if (t != self && back(s) - front(s) > back(seen) - front(seen)) {
          victim = t;
          seen = s;
        }
      }
      if (victim < 0)
        return false;
      const int64_t half = (back(seen) - front(seen) + 1) / 2, split = back(seen) - half;
      if (segments_[victim].range.compare_exchange_strong(seen, pack(front(seen), split), std::memory_order_acq_rel)) {
        segments_[self].range.store(pack(split, split + half), std::memory_order_release);
        return true;
      }
    }
  }

  void chunks() {
    in_loop = true;
    const int self = index_of_thread;
    int64_t begin = 0, end = 0;
    while (true) {
      if (!take_front(self, begin, end)) {
        if (!steal_into(self))
          break;
        continue; // the stolen half may be stolen from in turn before this thread starts it
      }
      const int64_t last = end * align_;
      (*fn_)(begin * align_, last < n_ ? last : n_);
    }
    in_loop = false;
  }

  void work() {
    uint64_t seen = 0;
    while (true) {
      // Spin a while for the next loop (yielding, as run() does), then sleep
      // until one comes.
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !quit_ && ++spins < 200000)
        std::this_thread::yield();
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
  // Per thread: [front, back) of units, each on its own cache line: packed
  // together, each owner's compare-exchange pulled the line from the others
  // (chunks() took 2.4 % of a 0.5B decode's samples, and waiting 11 %; padded,
  // 0.5 % and 5 %).
  struct alignas(64) Segment {
    std::atomic<uint64_t> range{0};
  };
  std::unique_ptr<Segment[]> segments_;
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
