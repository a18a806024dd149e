#include "json_schema.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>

namespace qwenc_rt::server {

using json = nlohmann::json;

struct SchemaNode {
  enum Kind : uint8_t { Object, AnyObject, Array, String, Number, Integer, Literal, AnyOf } kind = Literal;
  std::vector<std::pair<std::string, int>> props; // Object: key as JSON text (quotes off), value node
  uint64_t required = 0;
  int items = -1, min_items = 0, max_items = INT_MAX; // Array
  std::string literal;                                // Literal: compact JSON text
  std::vector<int> alts;                              // AnyOf
};

Schema::~Schema() = default;

namespace {

constexpr int kMaxDepth = 32;   // frames on a stack
constexpr int kMaxWs = 16;      // whitespace bytes a gap
constexpr int kMaxDigits = 16;  // digits of an integer or fraction part (an exponent: 2)
constexpr size_t kMaxAlts = 32; // alternatives at once

/// The bit of every property of an object node.
uint64_t all_props(const SchemaNode &n) {
  return n.props.size() == 64 ? ~uint64_t(0) : (uint64_t(1) << n.props.size()) - 1;
}

bool is_ws(uint8_t b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }
bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
bool is_hex(uint8_t b) { return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }

struct SchemaError {
  std::string message;
};

class Compiler {
public:
  Compiler(Schema &s, const json &root) : s_(s), root_(root) {}

  int node(SchemaNode n) {
    s_.nodes.push_back(std::move(n));
    return int(s_.nodes.size()) - 1;
  }
  int literal(const std::string &text) {
    SchemaNode n;
    n.kind = SchemaNode::Literal;
    n.literal = text;
    return node(n);
  }
  /// Any JSON value (nested as deep as the matcher's stack allows).
  int any() {
    if (any_ >= 0)
      return any_;
    SchemaNode alt;
    alt.kind = SchemaNode::AnyOf;
    any_ = node(alt);
    SchemaNode obj, arr, str, num;
    obj.kind = SchemaNode::AnyObject;
    arr.kind = SchemaNode::Array;
    arr.items = any_;
    str.kind = SchemaNode::String;
    num.kind = SchemaNode::Number;
    std::vector<int> alts = {node(obj), node(arr), node(str), node(num), literal("true"), literal("false"),
                             literal("null")};
    s_.nodes[size_t(any_)].alts = alts;
    s_.any_node = any_;
    s_.string_node = alts[2];
    return any_;
  }

