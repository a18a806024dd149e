// Byte-level BPE tokenizer of Qwen2.5, exact to Hugging Face's: added tokens
// matched first, NFC, the Qwen split pattern with Unicode categories,
// byte-level mapping, merges by rank. Reads the tables of tokenizer_format.h
// in place.
#ifndef QWENC_TOKENIZER_H
#define QWENC_TOKENIZER_H

#include "tokenizer_format.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qwenc_rt {

class Tokenizer {
public:
  /// Points at the tables (which must outlive this); false + message if damaged.
  bool load(const uint8_t *data, size_t size, std::string &error);

  /// Appends the ids of UTF-8 `text`; false + message (with the byte offset)
  /// if the text is not valid UTF-8. Added tokens (<|im_start|>...) are
  /// matched in the text except where a match would overlap one of the sorted
  /// byte ranges [begin, end) of `plain`: there the text is only text.
  bool encode(std::string_view text, std::vector<int32_t> &ids, std::string &error,
              const std::vector<std::pair<size_t, size_t>> *plain = nullptr);

  /// Raw bytes of a token (an added token's content for added tokens).
  std::string_view token_bytes(int32_t id) const;
  bool is_valid(int32_t id) const;
  bool is_special(int32_t id) const;
  /// Id of an added token with this content, or -1.
  int32_t added_id(std::string_view content) const;
  int32_t num_ids() const { return int32_t(header_->num_ids); }

private:
  void encode_segment(std::string_view text, std::vector<int32_t> &ids);
  void encode_piece(std::string_view piece, std::vector<int32_t> &ids);

  const TokenizerHeader *header_ = nullptr;
  const uint32_t *byte_tokens_ = nullptr;
  const uint32_t *offsets_ = nullptr;
  const uint8_t *kinds_ = nullptr;
  const MergeSlot *merges_ = nullptr;
  const uint32_t *added_ = nullptr;
  const char *bytes_ = nullptr;
  bool added_first_byte_[256] = {};
  std::unordered_map<std::string, std::vector<int32_t>> cache_; // piece -> ids
  /// A pair of adjacent symbols that has a merge; the heap's top is the
  /// lowest rank, then the leftmost.
  struct PairCandidate {
    uint32_t rank, at, left, right;
    bool operator<(const PairCandidate &o) const { return rank != o.rank ? rank > o.rank : at > o.at; }
  };
  // Scratch of encode_piece: symbols, their links, the candidate pairs.
  std::vector<uint32_t> symbols_, next_, prev_;
  std::vector<PairCandidate> heap_;
  std::vector<int32_t> cps_;      // scratch of encode_segment
  std::vector<uint8_t> classes_;
};

/// Turns a stream of token ids into UTF-8 text without ever emitting half a
/// character: bytes of an incomplete sequence wait for the next token.
/// Invalid sequences become U+FFFD, as Hugging Face's errors="replace".
class StreamDecoder {
public:
  explicit StreamDecoder(const Tokenizer &tok) : tok_(tok) {}
  std::string push(int32_t id);
  std::string flush(); // what is left, incomplete sequences replaced

private:
  const Tokenizer &tok_;
  std::string pending_;
};

/// False + message naming the first bad byte if `text` is not valid UTF-8.
bool check_utf8(std::string_view text, std::string &error);

/// Decodes a whole id sequence to text.
std::string decode(const Tokenizer &tok, const std::vector<int32_t> &ids);

} // namespace qwenc_rt
#endif
