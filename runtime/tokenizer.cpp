#include "tokenizer.h"

#include <algorithm>

#include <utf8proc.h>

#include <cstdlib>
#include <cstring>

namespace qwenc_rt {

namespace {

// Character classes of the split pattern.
enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4, kCrLf = 8 };

uint8_t classify(int32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
      return kLetter;
    if (cp >= '0' && cp <= '9')
      return kNumber;
    if (cp == '\r' || cp == '\n')
      return kSpace | kCrLf;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d))
      return kSpace;
    return 0;
  }
  switch (utf8proc_category(cp)) {
  case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    return kLetter;
  case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
    return kNumber;
  case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    return kSpace;
  default:
    // \s of the regex engine Hugging Face uses (Oniguruma): also U+0085.
    return cp == 0x85 ? kSpace : 0;
  }
}

/// Lower-case ASCII letter for the (?i:...) contractions; U+017F (long s)
/// folds to 's' under Unicode case folding.
int32_t fold(int32_t cp) {
  if (cp >= 'A' && cp <= 'Z')
    return cp + 32;
  if (cp == 0x17f)
    return 's';
  return cp;
}

/// Length (in code points) of the contraction at i, or 0.
size_t match_contraction(const int32_t *cp, size_t i, size_t n) {
  if (cp[i] != '\'' || i + 1 >= n)
    return 0;
  int32_t a = fold(cp[i + 1]);
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  if (i + 2 < n) {
    int32_t b = fold(cp[i + 2]);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
      return 3;
  }
  return 0;
}

/// Length of the match of the Qwen split pattern at i (always >= 1):
///   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}
///   | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
/// Alternatives are tried in order, as a backtracking engine does.
size_t match_piece(const int32_t *cp, const uint8_t *cls, size_t i, size_t n) {
  if (size_t len = match_contraction(cp, i, n))
    return len;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  {
    size_t j = i;
    if (!(cls[j] & (kLetter | kNumber | kCrLf)) && j + 1 < n && (cls[j + 1] & kLetter))
      ++j;
    if (cls[j] & kLetter) {
      while (j < n && (cls[j] & kLetter))
        ++j;
      return j - i;
    }
  }
  if (cls[i] & kNumber)
    return 1;
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  {
    size_t j = i;
    if (cp[j] == ' ' && j + 1 < n && !(cls[j + 1] & (kSpace | kLetter | kNumber)))
      ++j;
    if (!(cls[j] & (kSpace | kLetter | kNumber))) {
      while (j < n && !(cls[j] & (kSpace | kLetter | kNumber)))
        ++j;
      while (j < n && (cls[j] & kCrLf))
        ++j;
      return j - i;
    }
  }
  // The rest start with whitespace: the run is cp[i, end).
  size_t end = i;
  while (end < n && (cls[end] & kSpace))
    ++end;
  // \s*[\r\n]+ : up to and including the run's last CR/LF.
  for (size_t k = end; k > i; --k)
    if (cls[k - 1] & kCrLf)
      return k - i;
  // \s+(?!\S) : the whole run at the end of text, else all but its last char.
  if (end == n)
    return end - i;
  if (end - i >= 2)
    return end - i - 1;
  return end - i; // \s+
}

/// Decodes one UTF-8 sequence at s[i]; returns its length, or -1 if invalid.
int utf8_length_at(const unsigned char *s, size_t n, size_t i, int32_t &cp) {
  utf8proc_int32_t c;
  utf8proc_ssize_t len = utf8proc_iterate(s + i, utf8proc_ssize_t(n - i), &c);
  if (len <= 0)
    return -1;
  cp = c;
  return int(len);
}

} // namespace

bool Tokenizer::load(const uint8_t *data, size_t size, std::string &error) {
  if (size < sizeof(TokenizerHeader) || std::memcmp(data, kTokenizerMagic, 8) != 0) {
    error = "the tokenizer tables are missing or damaged";
    return false;
  }
  header_ = reinterpret_cast<const TokenizerHeader *>(data);
  const uint8_t *p = data + sizeof(TokenizerHeader);
  byte_tokens_ = reinterpret_cast<const uint32_t *>(p);
  p += 256 * 4;
  offsets_ = reinterpret_cast<const uint32_t *>(p);
  p += (size_t(header_->num_ids) + 1) * 4;
  kinds_ = p;
  p += (header_->num_ids + 3) / 4 * 4;
  merges_ = reinterpret_cast<const MergeSlot *>(p);
  p += size_t(header_->merge_slots) * sizeof(MergeSlot);
  added_ = reinterpret_cast<const uint32_t *>(p);
  p += size_t(header_->num_added) * 4;
  bytes_ = reinterpret_cast<const char *>(p);
  if (size_t(p - data) + header_->bytes_size != size ||
      offsets_[header_->num_ids] != header_->bytes_size) {
    error = "the tokenizer tables have an inconsistent size";
    return false;
  }
  for (uint32_t a = 0; a < header_->num_added; ++a) {
    std::string_view t = token_bytes(int32_t(added_[a]));
    if (!t.empty())
      added_first_byte_[uint8_t(t[0])] = true;
  }
  return true;
}

