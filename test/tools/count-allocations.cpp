// LD_PRELOAD library for the tests: counts every heap allocation (the malloc
// family, hence operator new) and every anonymous mmap a process makes, and
// prints "allocations: N" to stderr at exit. Two runs of a compiled model
// that differ only in the number of generated tokens must print the same N:
// then generating a token allocates nothing.
#include "AllocationCount.h"

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
}

namespace {
qwenc_test::AllocationReport g_report;
using qwenc_test::g_allocations;
} // namespace

extern "C" {

void *malloc(size_t n) {
  ++g_allocations;
  return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
  ++g_allocations;
  return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
  ++g_allocations;
  return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n) {
  ++g_allocations;
  return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n) {
  ++g_allocations;
  return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
  ++g_allocations;
  void *p = __libc_memalign(align, n);
  if (!p)
    return 12; // ENOMEM
  *out = p;
  return 0;
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (flags & MAP_ANONYMOUS)
    ++g_allocations;
  return reinterpret_cast<void *>(syscall(SYS_mmap, addr, length, prot, flags, fd, offset));
}

} // extern "C"
