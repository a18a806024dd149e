// A stand-in libax_sys for the emulated engine: memory is aligned heap
// memory whose physical address is its virtual one; the cache calls do
// nothing (there is no device to be coherent with).
#include "../ax_api.h"

#include <cstdio>
#include <cstdlib>

extern "C" {

int32_t AX_SYS_Init(void) { return 0; }
int32_t AX_SYS_Deinit(void) { return 0; }

int32_t AX_SYS_MemAlloc(uint64_t *phys, void **virt, uint32_t size, uint32_t align, const int8_t *) {
  if (!phys || !virt || size == 0 || align == 0 || (align & (align - 1)))
    return int32_t(0x800b0002);
  void *p = nullptr;
  if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
    return int32_t(0x800b0003);
  *virt = p;
  *phys = reinterpret_cast<uintptr_t>(p);
  return 0;
}

int32_t AX_SYS_MemAllocCached(uint64_t *phys, void **virt, uint32_t size, uint32_t align, const int8_t *token) {
  return AX_SYS_MemAlloc(phys, virt, size, align, token);
}

int32_t AX_SYS_MemFree(uint64_t, void *virt) {
  std::free(virt);
  return 0;
}

int32_t AX_SYS_MflushCache(uint64_t, void *, uint32_t) { return 0; }
int32_t AX_SYS_MinvalidateCache(uint64_t, void *, uint32_t) { return 0; }

} // extern "C"