bool Tokenizer::is_valid(int32_t id) const {
  return id >= 0 && uint32_t(id) < header_->num_ids && kinds_[id] != kTokenUnused;
}

bool Tokenizer::is_special(int32_t id) const { return is_valid(id) && kinds_[id] == kTokenSpecial; }

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || uint32_t(id) >= header_->num_ids)
    return {};
  return std::string_view(bytes_ + offsets_[id], offsets_[id + 1] - offsets_[id]);
}

int32_t Tokenizer::added_id(std::string_view content) const {
  for (uint32_t a = 0; a < header_->num_added; ++a)
    if (token_bytes(int32_t(added_[a])) == content)
      return int32_t(added_[a]);
  return -1;
}

bool check_utf8(std::string_view text, std::string &error) {
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    int32_t cp;
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    int len = utf8_length_at(s, n, i, cp);
    if (len < 0) {
      error = "the text is not valid UTF-8 (byte " + std::to_string(i) + ")";
      return false;
    }
    i += size_t(len);
  }
  return true;
}

bool Tokenizer::encode(std::string_view text, std::vector<int32_t> &ids, std::string &error,
                       const std::vector<std::pair<size_t, size_t>> *plain) {
  if (!check_utf8(text, error))
    return false;
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  const size_t n = text.size();
  // Added tokens first, leftmost-longest, on the raw text (they are not
  // normalized); the text between them goes through NFC and BPE.
  size_t seg = 0, next_plain = 0;
  for (size_t i = 0; i < n;) {
    // A match may end no later than where the next plain range begins.
    while (plain && next_plain < plain->size() && (*plain)[next_plain].second <= i)
      ++next_plain;
    size_t limit = n;
    if (plain && next_plain < plain->size()) {
      const auto [begin, end] = (*plain)[next_plain];
      if (begin <= i) { // inside plain text: no match starts here
        i = end < n ? end : n;
        continue;
      }
      limit = begin;
    }
    int32_t best = -1;
    size_t best_len = 0;
    if (added_first_byte_[s[i]])
      for (uint32_t a = 0; a < header_->num_added; ++a) {
        std::string_view t = token_bytes(int32_t(added_[a]));
        if (t.size() > best_len && t.size() <= limit - i && std::memcmp(s + i, t.data(), t.size()) == 0) {
          best = int32_t(added_[a]);
          best_len = t.size();
        }
      }
    if (best < 0) {
      ++i;
      continue;
    }
    encode_segment(text.substr(seg, i - seg), ids);
    ids.push_back(best);
    i += best_len;
    seg = i;
  }
  encode_segment(text.substr(seg), ids);
  return true;
}

void Tokenizer::encode_segment(std::string_view text, std::vector<int32_t> &ids) {
  if (text.empty())
    return;
  bool ascii = true;
  for (char c : text)
    ascii &= (unsigned char)c < 0x80;
  std::string normalized;
  if (!ascii) { // ASCII is already in NFC
    utf8proc_uint8_t *out = nullptr;
    utf8proc_ssize_t len = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(text.data()),
                                        utf8proc_ssize_t(text.size()), &out,
                                        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (len >= 0)
      normalized.assign(reinterpret_cast<char *>(out), size_t(len));
    else
      normalized.assign(text); // validated before: cannot happen
    std::free(out);
    text = normalized;
  }
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  cps_.clear();
  classes_.clear();
  std::vector<size_t> starts; // byte offset of each code point
  starts.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    int32_t cp = s[i];
    int len = cp < 0x80 ? 1 : utf8_length_at(s, text.size(), i, cp);
    starts.push_back(i);
    cps_.push_back(cp);
    classes_.push_back(classify(cp));
    i += size_t(len);
  }
  starts.push_back(text.size());
  const size_t n = cps_.size();
  for (size_t i = 0; i < n;) {
    size_t len = match_piece(cps_.data(), classes_.data(), i, n);
    encode_piece(text.substr(starts[i], starts[i + len] - starts[i]), ids);
    i += len;
  }
}

void Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t> &ids) {
  // Words repeat: short pieces are cached (a long one is rarely seen twice,
  // and would make the cache large).
  constexpr size_t kCachedPieceBytes = 64;
  const bool cacheable = piece.size() <= kCachedPieceBytes;
  if (cacheable) {
    auto cached = cache_.find(std::string(piece));
    if (cached != cache_.end()) {
      ids.insert(ids.end(), cached->second.begin(), cached->second.end());
      return;
    }
  }
  const uint32_t mask = header_->merge_slots - 1;
  auto lookup = [&](uint32_t l, uint32_t r) -> const MergeSlot * {
    for (uint32_t h = merge_hash(l, r) & mask;; h = (h + 1) & mask) {
      const MergeSlot &m = merges_[h];
      if (m.left == kNoToken)
        return nullptr;
      if (m.left == l && m.right == r)
        return &m;
    }
  };
  // Hugging Face's order: the lowest-ranked adjacent pair first, the
  // leftmost of equal ranks first, from a heap of candidate pairs keyed by
  // (rank, position of the left symbol): O(n log n) for a piece of n bytes,
  // which may be a whole pasted paragraph without a space.
  const size_t n = piece.size();
  // The symbols as a linked list over the piece's bytes: a merge keeps the
  // left symbol's index and unlinks the right one.
  std::vector<uint32_t> &sym = symbols_, &next = next_, &prev = prev_;
  sym.resize(n);
  next.resize(n);
  prev.resize(n);
  for (size_t i = 0; i < n; ++i) {
    sym[i] = byte_tokens_[static_cast<unsigned char>(piece[i])];
    next[i] = uint32_t(i + 1);
    prev[i] = i ? uint32_t(i - 1) : kNoToken;
  }
  std::vector<PairCandidate> &heap = heap_;
  heap.clear();
  auto push = [&](uint32_t at) {
    if (at == kNoToken || next[at] >= n)
      return;
    if (const MergeSlot *m = lookup(sym[at], sym[next[at]])) {
      heap.push_back({m->rank, at, sym[at], sym[next[at]]});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (size_t i = 0; i + 1 < n; ++i)
    push(uint32_t(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const PairCandidate c = heap.back();
    heap.pop_back();
    // Stale if either symbol has changed since the pair was seen.
    const uint32_t r = next[c.at];
    if (sym[c.at] != c.left || r >= n || sym[r] != c.right)
      continue;
    sym[c.at] = lookup(c.left, c.right)->result;
    sym[r] = kNoToken;
    next[c.at] = next[r];
    if (next[r] < n)
      prev[next[r]] = c.at;
    push(prev[c.at]);
    push(c.at);
  }
  const size_t first = ids.size();
  for (size_t i = 0; i < n; i = next[i])
    ids.push_back(int32_t(sym[i]));
  if (cacheable && cache_.size() < (1u << 16))
    cache_.emplace(std::string(piece), std::vector<int32_t>(ids.begin() + long(first), ids.end()));
}

namespace {
/// Bytes a UTF-8 sequence starting with lead byte c needs, 0 if c cannot lead.
int sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) return 3;
  if (c >= 0xf0 && c <= 0xf4) return 4;
  return 0;
}

/// Moves every complete character of `pending` to the result; with `final`,
/// an incomplete tail becomes U+FFFD too.
std::string drain(std::string &pending, bool final) {
  std::string out;
  const auto *s = reinterpret_cast<const unsigned char *>(pending.data());
  size_t i = 0, n = pending.size();
  while (i < n) {
    int need = sequence_length(s[i]);
    if (need == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (i + size_t(need) > n) {
      // Could still complete: wait, unless a continuation byte is already wrong.
      bool ok = true;
      for (size_t k = i + 1; k < n; ++k)
        ok &= (s[k] & 0xc0) == 0x80;
      if (ok && !final)
        break;
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    int32_t cp;
    int len = utf8_length_at(s, n, i, cp);
    if (len < 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(pending, i, size_t(len));
    i += size_t(len);
  }
  pending.erase(0, i);
  return out;
}
} // namespace

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.token_bytes(id);
  return drain(pending_, false);
}

std::string StreamDecoder::flush() { return drain(pending_, true); }

std::string decode(const Tokenizer &tok, const std::vector<int32_t> &ids) {
  StreamDecoder d(tok);
  std::string out;
  for (int32_t id : ids)
    out += d.push(id);
  return out + d.flush();
}

} // namespace qwenc_rt