  int compile(const json &j, const std::string &at) {
    if (j.is_boolean()) {
      if (!j.get<bool>())
        throw SchemaError{at + ": the schema false admits nothing"};
      return any();
    }
    if (!j.is_object())
      throw SchemaError{at + ": a schema must be an object"};
    static const char *const kIgnored[] = {"title", "description", "$schema", "$id", "default", "examples",
                                           "$comment", "$defs", "definitions", "strict", "name"};
    static const char *const kKnown[] = {"type", "properties", "required", "items", "minItems", "maxItems",
                                         "enum", "const", "anyOf", "oneOf", "additionalProperties", "$ref"};
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string &k = it.key();
      if (std::find(std::begin(kIgnored), std::end(kIgnored), k) == std::end(kIgnored) &&
          std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown))
        throw SchemaError{at + ": '" + k +
                          "' is not supported (supported: type, properties, required, additionalProperties: false, "
                          "items, minItems, maxItems, enum, const, anyOf, oneOf, $ref to $defs)"};
    }
    if (j.contains("$ref"))
      return ref(j["$ref"], at);
    if (j.contains("const"))
      return literal(j["const"].dump(-1, ' ', false, json::error_handler_t::replace));
    if (j.contains("enum")) {
      if (!j["enum"].is_array() || j["enum"].empty())
        throw SchemaError{at + "/enum: must be a non-empty array"};
      SchemaNode n;
      n.kind = SchemaNode::AnyOf;
      for (const json &v : j["enum"])
        n.alts.push_back(literal(v.dump(-1, ' ', false, json::error_handler_t::replace)));
      return node(n);
    }
    for (const char *k : {"anyOf", "oneOf"})
      if (j.contains(k)) {
        if (!j[k].is_array() || j[k].empty())
          throw SchemaError{at + "/" + k + ": must be a non-empty array"};
        SchemaNode n;
        n.kind = SchemaNode::AnyOf;
        int i = 0;
        for (const json &sub : j[k])
          n.alts.push_back(compile(sub, at + "/" + k + "/" + std::to_string(i++)));
        return node(n);
      }
    if (!j.contains("type")) {
      if (j.contains("properties"))
        return object(j, at);
      if (j.contains("items"))
        return array(j, at);
      return any();
    }
    const json &t = j["type"];
    if (t.is_array()) {
      SchemaNode n;
      n.kind = SchemaNode::AnyOf;
      for (const json &one : t) {
        json copy = j;
        copy["type"] = one;
        n.alts.push_back(compile(copy, at));
      }
      if (n.alts.empty())
        throw SchemaError{at + "/type: an empty list"};
      return node(n);
    }
    if (!t.is_string())
      throw SchemaError{at + "/type: must be a string or a list of strings"};
    const std::string type = t.get<std::string>();
    SchemaNode n;
    if (type == "object")
      return object(j, at);
    if (type == "array")
      return array(j, at);
    if (type == "string")
      n.kind = SchemaNode::String;
    else if (type == "number")
      n.kind = SchemaNode::Number;
    else if (type == "integer")
      n.kind = SchemaNode::Integer;
    else if (type == "boolean") {
      n.kind = SchemaNode::AnyOf;
      n.alts = {literal("true"), literal("false")};
    } else if (type == "null")
      return literal("null");
    else
      throw SchemaError{at + "/type: unknown type '" + type + "'"};
    return node(n);
  }

private:
  int object(const json &j, const std::string &at) {
    const bool has_props = j.contains("properties");
    const json ap = j.value("additionalProperties", json(nullptr));
    if (!has_props && !(ap.is_boolean() && !ap.get<bool>())) {
      if (j.contains("required") && !j["required"].empty())
        throw SchemaError{at + ": 'required' needs 'properties'"};
      any(); // its keys' and values' nodes
      SchemaNode n;
      n.kind = SchemaNode::AnyObject;
      return node(n);
    }
    if (!ap.is_null() && !(ap.is_boolean() && !ap.get<bool>()))
      throw SchemaError{at + "/additionalProperties: only false is supported with 'properties'"};
    SchemaNode n;
    n.kind = SchemaNode::Object;
    const int id = node(n);
    if (has_props) {
      const json &props = j["properties"];
      if (!props.is_object())
        throw SchemaError{at + "/properties: must be an object"};
      if (props.size() > 64)
        throw SchemaError{at + "/properties: more than 64 properties"};
      for (auto it = props.begin(); it != props.end(); ++it) {
        std::string key = json(it.key()).dump(-1, ' ', false, json::error_handler_t::replace);
        const int value = compile(it.value(), at + "/properties/" + it.key());
        s_.nodes[size_t(id)].props.emplace_back(key.substr(1, key.size() - 2), value);
      }
    }
    if (j.contains("required")) {
      if (!j["required"].is_array())
        throw SchemaError{at + "/required: must be an array of names"};
      for (const json &r : j["required"]) {
        const auto &props = s_.nodes[size_t(id)].props;
        std::string key = r.is_string() ? json(r.get<std::string>()).dump() : "";
        size_t i = 0;
        while (i < props.size() && (key.size() < 2 || props[i].first != key.substr(1, key.size() - 2)))
          ++i;
        if (i == props.size())
          throw SchemaError{at + "/required: '" + (r.is_string() ? r.get<std::string>() : r.dump()) +
                            "' is not one of the properties"};
        s_.nodes[size_t(id)].required |= uint64_t(1) << i;
      }
    }
    return id;
  }

  int array(const json &j, const std::string &at) {
    SchemaNode n;
    n.kind = SchemaNode::Array;
    const int id = node(n);
    const int items = j.contains("items") ? compile(j["items"], at + "/items") : any();
    SchemaNode &a = s_.nodes[size_t(id)];
    a.items = items;
    for (const char *k : {"minItems", "maxItems"})
      if (j.contains(k) && (!j[k].is_number_integer() || j[k].get<long long>() < 0 || j[k].get<long long>() > 4096))
        throw SchemaError{at + "/" + k + ": must be an integer from 0 to 4096"};
    a.min_items = j.value("minItems", 0);
    a.max_items = j.value("maxItems", INT_MAX);
    if (a.min_items > a.max_items)
      throw SchemaError{at + ": minItems is more than maxItems"};
    return id;
  }

