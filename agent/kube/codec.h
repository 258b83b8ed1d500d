// Decoding and encoding helpers shared by every object in agent/kube (internal: include it only from
// .cpp files — it pulls in Boost.JSON).
//
// Each type describes its fields once, for both directions:
//
//   template <class V, class T> requires kube::Is<T, ContainerPort>
//   void visit_fields(V& v, T& o) {
//     v("name", o.name)("hostPort", o.host_port)("containerPort", o.container_port, kAlways);
//   }
//
// A FieldReader fills `o` from a JSON object (unknown members are ignored, null means absent, the
// first type error is kept with its field path); a FieldWriter emits the members with Go's
// `omitempty` rules (kAlways for the members upstream always writes).
// YAML goes through yaml_to_json(), which resolves plain scalars as YAML 1.1 does in upstream's
// sigs.k8s.io/yaml (yes/no/on/off are booleans, 0755 is octal, ...), so a field gets the same value
// and the same type error from YAML as from JSON.
#pragma once

#include <boost/json.hpp>

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/meta.h"
#include "agent/kube/quantity.h"

namespace knode::kube {

namespace json = boost::json;

template <class T, class U>
concept Is = std::is_same_v<std::remove_const_t<T>, U>;

// The current field path and the first error met.
class Decoder {
 public:
  bool ok() const { return !error_.has_value(); }
  const std::string& path() const { return path_; }
  // Records "path: message" unless an error is already recorded.
  void fail(std::string_view message);
  const std::string& error() const { return *error_; }

  // Path scopes: push a member name or an index; pop restores the previous length.
  size_t push(std::string_view key);
  size_t push(size_t index);
  void pop(size_t len) { path_.resize(len); }

 private:
  std::string path_;
  std::optional<std::string> error_;
};

// A short rendering of a JSON value for error messages (`"abc"`, `true`, `{...}`).
std::string describe(const json::value& v);

// --- primitives
void decode_value(Decoder& d, const json::value& v, std::string& out);
void decode_value(Decoder& d, const json::value& v, bool& out);
void decode_value(Decoder& d, const json::value& v, int32_t& out);
void decode_value(Decoder& d, const json::value& v, int64_t& out);
void decode_value(Decoder& d, const json::value& v, Quantity& out);
void decode_value(Decoder& d, const json::value& v, IntOrString& out);
void decode_value(Decoder& d, const json::value& v, RawJson& out);

json::value encode_value(const std::string& v);
json::value encode_value(bool v);
json::value encode_value(int32_t v);
json::value encode_value(int64_t v);
json::value encode_value(const Quantity& v);
json::value encode_value(const IntOrString& v);
json::value encode_value(const RawJson& v);

inline bool is_empty_value(const std::string& v) { return v.empty(); }
inline bool is_empty_value(bool v) { return !v; }
inline bool is_empty_value(int32_t v) { return v == 0; }
inline bool is_empty_value(int64_t v) { return v == 0; }
inline bool is_empty_value(const RawJson& v) { return v.empty(); }
inline bool is_empty_value(const Quantity&) { return false; }
inline bool is_empty_value(const IntOrString&) { return false; }
template <class T> bool is_empty_value(const std::optional<T>& v) { return !v.has_value(); }
template <class T> bool is_empty_value(const std::vector<T>& v) { return v.empty(); }
template <class T> bool is_empty_value(const std::map<std::string, T>& v) { return v.empty(); }

class FieldReader;
class FieldWriter;

template <class T>
concept Described = requires(FieldReader& r, FieldWriter& w, T& t, const T& ct) {
  visit_fields(r, t);
  visit_fields(w, ct);
};
// A described struct is "empty" for omitempty only when it encodes to {} (Go never omits a
// non-pointer struct; we do when it has nothing to say, which keeps output short).
template <Described T> bool is_empty_value(const T& v);

// --- containers
template <class T>
void decode_value(Decoder& d, const json::value& v, std::optional<T>& out) {
  if (v.is_null()) return;
  T t{};
  decode_value(d, v, t);
  out = std::move(t);
}

template <class T>
void decode_value(Decoder& d, const json::value& v, std::vector<T>& out) {
  out.clear();
  if (v.is_null()) return;
  if (!v.is_array()) return d.fail("expected array, got " + describe(v));
  const auto& a = v.get_array();
  out.resize(a.size());
  for (size_t i = 0; i < a.size() && d.ok(); ++i) {
    size_t mark = d.push(i);
    decode_value(d, a[i], out[i]);
    d.pop(mark);
  }
}

template <class T>
void decode_value(Decoder& d, const json::value& v, std::map<std::string, T>& out) {
  out.clear();
  if (v.is_null()) return;
  if (!v.is_object()) return d.fail("expected object, got " + describe(v));
  for (const auto& kv : v.get_object()) {
    if (!d.ok()) return;
    size_t mark = d.push(std::string_view(kv.key()));
    T t{};
    decode_value(d, kv.value(), t);
    out.emplace(std::string(kv.key()), std::move(t));
    d.pop(mark);
  }
}

template <class T> json::value encode_value(const std::optional<T>& v) {
  return v ? encode_value(*v) : json::value(nullptr);
}
template <class T> json::value encode_value(const std::vector<T>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& e : v) a.push_back(encode_value(e));
  return a;
}
template <class T> json::value encode_value(const std::map<std::string, T>& v) {
  json::object o;
  for (const auto& [k, e] : v) o[k] = encode_value(e);
  return o;
}

