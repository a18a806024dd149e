// The allocation counter of count-allocations.cpp for static executables
// (aarch64 builds run under qemu), where LD_PRELOAD cannot interpose: linked
// into the executable with GNU ld's --wrap for each function below
// (QWENC_EXTRA_LINK_ARGS, see test/e2e/aarch64-no-allocation.test), so every
// call of malloc & co. from the model, the runtime, libstdc++ and libc's
// other objects comes here first. Prints "allocations: N" at exit.
#include "AllocationCount.h"

#include <cstddef>
#include <cstdio>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

extern "C" {
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void *__real_memalign(size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_mmap(void *, size_t, int, int, int, off_t);
}

namespace {
qwenc_test::AllocationReport g_report;
using qwenc_test::g_allocations;
} // namespace

extern "C" {
void *__wrap_malloc(size_t n) {
  ++g_allocations;
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  ++g_allocations;
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  ++g_allocations;
  return __real_realloc(p, n);
}
void *__wrap_memalign(size_t align, size_t n) {
  ++g_allocations;
  return __real_memalign(align, n);
}
void *__wrap_aligned_alloc(size_t align, size_t n) {
  ++g_allocations;
  return __real_aligned_alloc(align, n);
}
int __wrap_posix_memalign(void **out, size_t align, size_t n) {
  ++g_allocations;
  return __real_posix_memalign(out, align, n);
}
void *__wrap_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (flags & MAP_ANONYMOUS)
    ++g_allocations;
  return __real_mmap(addr, length, prot, flags, fd, offset);
}
} // extern "C"