  int ref(const json &r, const std::string &at) {
    if (!r.is_string())
      throw SchemaError{at + "/$ref: must be a string"};
    const std::string path = r.get<std::string>();
    auto done = refs_.find(path);
    if (done != refs_.end())
      return done->second;
    std::string section, name;
    for (const char *prefix : {"#/$defs/", "#/definitions/"})
      if (path.rfind(prefix, 0) == 0)
        section = std::string(prefix).substr(2, std::string(prefix).size() - 3), name = path.substr(std::strlen(prefix));
    if (section.empty() || !root_.contains(section) || !root_[section].contains(name))
      throw SchemaError{at + "/$ref: '" + path + "' is not a definition in $defs or definitions"};
    // A node for it before its body, so that recursion refers to it.
    SchemaNode n;
    n.kind = SchemaNode::AnyOf;
    const int id = node(n);
    refs_[path] = id;
    const int body = compile(root_[section][name], path.substr(1));
    s_.nodes[size_t(id)].alts = {body};
    return id;
  }

  Schema &s_;
  const json &root_;
  int any_ = -1;
  std::map<std::string, int> refs_;
};

} // namespace

bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (ch == '\\')
        escaped = true;
      else if (ch == '"')
        in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > limit)
        return false;
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
  return true;
}

std::shared_ptr<const Schema> Schema::compile(const std::string &text, std::string &error) {
  if (!nesting_within(text, 64)) { // compiling recurses along the nesting
    error = "the schema nests deeper than 64 levels";
    return nullptr;
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    error = "the schema is not valid JSON";
    return nullptr;
  }
  auto s = std::make_shared<Schema>();
  try {
    Compiler c(*s, j);
    s->root = c.compile(j, "schema");
    s->shortest_values();
  } catch (const SchemaError &e) {
    error = e.message;
    return nullptr;
  }
  return s;
}

/// Each node's shortest value, by relaxation to a fixed point (recursive
/// $refs make the nodes a graph): no recursion, so no schema can make it
/// deep or exponential; a node with no finite value, or one longer than
/// 64 KiB, makes the schema refused.
void Schema::shortest_values() {
  constexpr size_t kMost = 64u << 10;
  const size_t n = nodes.size();
  minimal.assign(n, std::string());
  std::vector<bool> known(n, false);
  for (size_t round = 0; round <= n; ++round) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      const SchemaNode &node = nodes[i];
      std::string v;
      bool ok = true;
      switch (node.kind) {
      case SchemaNode::Literal: v = node.literal; break;
      case SchemaNode::String: v = "\"\""; break;
      case SchemaNode::Number:
      case SchemaNode::Integer: v = "0"; break;
      case SchemaNode::AnyObject: v = "{}"; break;
      case SchemaNode::Object:
        v = "{";
        for (size_t p = 0; p < node.props.size() && ok; ++p)
          if (node.required >> p & 1) {
            const int child = node.props[p].second;
            ok = known[size_t(child)];
            if (ok)
              v += std::string(v.size() > 1 ? "," : "") + "\"" + node.props[p].first + "\":" + minimal[size_t(child)];
          }
        v += "}";
        break;
      case SchemaNode::Array:
        v = "[";
        ok = node.min_items == 0 || known[size_t(node.items)];
        for (int k = 0; ok && k < node.min_items && v.size() <= kMost; ++k)
          v += (k ? "," : "") + minimal[size_t(node.items)];
        v += "]";
        break;
      case SchemaNode::AnyOf:
        ok = false;
        for (int alt : node.alts)
          if (known[size_t(alt)] && (!ok || minimal[size_t(alt)].size() < v.size()))
            v = minimal[size_t(alt)], ok = true;
        break;
      }
      if (!ok || (known[i] && v.size() >= minimal[i].size()))
        continue;
      if (v.size() > kMost)
        throw SchemaError{"schema: its shortest value is longer than 64 KiB (minItems)"};
      minimal[i] = std::move(v);
      known[i] = true;
      changed = true;
    }
    if (!changed)
      break;
  }
  if (!known[size_t(root)])
    throw SchemaError{"schema: it admits no finite value (a required property or item that contains itself)"};
  growth = 0;
  for (const std::string &v : minimal)
    growth = std::max(growth, v.size());
  growth += 4; // and a key's quotes, colon and comma
}

