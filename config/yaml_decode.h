// Typed decoding of YAML (and JSON) documents into config structs, and encoding back to YAML with
// sorted keys, as upstream's components read and print their configuration files.
//
// A struct opts in by providing, next to it (found by argument-dependent lookup):
//
//   template <class V> void visit_fields(V& v, Webhook& w) {
//     v("enabled", w.enabled);             // std::optional<bool>: null/absent stays unset
//     v("cacheTTL", w.cache_ttl);          // Duration, Go syntax
//     v("verbosity", w.verbosity, kAlways);  // printed even when zero (no `omitempty` upstream)
//   }
//
// The same visitor decodes (FieldDecoder) and encodes (FieldEncoder). Decoding has Go's
// json.Unmarshal semantics: only keys present in the input change the target, maps merge key by
// key, lists are replaced, null leaves the value alone. Unknown and duplicate keys are collected
// (for strict/lenient decoding); the first malformed value stops decoding with an error of the form
// `<file>: <field path>: <problem> "<bad value>"`.
//
// Include this header only from .cpp files that decode: it pulls in yaml-cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/result.h"
#include "config/duration.h"
#include "config/field_flags.h"
#include "config/quantity.h"

namespace knode::config {

// ---- decoding ----

struct DecodeState {
  std::string file;                    // shown first in error messages ("" → omitted)
  std::vector<std::string> unknown;    // paths of keys that are not fields
  std::vector<std::string> duplicate;  // paths of keys given more than once
  std::optional<Error> error;          // the first malformed value

  bool failed() const { return error.has_value(); }
  // Records `<file>: <path>: <problem> "<bad>"` (the first error wins).
  void fail(std::string_view path, std::string_view problem, std::string_view bad);
  // Records `<file>: <path>: <message>` verbatim.
  void fail_message(std::string_view path, std::string_view message);
};

// How a plain (unquoted) YAML scalar resolves, as in YAML 1.1 (go-yaml v2, used by sigs.k8s.io/yaml).
enum class ScalarKind { Null, Bool, Int, Float, String };
ScalarKind scalar_kind(const YAML::Node& n);

std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::string_view index);

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::string& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, bool& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, int32_t& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, int64_t& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, uint32_t& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, double& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, Duration& out);
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, Quantity& out);

class FieldDecoder;

template <class T>
concept Visitable = requires(FieldDecoder& d, T& t) { visit_fields(d, t); };

// Forward declarations, so the field visitors see every overload.
template <Visitable T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, T& out);
template <class T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::optional<T>& out);
template <class T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::vector<T>& out);
template <class T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::map<std::string, T>& out);
struct Tree;
template <Visitable T>
Tree encode_node(const T& v);
template <class T>
Tree encode_node(const std::optional<T>& v);
template <class T>
Tree encode_node(const std::vector<T>& v);
template <class T>
Tree encode_node(const std::map<std::string, T>& v);

// Walks one YAML mapping; each call names a field and the value it decodes into.
class FieldDecoder {
 public:
  FieldDecoder(DecodeState& st, const YAML::Node& mapping, std::string path);

  template <class T>
  FieldDecoder& operator()(std::string_view key, T& out, unsigned /*flags*/ = kOmitEmpty) {
    if (const YAML::Node* n = take(key)) decode_node(st_, *n, child_path(path_, key), out);
    return *this;
  }
  // Marks a key as known without decoding it (apiVersion, kind).
  void known(std::string_view key) { take(key); }
  // Records the keys no call asked for as unknown fields.
  void finish();
  DecodeState& state() { return st_; }
  const std::string& path() const { return path_; }

 private:
  const YAML::Node* take(std::string_view key);

  DecodeState& st_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
  std::vector<bool> used_;
};

// Fails unless n is a mapping; null is accepted (and decodes nothing).
bool expect_mapping(DecodeState& st, const YAML::Node& n, const std::string& path);
bool expect_sequence(DecodeState& st, const YAML::Node& n, const std::string& path);

template <Visitable T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, T& out) {
  if (st.failed() || n.IsNull() || !expect_mapping(st, n, path)) return;
  FieldDecoder d(st, n, path);
  visit_fields(d, out);
  d.finish();
}

template <class T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::optional<T>& out) {
  if (st.failed() || n.IsNull()) return;
  if (!out) out.emplace();
  decode_node(st, n, path, *out);
}

template <class T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::vector<T>& out) {
  if (st.failed() || n.IsNull() || !expect_sequence(st, n, path)) return;
  std::vector<T> items;
  for (size_t i = 0; i < n.size() && !st.failed(); ++i) {
    items.emplace_back();
    decode_node(st, n[i], index_path(path, std::to_string(i)), items.back());
  }
  if (!st.failed()) out = std::move(items);
}

template <class T>
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path,
                 std::map<std::string, T>& out) {
  if (st.failed() || n.IsNull() || !expect_mapping(st, n, path)) return;
  for (auto it = n.begin(); it != n.end() && !st.failed(); ++it) {
    if (!it->first.IsScalar()) {
      st.fail(path, "invalid map key", YAML::Dump(it->first));
      return;
    }
    const std::string key = it->first.Scalar();
    T value{};
    decode_node(st, it->second, index_path(path, key), value);
    out[key] = std::move(value);
  }
}

// ---- encoding ----

