// What the tests' two allocation counters share (count-allocations.cpp,
// preloaded into dynamic executables; count-allocations-wrap.cpp, linked into
// static ones with ld --wrap): the count, and "allocations: N" on stderr at
// exit, written without allocating.
#ifndef QWENC_TEST_ALLOCATIONCOUNT_H
#define QWENC_TEST_ALLOCATIONCOUNT_H

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <unistd.h>

namespace qwenc_test {

inline std::atomic<long> g_allocations{0};

struct AllocationReport {
  ~AllocationReport() {
    char line[64];
    int n = std::snprintf(line, sizeof line, "allocations: %ld\n", g_allocations.load());
    if (n > 0 && write(2, line, size_t(n)) < 0)
      return;
  }
};

} // namespace qwenc_test
#endif
