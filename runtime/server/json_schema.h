// Structured output: a JSON schema (or "any JSON object") compiled to a
// byte-level matcher, and the mask of the token ids that can continue it.
//
// Supported: type object (properties, required; no other keys), array
// (items, minItems, maxItems), string, number, integer, boolean, null, a
// list of types, enum, const, anyOf / oneOf, nesting; anything else is
// refused with a message naming it, never ignored. Whitespace between
// tokens is allowed up to 16 bytes a gap, numbers up to 16 digits a part (exponents 2),
// so that every answer can be closed: when the tokens left (max_tokens, the
// context) are about to run out, the answer is finished along the
// shortest completion the matcher knows, so it always parses and validates.
#ifndef QWENC_SERVER_JSON_SCHEMA_H
#define QWENC_SERVER_JSON_SCHEMA_H

#include "../tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qwenc_rt::server {

struct SchemaNode;

/// False if JSON text nests brackets deeper than limit (checked before
/// parsing: parsing and compiling recurse along the nesting).
bool nesting_within(std::string_view text, int limit);

/// A compiled schema: the nodes the matcher walks.
class Schema {
public:
  /// From a schema's JSON text; null + message if it uses what is not
  /// supported (or is malformed).
  static std::shared_ptr<const Schema> compile(const std::string &schema_json, std::string &error);
  /// Any JSON object (response_format json_object).
  static std::shared_ptr<const Schema> any_object();
  ~Schema();
  void shortest_values(); // fills `minimal`; throws on a schema with none
  std::vector<SchemaNode> nodes;
  std::vector<std::string> minimal; // [node]: its shortest value
  /// The most bytes one step can add to a completion: the longest shortest
  /// value of any node (a token that opens one), and a key's punctuation.
  size_t growth = 0;
  int root = 0;
  const std::string &shortest() const { return minimal[size_t(root)]; } // the shortest answer
  int any_node = -1, string_node = -1; // free objects' values and keys
};

/// Where a partial answer is: a set of alternatives (anyOf), each a stack
/// of frames. Copyable; steps allocate only while stacks grow.
class Matcher {
public:
  explicit Matcher(std::shared_ptr<const Schema> schema);
  /// Feeds one byte; false (and the matcher unchanged) if no alternative takes it.
  bool step(uint8_t byte);
  bool step(std::string_view bytes);
  /// A whole value has been read (some alternative is complete).
  bool complete() const;
  /// Bytes that finish the answer from here, the fewest the matcher knows.
  std::string completion() const;
  /// The same into best, with scratch for the alternatives (both reused
  /// step after step).
  void completion(std::string &best, std::string &scratch) const;
  /// Nothing more may follow (every alternative's value is whole).
  bool done() const;

  struct Frame {
    int32_t node;
    uint8_t state;
    uint8_t ws;   // whitespace bytes in the current gap
    uint16_t n;   // digits of a number part, items of an array
    uint32_t len; // bytes of a key or literal read so far; string: see step_stack
    uint64_t mask; // object: properties seen
    uint64_t cand; // object, in a key: the properties it may still be
  };
  using Stack = std::vector<Frame>;
  /// Stacks whose storage is kept when they are cleared or assigned, so
  /// that stepping settles into allocating nothing.
  class Pool {
  public:
    Pool() = default;
    Pool(const Pool &o) { *this = o; }
    Pool &operator=(const Pool &o) {
      n_ = 0;
      for (size_t i = 0; i < o.n_; ++i)
        push(o.v_[i]);
      return *this;
    }
    void push(const Stack &s) {
      if (n_ < v_.size())
        v_[n_] = s;
      else
        v_.push_back(s);
      ++n_;
    }
    void clear() { n_ = 0; }
    void resize(size_t n) { n_ = n; }
    size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    Stack &operator[](size_t i) { return v_[i]; }
    const Stack &operator[](size_t i) const { return v_[i]; }
    Stack *begin() { return v_.data(); }
    Stack *end() { return v_.data() + n_; }
    const Stack *begin() const { return v_.data(); }
    const Stack *end() const { return v_.data() + n_; }
    void swap(Pool &o) {
      v_.swap(o.v_);
      std::swap(n_, o.n_);
    }

  private:
    std::vector<Stack> v_;
    size_t n_ = 0;
  };

private:
  friend class TokenMasker;
  bool step_stack(Stack &s, uint8_t b, Pool &out) const;
  void start(Stack s, int node, Pool &out) const; // push node's frames (anyOf splits)
  void close_stack(const Stack &s, std::string &out) const; // appends s's closing bytes
  const std::string &minimal(int node) const; // the shortest value of a node
  std::shared_ptr<const Schema> schema_;
  Pool alts_, scratch_;
  Stack tmp_;
};

/// The token ids a matcher can take next, over the whole vocabulary: a walk
/// of the trie of the tokens' bytes that leaves a subtree as soon as its
/// prefix is refused, and for free string content a precomputed set (the
/// tokens with no quote, backslash or control byte) plus the few others
/// tried one by one. Built once per tokenizer.
class TokenMasker {
public:
  explicit TokenMasker(const Tokenizer &tok);
  /// allowed[id] = 1 if token id can come next from m, else 0.
  void allowed(const Matcher &m, std::vector<uint8_t> &allowed);
  /// The token of one byte (byte-level BPE has one for every byte).
  int32_t byte_token(uint8_t b) const;

private:
  struct TrieNode {
    uint32_t first_child, num_children; // into children_
    int32_t token;                       // a token ending here, or -1
  };
  void walk(uint32_t node, size_t depth, std::vector<uint8_t> &allowed);
  const Tokenizer &tok_;
  std::vector<TrieNode> nodes_;
  std::vector<std::pair<uint8_t, uint32_t>> children_; // (byte, node)
  std::vector<uint8_t> plain_;  // [id]: a token that stays in free string content
  std::vector<int32_t> special_; // tokens with a quote or backslash there: tried one by one
  std::vector<Matcher> levels_;          // the walk's matcher at each depth (storage reused)
};

/// One answer under a schema: masks each step's logits, or forces the
/// completion when the tokens left would not hold more; the server's engine
/// and the CLI's --json use it alike.
class JsonConstraint {
public:
  JsonConstraint(std::shared_ptr<const Schema> schema, TokenMasker &masker, Tokenizer &tok);
  /// Before sampling: -1 with the logits of every id that cannot come next
  /// set to -inf (eos ids only where the value is whole), or the id the
  /// completion forces (tokens_left: this one included).
  int32_t prepare(float *logits, int vocab, int tokens_left, const int32_t *eos, int num_eos);
  /// After the choice; true once the value is whole and nothing may follow.
  bool accept(int32_t id);

private:
  Matcher m_;
  TokenMasker &masker_;
  Tokenizer &tok_;
  std::vector<uint8_t> allowed_;
  std::vector<int32_t> forced_;
  std::string rest_, scratch_; // this step's completion (reused)
  size_t next_forced_ = 0;
  size_t growth_;
  void force(const std::string &rest); // forced_ = the ids of rest, from its start
  bool forcing_ = false;
};

} // namespace qwenc_rt::server
#endif
