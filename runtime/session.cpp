#include "session.h"

#include "thread_pool.h"

#include <sys/mman.h>

namespace qwenc_rt {

size_t kv_value_bytes() {
  return kModel.kv_type == KvType::F32 ? 4 : kModel.kv_type == KvType::BF16 ? 2 : 1;
}

size_t kv_cache_bytes(int ctx) {
  const size_t rows = size_t(kModel.num_layers) * size_t(ctx);
  return 2 * (rows * size_t(kModel.kv_dim) * kv_value_bytes() +
              (kModel.kv_type == KvType::Int8 ? rows * size_t(kModel.kv_heads) * sizeof(float) : 0));
}

const char *kv_type_name() {
  return kModel.kv_type == KvType::F32 ? "f32" : kModel.kv_type == KvType::BF16 ? "bf16" : "int8";
}

bool is_eos(int32_t id) {
  for (int i = 0; i < kModel.num_eos_ids; ++i)
    if (kModel.eos_ids[i] == id)
      return true;
  return false;
}

namespace {
void *map_zeroed(size_t n) {
  void *p = mmap(nullptr, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
} // namespace

bool open_session(Session &s, const uint8_t *weights, int ctx, int slots, int logit_rows, std::string &error) {
  s.weights = weights;
  s.ctx = ctx;
  s.slot_rows = int64_t(kModel.num_layers) * ctx;
  const size_t rows = size_t(s.slot_rows) * size_t(slots);
  struct Buffer {
    void **at;
    size_t bytes;
    const char *what;
  } buffers[] = {
      {reinterpret_cast<void **>(&s.arena), kModel.arena_floats * sizeof(float), "activation arena"},
      {&s.k_cache, rows * size_t(kModel.kv_dim) * kv_value_bytes(), "KV cache"},
      {&s.v_cache, rows * size_t(kModel.kv_dim) * kv_value_bytes(), "KV cache"},
      // Scales of an int8 cache (untouched, so never resident, otherwise).
      {reinterpret_cast<void **>(&s.k_scales), rows * size_t(kModel.kv_heads) * sizeof(float), "KV cache scales"},
      {reinterpret_cast<void **>(&s.v_scales), rows * size_t(kModel.kv_heads) * sizeof(float), "KV cache scales"},
      {reinterpret_cast<void **>(&s.scratch),
       (kModel.scratch_floats_shared + kModel.scratch_floats_per_thread * size_t(num_threads())) * sizeof(float),
       "attention scratch"},
      {reinterpret_cast<void **>(&s.logits), size_t(logit_rows) * size_t(kModel.vocab_size) * sizeof(float),
       "logits"},
  };
  for (const Buffer &b : buffers)
    if (!(*b.at = map_zeroed(b.bytes))) {
      error = std::string("out of memory mapping the ") + b.what + " (" + std::to_string(b.bytes >> 20) + " MiB)";
      return false;
    }
  return true;
}

} // namespace qwenc_rt
