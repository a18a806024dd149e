// The tokenizer tables `qwenc compile` writes into an executable, read in
// place at start (no JSON parsing at run time). All integers are u32,
// little-endian; sections follow each other, 4-byte aligned:
//
//   header           TokenizerHeader
//   byte_tokens      [256]                id of the token for each single byte
//   token_offsets    [num_ids + 1]        token i is token_bytes[off[i], off[i+1])
//   token_kinds      [num_ids] as u8, padded to 4
//   merges           [merge_slots] x MergeSlot, open addressing on (left, right)
//   added_ids        [num_added]          added tokens, matched before BPE
//   token_bytes      [bytes_size]         raw bytes (byte-level mapping undone)
#ifndef QWENC_TOKENIZER_FORMAT_H
#define QWENC_TOKENIZER_FORMAT_H

#include <cstdint>

namespace qwenc_rt {

constexpr char kTokenizerMagic[8] = {'Q', 'W', 'T', 'K', '0', '0', '0', '1'};

struct TokenizerHeader {
  char magic[8];
  uint32_t num_ids;     // largest id + 1
  uint32_t merge_slots; // power of two
  uint32_t num_merges;
  uint32_t num_added;
  uint32_t bytes_size;
  uint32_t reserved;
};

enum TokenKind : uint8_t { kTokenUnused = 0, kTokenBpe = 1, kTokenAdded = 2, kTokenSpecial = 3 };

struct MergeSlot {
  uint32_t left;  // kNoToken marks an empty slot
  uint32_t right;
  uint32_t rank;  // lower merges first
  uint32_t result;
};

constexpr uint32_t kNoToken = 0xffffffffu;

inline uint32_t merge_hash(uint32_t left, uint32_t right) {
  uint64_t h = (uint64_t(left) << 32 | right) * 0x9E3779B97F4A7C15ull;
  return uint32_t(h >> 32);
}

} // namespace qwenc_rt
#endif