std::shared_ptr<const Schema> Schema::any_object() {
  auto s = std::make_shared<Schema>();
  json j = json::object();
  Compiler c(*s, j);
  SchemaNode obj;
  obj.kind = SchemaNode::AnyObject;
  c.any(); // the values' node
  s->root = c.node(obj);
  s->shortest_values();
  return s;
}

// ---- Matcher ----

Matcher::Matcher(std::shared_ptr<const Schema> schema) : schema_(std::move(schema)) {
  start(Stack(), schema_->root, alts_);
}

void Matcher::start(Stack s, int node, Pool &out) const {
  const SchemaNode &n = schema_->nodes[size_t(node)];
  if (n.kind == SchemaNode::AnyOf) {
    for (int alt : n.alts)
      start(s, alt, out);
    return;
  }
  if (s.size() >= size_t(kMaxDepth))
    return; // deeper than the stack allows: this alternative is out
  s.push_back(Frame{node, 0, 0, 0, 0, 0, 0});
  out.push(s);
}

bool Matcher::step_stack(Stack &s, uint8_t b, Pool &out) const {
  const std::vector<SchemaNode> &nodes = schema_->nodes;
  while (!s.empty()) {
    Frame &f = s.back();
    const SchemaNode &n = nodes[size_t(f.node)];
    auto stay = [&]() { // b taken, the frame where it is
      out.push(s);
      return true;
    };
    auto to = [&](int next) { // b taken, the frame in state next
      f.state = uint8_t(next);
      return stay();
    };
    auto gap = [&]() { // whitespace in a gap that allows it
      if (!is_ws(b) || f.ws >= kMaxWs)
        return false;
      ++f.ws;
      return stay();
    };
    // A value starts with b: the frame moves to `next`, the child takes b.
    auto value = [&](int child, uint8_t next) {
      f.ws = 0;
      f.state = next;
      Pool starts;
      start(s, child, starts);
      bool any = false;
      for (Stack &t : starts)
        any = step_stack(t, b, out) || any;
      return any;
    };
    auto done = [&]() { // the frame's value is whole
      s.pop_back();
      return stay();
    };
    switch (n.kind) {
    case SchemaNode::Literal:
      if (f.len < n.literal.size() && uint8_t(n.literal[f.len]) == b) {
        if (++f.len == n.literal.size())
          return done();
        return stay();
      }
      return false;
    case SchemaNode::String:
      switch (f.state) {
      case 0:
        if (b != '"')
          return false;
        return to(1);
      case 1: // content; n: UTF-8 continuation bytes due, len: the next one's range (lo | hi << 8)
        if (f.n > 0) {
          if (b < (f.len & 0xff) || b > (f.len >> 8))
            return false;
          --f.n;
          f.len = 0x80 | 0xbf << 8;
        } else if (b == '"') {
          return done();
        } else if (b < 0x20) {
          return false;
        } else if (b == '\\') {
          f.state = 2;
        } else if (b >= 0x80) { // a UTF-8 lead byte, as JSON parsers check it
          int due = 0, lo = 0x80, hi = 0xbf;
          if (b >= 0xc2 && b <= 0xdf)
            due = 1;
          else if (b >= 0xe0 && b <= 0xef)
            due = 2, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
          else if (b >= 0xf0 && b <= 0xf4)
            due = 3, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
          else
            return false;
          f.n = uint16_t(due);
          f.len = uint32_t(lo | hi << 8);
        }
        return stay();
      case 2:
        if (b == 'u')
          f.state = 3, f.n = 0, f.len = 0;
        else if (std::string_view("\"\\/bfnrt").find(char(b)) != std::string_view::npos)
          f.state = 1, f.n = 0;
        else
          return false;
        return stay();
      case 5: // after a high surrogate: its low one, \uDC00-\uDFFF
        if (b != '\\')
          return false;
        return to(6);
      case 6:
        if (b != 'u')
          return false;
        f.state = 7, f.n = 0, f.len = 0;
        return stay();
      default: { // 3: \u, 7: the low surrogate's \u; n hex digits read, len their value
        if (!is_hex(b))
          return false;
        f.len = f.len * 16 + uint32_t(is_digit(b) ? b - '0' : (b | 0x20) - 'a' + 10);
        ++f.n;
        const bool low = f.state == 7;
        if (f.n == 1 && low && f.len != 0xd)
          return false;
        if (f.n == 2 && (low ? !(f.len >= 0xdc && f.len <= 0xdf) : (f.len >= 0xdc && f.len <= 0xdf)))
          return false; // a low surrogate must follow a high one, and only there
        if (f.n == 4) {
          const bool high = !low && f.len >= 0xd800 && f.len <= 0xdbff;
          f.state = high ? 5 : 1;
          f.n = 0;
        }
        return stay();
      }
      }
    case SchemaNode::Number:
    case SchemaNode::Integer: {
      // 0 start, 1 after '-', 2 integer digits, 3 a lone 0, 4 after '.',
      // 5 fraction digits, 6 after e, 7 after its sign, 8 exponent digits.
      const bool real = n.kind == SchemaNode::Number;
      auto digit = [&](uint8_t next) {
        // Exponents of two digits at most: every value stays a finite double.
        if (f.state == next && f.n >= (next == 8 ? 2 : kMaxDigits))
          return false;
        f.n = f.state == next ? f.n + 1 : 1;
        return to(next);
      };
      switch (f.state) {
      case 0:
        if (b == '-')
          return to(1);
        [[fallthrough]];
      case 1:
        if (b == '0')
          return to(3);
        return b >= '1' && b <= '9' ? digit(2) : false;
      case 2:
      case 3:
        if (f.state == 2 && is_digit(b))
          return digit(2);
        if (real && b == '.')
          return to(4);
        if (real && (b == 'e' || b == 'E'))
          return to(6);
        break; // the number ends: b is the parent's
      case 4:
        return is_digit(b) ? digit(5) : false;
      case 5:
        if (is_digit(b))
          return digit(5);
        if (b == 'e' || b == 'E')
          return to(6);
        break;
      case 6:
        if (b == '+' || b == '-')
          return to(7);
        [[fallthrough]];
      case 7:
        return is_digit(b) ? digit(8) : false;
      case 8:
        if (is_digit(b))
          return digit(8);
        break;
      }
      s.pop_back(); // ended; the byte goes to the frame below
      continue;
    }
    case SchemaNode::Object:
    case SchemaNode::AnyObject: {
      const bool any = n.kind == SchemaNode::AnyObject;
      const uint64_t all = all_props(n);
      const bool closable = (n.required & ~f.mask) == 0;
      switch (f.state) {
      case 0:
        if (b != '{')
          return false;
        return to(1);
      case 1: // after '{': a key, or '}'
      case 6: // after ',': a key
        if (gap())
          return true;
        if (b == '}' && f.state == 1 && closable)
          return done();
        if (b != '"')
          return false;
        f.ws = 0;
        if (any) // a free key: a string frame takes the quote, then ':'
          return value(schema_->string_node, 3);
        if ((all & ~f.mask) == 0)
          return false;
        f.state = 2, f.len = 0;
        f.cand = all & ~f.mask; // a key not seen yet
        return stay();
      case 2: { // in a key: candidates narrow byte by byte
        const uint64_t cand = f.cand;
        uint64_t keep = 0;
        int exact = -1;
        for (size_t i = 0; i < n.props.size(); ++i) {
          if (!(cand >> i & 1))
            continue;
          const std::string &k = n.props[i].first;
          if (b == '"' && k.size() == f.len)
            exact = int(i);
          else if (f.len < k.size() && uint8_t(k[f.len]) == b)
            keep |= uint64_t(1) << i;
        }
        if (exact >= 0) {
          f.state = 3;
          f.n = uint16_t(exact);
          f.mask |= uint64_t(1) << exact;
          f.cand = 0;
          return stay();
        }
        if (!keep)
          return false;
        f.cand = keep;
        ++f.len;
        return stay();
      }
      case 3: // after the key: ':'
        if (gap())
          return true;
        if (b != ':')
          return false;
        f.ws = 0;
        return to(4);
      case 4: // the value
        if (gap())
          return true;
        return value(any ? schema_->any_node : n.props[f.n].second, 5);
      case 5: // after a value: ',' or '}'
        if (gap())
          return true;
        if (b == '}' && closable)
          return done();
        if (b == ',' && (any || (all & ~f.mask) != 0)) {
          f.ws = 0;
          return to(6);
        }
        return false;
      }
      return false;
    }
    case SchemaNode::Array:
      switch (f.state) {
      case 0:
        if (b != '[')
          return false;
        return to(1);
      case 1: // after '[': an item or ']'
      case 3: // after ',': an item
        if (gap())
          return true;
        if (b == ']' && f.state == 1 && n.min_items == 0)
          return done();
        if (f.n >= n.max_items)
          return false;
        ++f.n;
        return value(n.items, 2);
      case 2: // after an item: ',' or ']'
        if (gap())
          return true;
        if (b == ']' && f.n >= n.min_items)
          return done();
        if (b == ',' && f.n < n.max_items) {
          f.ws = 0;
          return to(3);
        }
        return false;
      }
      return false;
    case SchemaNode::AnyOf:
      return false; // never a frame
    }
  }
  return false; // the value is whole: nothing may follow
}