enum FieldFlag { kOmitEmpty = 0, kAlways = 1 };

// Reads the members of one JSON object into fields.
class FieldReader {
 public:
  FieldReader(Decoder& d, const json::value& v);
  bool ok() const { return obj_ != nullptr && d_.ok(); }

  template <class T>
  FieldReader& operator()(std::string_view key, T& out, FieldFlag = kOmitEmpty) {
    if (!ok()) return *this;
    consumed_.insert(key);
    if (const json::value* m = obj_->if_contains(key)) {
      size_t mark = d_.push(key);
      decode_value(d_, *m, out);
      d_.pop(mark);
    }
    return *this;
  }
  // Keeps every member not named so far (e.g. volume sources the agent does not interpret).
  FieldReader& rest(std::map<std::string, RawJson>& out);
  Decoder& decoder() { return d_; }

 private:
  Decoder& d_;
  const json::object* obj_ = nullptr;
  std::set<std::string_view> consumed_;
};

// Writes fields as members of one JSON object.
class FieldWriter {
 public:
  template <class T>
  FieldWriter& operator()(std::string_view key, const T& v, FieldFlag flag = kOmitEmpty) {
    if (flag == kOmitEmpty && is_empty_value(v)) return *this;
    obj_[key] = encode_value(v);
    return *this;
  }
  FieldWriter& rest(const std::map<std::string, RawJson>& extra);
  json::object take() { return std::move(obj_); }

 private:
  json::object obj_;
};

template <Described T>
void decode_value(Decoder& d, const json::value& v, T& out) {
  if (v.is_null()) return;
  FieldReader r(d, v);
  if (r.ok()) visit_fields(r, out);
}

template <Described T>
json::value encode_value(const T& in) {
  FieldWriter w;
  visit_fields(w, const_cast<const T&>(in));
  return w.take();
}

template <Described T> bool is_empty_value(const T& v) {
  FieldWriter w;
  visit_fields(w, v);
  return w.take().empty();
}

// --- documents

// Parses JSON text; the error names the offset.
Result<json::value> parse_json(std::string_view text);
// Parses the first YAML document and converts it to JSON as sigs.k8s.io/yaml does (YAML 1.1 scalar
// resolution, merge keys, non-string keys stringified); JSON input is valid YAML.
Result<json::value> yaml_to_json(std::string_view text);
// Chooses by the first non-blank character: '{' is JSON, anything else YAML.
Result<json::value> parse_document(std::string_view text);

// Compact JSON text, with Go's encoding/json escaping of <, > and & (\u003c, \u003e, \u0026), so
// annotation values match the ones upstream writes.
std::string to_json_text(const json::value& v);

// Decodes a top-level object. Errors read `<kind> "<ns>/<name>": <path>: <message>`.
struct DecodeOptions {
  std::string_view kind;         // "Pod"
  std::string_view api_version;  // "v1"
  bool require_type_meta = false;  // manifests must say apiVersion and kind
};
Status check_type_meta(const json::value& root, const DecodeOptions& opts);
// The error prefix for an object: `pod "kube-system/etcd"` (name/namespace read from metadata).
std::string object_label(const json::value& root, std::string_view kind);

template <class T>
Result<T> decode_object(const json::value& root, const DecodeOptions& opts) {
  std::string label = object_label(root, opts.kind);
  if (Status s = check_type_meta(root, opts); !s.ok()) return s.error().wrap(label);
  if (!root.is_object()) return Error(label + ": expected a JSON object, got " + describe(root));
  Decoder d;
  T out{};
  decode_value(d, root, out);
  if (!d.ok()) return Error(label + ": " + d.error());
  return out;
}

}  // namespace knode::kube
