// qwenc runtime: what a compiled model executable is made of.
//
// `qwenc compile` emits one C++ file per model that defines kModel and
// model_forward() with every dimension a compile-time constant, and links it
// against this runtime (weights loader, KV cache, CLI). The weights travel
// appended to the executable and are memory-mapped at start.
#ifndef QWENC_RUNTIME_H
#define QWENC_RUNTIME_H

#include <cstddef>
#include <cstdint>

namespace qwenc_rt {

/// Storage element types of weights, kept as the checkpoint stored them.
struct bf16 { uint16_t bits; };
struct f16 { uint16_t bits; };

/// How the KV cache stores K and V (qwenc compile --kv-type): float, bf16,
/// or int8 with one float scale per cached row and kv head.
enum class KvType : int { F32 = 0, BF16 = 1, Int8 = 2 };

/// What the generated code tells the runtime about the model.
struct ModelDesc {
  const char *name;
  int vocab_size;
  int num_layers;
  int kv_dim;            // num_kv_heads * head_dim: one cached row of K or V
  int max_positions;     // max_position_embeddings
  int max_rows;          // rows one forward() call takes (prefill chunk)
  size_t arena_floats;   // activation arena planned by the compiler
  size_t scratch_floats_shared;     // attention (runtime/attention.h): shared by the threads
  size_t scratch_floats_per_thread; // and each thread's own
  uint64_t weight_bytes; // size of the appended weight blob
  const int32_t *eos_ids;
  int num_eos_ids;
  // Tokenizer tables inside the weight blob (tokenizer_format.h); 0 bytes
  // when the model directory had no tokenizer.json.
  uint64_t tokenizer_offset;
  uint64_t tokenizer_bytes;
  const char *default_system_prompt;
  // generation_config.json
  bool do_sample;
  float temperature;
  int top_k;
  float top_p;
  float repetition_penalty;
  const char *target;            // the --target it was compiled for
  const char *required_features; // CPU features its code needs, in the arch's words ("avx2,fma")
  const char *isa_choices;       // what --isa takes ("auto|avx2"), "auto" where there is no choice
  // Before any kernel runs: checks that the CPU has required_features and
  // picks the kernels' variant (`request`: --isa, "auto" by default); returns
  // the variant's name, or null with *error set. The arch header the
  // generated code includes defines it (runtime/arch/).
  const char *(*select_kernels)(const char *required, const char *request, const char **error);
  // A device target's start (null for CPU targets): loads the model files
  // forward() runs on the device, for a context of ctx positions, before
  // any prompt; returns null, or an error message naming the file.
  const char *(*open_device)(int ctx, bool verbose);
  KvType kv_type;
  int kv_heads; // kv_dim / head_dim: the int8 cache's scales per row
};

/// Buffers of generation: the compiler-planned activation arena, the KV
/// cache and the logits. Allocated once; forward() allocates nothing.
///
/// The cache holds one or more sequences (slots, the server's --parallel):
/// [slot][num_layers][ctx][kv_dim]. With row_slots null every row is slot
/// 0's; otherwise row r reads and extends slot row_slots[r]'s cache, so one
/// call can carry the decode steps of several sequences (rows of one slot
/// adjacent, in position order).
struct Session {
  const uint8_t *weights = nullptr;
  float *arena = nullptr;
  void *k_cache = nullptr; // [slots][num_layers][ctx][kv_dim] of ModelDesc::kv_type
  void *v_cache = nullptr;
  float *k_scales = nullptr; // int8: [slots][num_layers][ctx][kv_heads]
  float *v_scales = nullptr;
  const int32_t *row_slots = nullptr; // [rows], or null: all slot 0
  int64_t slot_rows = 0;              // cache rows of one slot: num_layers * ctx
  float *scratch = nullptr; // attention: scratch_floats_shared, then scratch_floats_per_thread per thread
  float *logits = nullptr;  // [rows][vocab] if all_logits, else [vocab]
  int ctx = 0;
};

} // namespace qwenc_rt

// Defined by the generated model source.
extern const qwenc_rt::ModelDesc kModel;
/// Runs `rows` tokens (ids at positions) through the model, appending their
/// keys and values to the cache. Logits of every row when all_logits, else of
/// the last row only.
void model_forward(qwenc_rt::Session &s, const int32_t *ids, const int32_t *positions,
                   int rows, bool all_logits);

#endif
