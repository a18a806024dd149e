// What an AX630C bundle folder holds, in the contract's words
// (docs/ax630c/CONTRACT.md): the one home of the file names, tensor names
// and mask values that qwenc (writing a bundle), the host program (loading
// it) and the emulated engine (answering for it) share.
#ifndef QWENC_AX630C_BUNDLE_H
#define QWENC_AX630C_BUNDLE_H

#include <cstdint>
#include <string>

namespace qwenc_rt::ax630c {

/// Pulsar2's file of decoder layer i, built with --prefill_len P.
inline std::string layer_file(int prefill, int layer) {
  return "qwen2_p" + std::to_string(prefill) + "_l" + std::to_string(layer) + "_together.axmodel";
}
constexpr const char *kPostFile = "qwen2_post.axmodel";
/// Raw row-major bf16 [vocab, hidden], float32 truncated to its upper 16 bits.
constexpr const char *kEmbedFile = "model.embed_tokens.weight.bfloat16.bin";

// Tensor names, the same in every group of a layer file.
constexpr const char *kInput = "input", *kKCache = "K_cache", *kVCache = "V_cache", *kIndices = "indices",
                     *kMask = "mask", *kOutput = "output", *kKOut = "K_cache_out", *kVOut = "V_cache_out";
// The post file.
constexpr const char *kPostInput = "input", *kPostOutput = "output";

/// The additive mask, in bf16: 0 attends, -65536 masks.
constexpr uint16_t kMaskAttend = 0x0000;
constexpr uint16_t kMaskBlocked = 0xC780;

/// The first line of a descriptor file that `qwenc compile --emulate`
/// writes in place of each .axmodel, for the emulated engine.
constexpr const char *kEmulatedMagic = "qwenc-ax630c-emulated-model 1";

/// What the compiled host program knows of its bundle; each file's io info
/// is checked against it when loaded.
struct BundleDesc {
  int prefill;      // --prefill: rows of a prefill group
  int kv_cache_len; // --kv-len: cache rows of the decode group
  int hidden;
  int kv_dim;       // kv_heads * head_dim
  int num_layers;
  int vocab;
};

} // namespace qwenc_rt::ax630c

/// Defined by the host program's generated source.
extern const qwenc_rt::ax630c::BundleDesc kAxBundle;

#endif