bool Matcher::step(uint8_t byte) {
  scratch_.clear();
  for (const Stack &s : alts_) {
    tmp_ = s;
    step_stack(tmp_, byte, scratch_);
  }
  if (scratch_.empty())
    return false;
  // Alternatives that became the same are one.
  Pool &next = scratch_;
  size_t kept = 0;
  for (size_t i = 0; i < next.size() && kept < kMaxAlts; ++i) {
    bool dup = false;
    for (size_t k = 0; k < kept && !dup; ++k)
      dup = next[k].size() == next[i].size() &&
            std::equal(next[k].begin(), next[k].end(), next[i].begin(), [](const Frame &a, const Frame &c) {
              return a.node == c.node && a.state == c.state && a.ws == c.ws && a.n == c.n && a.len == c.len &&
                     a.mask == c.mask && a.cand == c.cand;
            });
    if (!dup) {
      if (kept != i)
        next[kept].swap(next[i]);
      ++kept;
    }
  }
  next.resize(kept);
  alts_.swap(scratch_);
  return true;
}

bool Matcher::step(std::string_view bytes) {
  for (char c : bytes)
    if (!step(uint8_t(c)))
      return false;
  return true;
}

bool Matcher::complete() const {
  for (const Stack &s : alts_) {
    if (s.empty())
      return true;
    if (s.size() == 1) {
      const Frame &f = s[0];
      const SchemaNode &n = schema_->nodes[size_t(f.node)];
      if ((n.kind == SchemaNode::Number || n.kind == SchemaNode::Integer) &&
          (f.state == 2 || f.state == 3 || f.state == 5 || f.state == 8))
        return true;
    }
  }
  return false;
}