// A JSON-shaped value to print.
struct Tree {
  enum class Kind { Null, String, Literal, Map, Seq };
  Kind kind = Kind::Null;
  std::string text;  // String: the text (quoted on output when needed); Literal: number or bool
  std::vector<std::pair<std::string, Tree>> map;
  std::vector<Tree> seq;

  static Tree string(std::string s) { return Tree{Kind::String, std::move(s), {}, {}}; }
  static Tree literal(std::string s) { return Tree{Kind::Literal, std::move(s), {}, {}}; }
  static Tree mapping() { return Tree{Kind::Map, {}, {}, {}}; }
  static Tree sequence() { return Tree{Kind::Seq, {}, {}, {}}; }
};

// YAML as sigs.k8s.io/yaml prints it: keys in go-yaml's order, lists not indented under their key,
// strings quoted only where a plain scalar would read back as something else.
std::string to_yaml(const Tree& t);
// go-yaml v2's map key order (letters before other characters, digit runs compared as numbers).
bool yaml_key_less(std::string_view a, std::string_view b);

Tree encode_node(const std::string& v);
Tree encode_node(bool v);
Tree encode_node(int32_t v);
Tree encode_node(int64_t v);
Tree encode_node(uint32_t v);
Tree encode_node(double v);
Tree encode_node(const Duration& v);
Tree encode_node(const Quantity& v);

inline bool is_empty_value(const std::string& v) { return v.empty(); }
inline bool is_empty_value(bool v) { return !v; }
inline bool is_empty_value(int32_t v) { return v == 0; }
inline bool is_empty_value(int64_t v) { return v == 0; }
inline bool is_empty_value(uint32_t v) { return v == 0; }
inline bool is_empty_value(double v) { return v == 0; }
inline bool is_empty_value(const Duration&) { return false; }  // metav1.Duration is a struct: never omitted
inline bool is_empty_value(const Quantity&) { return false; }  // a struct upstream: never omitted
template <class T>
bool is_empty_value(const std::optional<T>& v) { return !v.has_value(); }
// Go's omitempty leaves out empty slices and maps whether nil or not.
template <class T>
bool is_empty_value(const std::optional<std::vector<T>>& v) { return !v || v->empty(); }
template <class T>
bool is_empty_value(const std::optional<std::map<std::string, T>>& v) { return !v || v->empty(); }
template <class T>
bool is_empty_value(const std::vector<T>& v) { return v.empty(); }
template <class T>
bool is_empty_value(const std::map<std::string, T>& v) { return v.empty(); }
template <Visitable T>
bool is_empty_value(const T&) { return false; }  // Go never omits struct values

class FieldEncoder {
 public:
  explicit FieldEncoder(Tree& out) : out_(out) {}
  template <class T>
  FieldEncoder& operator()(std::string_view key, const T& v, unsigned flags = kOmitEmpty) {
    if (!(flags & kAlways) && is_empty_value(v)) return *this;
    out_.map.emplace_back(std::string(key), encode_node(v));
    return *this;
  }
  void known(std::string_view) {}
  void finish() {}

 private:
  Tree& out_;
};

template <Visitable T>
Tree encode_node(const T& v) {
  Tree t = Tree::mapping();
  FieldEncoder e(t);
  visit_fields(e, const_cast<T&>(v));  // the encoder only reads
  return t;
}
template <class T>
Tree encode_node(const std::optional<T>& v) {
  return v ? encode_node(*v) : Tree{};
}
template <class T>
Tree encode_node(const std::vector<T>& v) {
  Tree t = Tree::sequence();
  for (const auto& x : v) t.seq.push_back(encode_node(x));
  return t;
}
template <class T>
Tree encode_node(const std::map<std::string, T>& v) {
  Tree t = Tree::mapping();
  for (const auto& [k, x] : v) t.map.emplace_back(k, encode_node(x));
  return t;
}

// ---- documents ----

// Parses text (YAML or JSON). Errors: `<file>: <yaml-cpp message>` or `<file>: file is empty`.
Result<YAML::Node> load_yaml(std::string_view text, std::string_view file);
Result<std::string> read_file(const std::string& path);
// Checks apiVersion and kind of a document, e.g. ("kubelet.config.k8s.io/v1beta1",
// "KubeletConfiguration"); the error names the file, the field and the value found.
Status check_type_meta(const YAML::Node& doc, std::string_view file, std::string_view api_version,
                       std::string_view kind);

// Decodes the mapping `doc` into out (apiVersion/kind are accepted as known keys).
template <Visitable T>
DecodeState decode_document(const YAML::Node& doc, std::string_view file, T& out) {
  DecodeState st;
  st.file = std::string(file);
  if (!expect_mapping(st, doc, "")) return st;
  FieldDecoder d(st, doc, "");
  d.known("apiVersion");
  d.known("kind");
  visit_fields(d, out);
  d.finish();
  return st;
}

// Encodes v with apiVersion and kind first-class keys, as YAML.
template <Visitable T>
std::string encode_document(const T& v, std::string_view api_version, std::string_view kind) {
  Tree t = encode_node(v);
  t.map.emplace_back("apiVersion", Tree::string(std::string(api_version)));
  t.map.emplace_back("kind", Tree::string(std::string(kind)));
  return to_yaml(t);
}

}  // namespace knode::config
