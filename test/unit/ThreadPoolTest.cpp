// The runtime's thread pool: parallel_for covers [0, n) exactly once in
// chunks that are multiples of `align` (the last one cut at n), for 2, 3 and
// 4 threads, including loops whose first share is much slower than the rest,
// so that the other threads take over the back of it.
#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace qwenc_rt;

void expectEachIndexOnce(int64_t n, int64_t align, bool slowStart) {
  std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
  std::atomic<int> badChunks{0}, threadsUsed{0};
  std::vector<std::atomic<int>> byThread(8);
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        if (begin % align != 0 || (end % align != 0 && end != n) || begin >= end || end > n)
          badChunks.fetch_add(1);
        if (byThread[size_t(thread_index())].fetch_add(1) == 0)
          threadsUsed.fetch_add(1);
        for (int64_t i = begin; i < end; ++i) {
          seen[size_t(i)].fetch_add(1);
          if (slowStart && i < n / 8) // the first thread's share crawls
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
      },
      align);
  EXPECT_EQ(badChunks.load(), 0) << "n " << n << ", align " << align;
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(seen[size_t(i)].load(), 1) << "index " << i << " of " << n << ", align " << align;
  if (slowStart)
    EXPECT_GE(threadsUsed.load(), 2) << "n " << n;
}

TEST(ThreadPool, EveryIndexOnceInAlignedChunks) {
  for (int threads : {2, 3, 4}) {
    set_num_threads(threads);
    for (int64_t n : {2, 3, 7, 64, 1000, 151936})
      for (int64_t align : {1, 16, 64})
        expectEachIndexOnce(n, align, false);
    expectEachIndexOnce(4000, 1, true);
    expectEachIndexOnce(4096, 64, true);
  }
  set_num_threads(1);
}

} // namespace