std::string Matcher::completion() const {
  std::string best, scratch;
  completion(best, scratch);
  return best;
}

void Matcher::completion(std::string &best, std::string &scratch) const {
  best.clear();
  bool have = false;
  for (const Stack &s : alts_) {
    scratch.clear();
    close_stack(s, scratch);
    if (!have || scratch.size() < best.size())
      best.swap(scratch), have = true;
  }
}

const std::string &Matcher::minimal(int node) const { return schema_->minimal[size_t(node)]; }

void Matcher::close_stack(const Stack &s, std::string &out) const {
  for (size_t i = s.size(); i-- > 0;) {
    const Frame &f = s[i];
    const SchemaNode &n = schema_->nodes[size_t(f.node)];
    switch (n.kind) {
    case SchemaNode::Literal:
      out += n.literal.substr(f.len);
      break;
    case SchemaNode::String:
      if (f.state == 0) {
        out += "\"\"";
      } else if (f.state == 1) {
        if (f.n > 0) // the smallest continuation bytes that finish the character
          out += char(f.len & 0xff) + std::string(f.n - 1, char(0x80));
        out += "\"";
      } else if (f.state == 2) {
        out += "n\"";
      } else if (f.state == 3) {
        uint32_t v = f.len;
        for (int k = f.n; k < 4; ++k)
          v *= 16;
        out += std::string(size_t(4 - f.n), '0') + (v >= 0xd800 && v <= 0xdbff ? "\\udc00\"" : "\"");
      } else if (f.state == 5 || f.state == 6) {
        out += (f.state == 5 ? "\\udc00\"" : "udc00\"");
      } else { // 7
        out += std::string("dc00").substr(size_t(f.n)) + "\"";
      }
      break;
    case SchemaNode::Number:
    case SchemaNode::Integer:
      if (f.state == 0 || f.state == 1 || f.state == 4 || f.state == 6 || f.state == 7)
        out += "0";
      break;
    case SchemaNode::AnyObject: {
      const std::string value = minimal(schema_->any_node);
      out += f.state == 0 ? "{}" : f.state == 3 ? ":" + value + "}" : f.state == 4 ? value + "}"
                        : f.state == 6 ? "\"\":" + value + "}" : "}";
      break;
    }
    case SchemaNode::Object: {
      if (f.state == 0) {
        out += minimal(f.node);
        break;
      }
      uint64_t seen = f.mask;
      bool comma = f.state != 1 && f.state != 6;
      auto property = [&](size_t p, size_t from) { // the rest of property p's key, then its value
        out += n.props[p].first.substr(from) + "\":" + minimal(n.props[p].second);
        seen |= uint64_t(1) << p;
        comma = true;
      };
      auto pick = [&](uint64_t among) { // a required one if any
        for (size_t p = 0; p < n.props.size(); ++p)
          if ((among & n.required) >> p & 1)
            return p;
        for (size_t p = 0; p < n.props.size(); ++p)
          if (among >> p & 1)
            return p;
        return size_t(0);
      };
      if (f.state == 2)
        property(pick(f.cand), f.len);
      else if (f.state == 3)
        out += ":" + minimal(n.props[f.n].second);
      else if (f.state == 4)
        out += minimal(n.props[f.n].second);
      else if (f.state == 6) {
        const uint64_t all = all_props(n);
        out += "\"";
        property(pick(all & ~seen), 0);
      }
      for (size_t p = 0; p < n.props.size(); ++p)
        if ((n.required & ~seen) >> p & 1) {
          out += comma ? ",\"" : "\"";
          property(p, 0);
        }
      out += "}";
      break;
    }
    case SchemaNode::Array: {
      if (f.state == 0) {
        out += minimal(f.node);
        break;
      }
      int count = f.n;
      const std::string item = minimal(n.items);
      if (f.state == 3)
        out += item, ++count;
      for (; count < n.min_items; ++count)
        out += (count ? "," : "") + item;
      out += "]";
      break;
    }
    case SchemaNode::AnyOf:
      break;
    }
  }
}

