// The Axera engine and system API, as qwenc's AX630C host program calls it,
// declared by the project from the facts in docs/ax630c/CONTRACT.md (the
// function names and argument lists, the structures' fields in order, the
// 128-byte padding of aarch64 builds). The vendor's headers are not used:
// their types appear here under qwenc's own names. C linkage makes the same
// symbols link against the vendor's libax_engine/libax_sys or the project's
// emulated ones (emulator/).
//
// Layout is where a declaration like this breaks silently, so it is pinned
// twice: the static_asserts below (the sizes the contract gives for aarch64
// and x86-64), and, given a user's SDK (`qwenc compile --target ax630c
// --ax-sdk DIR`), a compile-time comparison of every size and field offset
// with the SDK's own headers (targets/ax630c/SdkCheck.cpp).
#ifndef QWENC_AX630C_AX_API_H
#define QWENC_AX630C_AX_API_H

#include <cstddef>
#include <cstdint>

namespace qwenc_ax {

using Handle = void *;
using Context = void *;

#if defined(__aarch64__)
#define QWENC_AX_PAD(n) uint64_t reserved[n];
#else
#define QWENC_AX_PAD(n)
#endif

/// One input or output of a model group.
struct TensorMeta {
  char *name;
  int32_t *shape;
  uint8_t shape_size;
  int32_t layout;      // an enum
  int32_t memory_type; // an enum
  int32_t data_type;   // an enum with no bf16 value: bf16 tensors are used as 16-bit
  void *extra_meta;
  uint32_t size; // bytes
  uint32_t quantization_value;
  int32_t *stride;
  QWENC_AX_PAD(9)
};

/// A group's inputs and outputs, in the order its io buffers must follow.
struct IoInfo {
  TensorMeta *inputs;
  uint32_t input_count;
  TensorMeta *outputs;
  uint32_t output_count;
  uint32_t max_batch_size;
  int32_t dynamic_batch; // a bool enum
  QWENC_AX_PAD(11)
};

struct IoBuffer {
  uint64_t phys;
  void *virt;
  uint32_t size;
  int32_t *stride;
  uint8_t stride_size;
  QWENC_AX_PAD(11)
};

struct Io {
  IoBuffer *inputs;
  uint32_t input_count;
  IoBuffer *outputs;
  uint32_t output_count;
  uint32_t batch_size;
  void *io_setting;
  QWENC_AX_PAD(11)
};

/// AX_ENGINE_Init's argument: the hard mode first (0: virtual NPU
/// disabled, what the runtimes set), then reserved words; ours is larger
/// than the vendor's (zeroed), so the engine reads nothing undefined.
struct NpuAttr {
  int32_t hard_mode;
  uint32_t reserved[63];
};
constexpr int32_t kVirtualNpuDisabled = 0;

#undef QWENC_AX_PAD

#if defined(__aarch64__)
static_assert(sizeof(TensorMeta) == 128 && sizeof(IoInfo) == 128 && sizeof(IoBuffer) == 128 && sizeof(Io) == 128,
              "aarch64 builds of the engine pad these structures to 128 bytes");
#elif defined(__x86_64__)
static_assert(sizeof(TensorMeta) == 56 && sizeof(IoInfo) == 40 && sizeof(IoBuffer) == 40 && sizeof(Io) == 40,
              "x86-64 builds of the engine have no padding");
#endif
static_assert(offsetof(TensorMeta, size) == 40 && offsetof(TensorMeta, stride) == 48, "fields in the contract's order");
static_assert(offsetof(IoInfo, max_batch_size) == 28 && offsetof(IoBuffer, stride_size) == 32, "fields in order");
static_assert(offsetof(Io, batch_size) == 28 && offsetof(Io, io_setting) == 32, "fields in order");

} // namespace qwenc_ax

// The layout check compiles the SDK's declarations of these functions.
#ifndef QWENC_AX_NO_FUNCTIONS
extern "C" {
// libax_sys
int32_t AX_SYS_Init(void);
int32_t AX_SYS_Deinit(void);
int32_t AX_SYS_MemAlloc(uint64_t *phys, void **virt, uint32_t size, uint32_t align, const int8_t *token);
int32_t AX_SYS_MemAllocCached(uint64_t *phys, void **virt, uint32_t size, uint32_t align, const int8_t *token);
int32_t AX_SYS_MemFree(uint64_t phys, void *virt);
int32_t AX_SYS_MflushCache(uint64_t phys, void *virt, uint32_t size);
int32_t AX_SYS_MinvalidateCache(uint64_t phys, void *virt, uint32_t size);
// libax_engine
int32_t AX_ENGINE_Init(qwenc_ax::NpuAttr *attr);
int32_t AX_ENGINE_Deinit(void);
int32_t AX_ENGINE_CreateHandle(qwenc_ax::Handle *handle, const void *model, uint32_t size);
int32_t AX_ENGINE_DestroyHandle(qwenc_ax::Handle handle);
int32_t AX_ENGINE_CreateContext(qwenc_ax::Handle handle);
int32_t AX_ENGINE_CreateContextV2(qwenc_ax::Handle handle, qwenc_ax::Context *context);
int32_t AX_ENGINE_GetGroupIOInfoCount(qwenc_ax::Handle handle, uint32_t *count);
int32_t AX_ENGINE_GetGroupIOInfo(qwenc_ax::Handle handle, uint32_t group, qwenc_ax::IoInfo **info);
int32_t AX_ENGINE_RunSync(qwenc_ax::Handle handle, qwenc_ax::Io *io);
int32_t AX_ENGINE_RunGroupIOSync(qwenc_ax::Handle handle, qwenc_ax::Context context, uint32_t group,
                                 qwenc_ax::Io *io);
}
#endif

#endif