// ---- TokenMasker ----

TokenMasker::TokenMasker(const Tokenizer &tok) : tok_(tok) {
  // The trie of every ordinary token's bytes (control tokens never match).
  std::vector<std::vector<std::pair<uint8_t, uint32_t>>> kids(1);
  std::vector<int32_t> token(1, -1);
  for (int32_t id = 0; id < tok.num_ids(); ++id) {
    if (!tok.is_valid(id) || tok.is_special(id))
      continue;
    const std::string_view b = tok.token_bytes(id);
    if (b.empty())
      continue;
    // In string content: plain tokens stay there; a control byte before any
    // quote or backslash is never valid there; the rest are tried.
    std::string why;
    int kind = check_utf8(b, why) ? 0 : 1; // 0 plain, 1 to try, 2 never
    bool special_seen = false;
    uint32_t at = 0;
    for (char ch : b) {
      const uint8_t c = uint8_t(ch);
      if (!special_seen && (c == '"' || c == '\\'))
        kind = 1, special_seen = true;
      else if (!special_seen && c < 0x20)
        kind = 2, special_seen = true;
      uint32_t next = 0;
      for (const auto &[byte, child] : kids[at])
        if (byte == c)
          next = child;
      if (!next) {
        next = uint32_t(kids.size());
        kids[at].emplace_back(c, next);
        kids.emplace_back();
        token.push_back(-1);
      }
      at = next;
    }
    token[at] = id;
    if (kind == 1)
      special_.push_back(id);
    if (plain_.size() <= size_t(id))
      plain_.resize(size_t(id) + 1, 0);
    plain_[size_t(id)] = kind == 0;
  }
  plain_.resize(size_t(tok.num_ids()), 0);
  nodes_.resize(kids.size());
  for (size_t i = 0; i < kids.size(); ++i) {
    std::sort(kids[i].begin(), kids[i].end());
    nodes_[i] = TrieNode{uint32_t(children_.size()), uint32_t(kids[i].size()), token[i]};
    children_.insert(children_.end(), kids[i].begin(), kids[i].end());
  }
}

int32_t TokenMasker::byte_token(uint8_t b) const {
  const TrieNode &root = nodes_[0];
  for (uint32_t k = 0; k < root.num_children; ++k)
    if (children_[root.first_child + k].first == b)
      return nodes_[children_[root.first_child + k].second].token;
  return -1;
}

void TokenMasker::walk(uint32_t node, size_t depth, std::vector<uint8_t> &allowed) {
  if (levels_.size() <= depth + 1)
    levels_.resize(depth + 2, levels_[0]);
  const TrieNode &t = nodes_[node];
  for (uint32_t k = 0; k < t.num_children; ++k) {
    const auto [byte, child] = children_[t.first_child + k];
    Matcher &next = levels_[depth + 1];
    next.alts_ = levels_[depth].alts_;
    if (!next.step(byte))
      continue;
    if (nodes_[child].token >= 0)
      allowed[size_t(nodes_[child].token)] = 1;
    walk(child, depth + 1, allowed);
  }
}

void TokenMasker::allowed(const Matcher &m, std::vector<uint8_t> &allowed) {
  std::fill(allowed.begin(), allowed.end(), 0);
  if (levels_.empty() || levels_[0].schema_ != m.schema_)
    levels_.assign(1, m);
  else
    levels_[0].alts_ = m.alts_;
  // Inside free string content every token of plain bytes stays there.
  bool in_string = !m.alts_.empty();
  for (const Matcher::Stack &s : m.alts_)
    in_string = in_string && !s.empty() && m.schema_->nodes[size_t(s.back().node)].kind == SchemaNode::String &&
                s.back().state == 1 && s.back().n == 0;
  if (in_string) {
    std::copy(plain_.begin(), plain_.end(), allowed.begin());
    Matcher &t = levels_.size() > 1 ? levels_[1] : (levels_.resize(2, m), levels_[1]);
    for (int32_t id : special_) {
      t.alts_ = m.alts_;
      if (t.step(tok_.token_bytes(id)))
        allowed[size_t(id)] = 1;
    }
    return;
  }
  walk(0, 0, allowed);
}

bool Matcher::done() const {
  for (const Stack &s : alts_)
    if (!s.empty())
      return false;
  return true;
}

JsonConstraint::JsonConstraint(std::shared_ptr<const Schema> schema, TokenMasker &masker, Tokenizer &tok)
    : m_(schema), masker_(masker), tok_(tok), growth_(schema->growth) {}

void JsonConstraint::force(const std::string &rest) {
  forced_.clear();
  std::string error;
  if (!tok_.encode(rest, forced_, error)) { // it finishes a character: byte tokens
    forced_.clear();
    for (char c : rest)
      forced_.push_back(masker_.byte_token(uint8_t(c)));
  }
  next_forced_ = 0;
}

int32_t JsonConstraint::prepare(float *logits, int vocab, int tokens_left, const int32_t *eos, int num_eos) {
  if (!forcing_) {
    // Finish along the shortest completion once the tokens left would
    // not hold it after one more free step (which may add up to growth_
    // bytes to it).
    m_.completion(rest_, scratch_);
    if (!rest_.empty() && rest_.size() + growth_ + 1 >= size_t(tokens_left)) {
      force(rest_);
      forcing_ = forced_.size() + growth_ + 1 >= size_t(tokens_left);
    }
  }
  if (forcing_ && next_forced_ < forced_.size())
    return forced_[next_forced_++];
  if (forcing_ && m_.complete() && num_eos > 0)
    return eos[0];
  allowed_.resize(size_t(tok_.num_ids()));
  masker_.allowed(m_, allowed_);
  if (m_.complete())
    for (int k = 0; k < num_eos; ++k)
      if (eos[k] >= 0 && eos[k] < tok_.num_ids())
        allowed_[size_t(eos[k])] = 1;
  bool any = false;
  for (int i = 0; i < vocab; ++i) {
    const bool ok = i < tok_.num_ids() && allowed_[size_t(i)];
    logits[i] = ok ? logits[i] : -INFINITY;
    any = any || ok;
  }
  if (!any) { // cannot happen with byte tokens for every byte; finish rather than stray
    m_.completion(rest_, scratch_);
    force(rest_);
    forcing_ = true;
    return next_forced_ < forced_.size() ? forced_[next_forced_++] : (num_eos > 0 ? eos[0] : 0);
  }
  return -1;
}

bool JsonConstraint::accept(int32_t id) {
  if (!tok_.is_special(id))
    m_.step(tok_.token_bytes(id));
  return m_.done();
}

} // namespace qwenc_rt::server
