#include "agent/kube/codec.h"

#include <fmt/format.h>
// yaml-cpp 0.7's headers trip g++ 12's -Wdangling-pointer; not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace knode::kube {

// ---------------------------------------------------------------- Decoder

void Decoder::fail(std::string_view message) {
  if (error_) return;
  error_ = path_.empty() ? std::string(message) : path_ + ": " + std::string(message);
}

size_t Decoder::push(std::string_view key) {
  size_t mark = path_.size();
  if (!path_.empty()) path_ += '.';
  path_ += key;
  return mark;
}

size_t Decoder::push(size_t index) {
  size_t mark = path_.size();
  path_ += fmt::format("[{}]", index);
  return mark;
}

std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::string: {
      std::string s = json::serialize(v);
      if (s.size() > 64) s = s.substr(0, 60) + "...\"";
      return s;
    }
    default: return json::serialize(v);
  }
}

// ---------------------------------------------------------------- primitives

void decode_value(Decoder& d, const json::value& v, std::string& out) {
  if (v.is_null()) return;
  if (!v.is_string()) return d.fail("expected string, got " + describe(v));
  out = std::string(v.get_string());
}

void decode_value(Decoder& d, const json::value& v, bool& out) {
  if (v.is_null()) return;
  if (!v.is_bool()) return d.fail("expected boolean, got " + describe(v));
  out = v.get_bool();
}

namespace {
template <class Int>
void decode_int(Decoder& d, const json::value& v, Int& out, const char* what) {
  if (v.is_null()) return;
  if (v.is_int64()) {
    int64_t x = v.get_int64();
    if (x < std::numeric_limits<Int>::min() || x > std::numeric_limits<Int>::max())
      return d.fail(fmt::format("expected {}, got {} (out of range)", what, x));
    out = static_cast<Int>(x);
    return;
  }
  if (v.is_uint64()) return d.fail(fmt::format("expected {}, got {} (out of range)", what, v.get_uint64()));
  d.fail(fmt::format("expected {}, got {}", what, describe(v)));
}

std::string double_text(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}
}  // namespace

void decode_value(Decoder& d, const json::value& v, int32_t& out) { decode_int(d, v, out, "integer"); }
void decode_value(Decoder& d, const json::value& v, int64_t& out) { decode_int(d, v, out, "integer"); }

void decode_value(Decoder& d, const json::value& v, Quantity& out) {
  std::string text;
  if (v.is_null()) return;
  if (v.is_string()) text = std::string(v.get_string());
  else if (v.is_int64()) text = std::to_string(v.get_int64());
  else if (v.is_uint64()) text = std::to_string(v.get_uint64());
  else if (v.is_double()) text = double_text(v.get_double());
  else return d.fail("expected quantity, got " + describe(v));
  auto q = Quantity::parse(text);
  if (!q.ok()) return d.fail(q.error().message());
  out = std::move(*q);
}

void decode_value(Decoder& d, const json::value& v, IntOrString& out) {
  if (v.is_null()) return;
  if (v.is_string()) { out = IntOrString::of(std::string(v.get_string())); return; }
  int32_t i = 0;
  if (v.is_int64() || v.is_uint64()) {
    decode_int(d, v, i, "integer or string");
    out = IntOrString::of(i);
    return;
  }
  d.fail("expected integer or string, got " + describe(v));
}

void decode_value(Decoder&, const json::value& v, RawJson& out) {
  if (v.is_null()) { out.text.clear(); return; }
  out.text = json::serialize(v);
}

json::value encode_value(const std::string& v) { return json::value(v); }
json::value encode_value(bool v) { return json::value(v); }
json::value encode_value(int32_t v) { return json::value(static_cast<int64_t>(v)); }
json::value encode_value(int64_t v) { return json::value(v); }
json::value encode_value(const Quantity& v) { return json::value(v.text()); }
json::value encode_value(const IntOrString& v) {
  return v.is_int() ? json::value(static_cast<int64_t>(v.int_val)) : json::value(v.str_val);
}
json::value encode_value(const RawJson& v) {
  if (v.text.empty()) return nullptr;
  boost::system::error_code ec;
  json::value out = json::parse(v.text, ec);
  return ec ? json::value(nullptr) : out;
}

// ---------------------------------------------------------------- objects

FieldReader::FieldReader(Decoder& d, const json::value& v) : d_(d) {
  if (v.is_object()) obj_ = &v.get_object();
  else if (!v.is_null()) d.fail("expected object, got " + describe(v));
}

FieldReader& FieldReader::rest(std::map<std::string, RawJson>& out) {
  out.clear();
  if (!ok()) return *this;
  for (const auto& kv : *obj_) {
    if (consumed_.count(std::string_view(kv.key()))) continue;
    if (kv.value().is_null()) continue;
    out[std::string(kv.key())] = RawJson{json::serialize(kv.value())};
  }
  return *this;
}

FieldWriter& FieldWriter::rest(const std::map<std::string, RawJson>& extra) {
  for (const auto& [k, v] : extra) {
    if (!obj_.contains(k)) obj_[k] = encode_value(v);
  }
  return *this;
}

// ---------------------------------------------------------------- documents

Result<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opt;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec) return Error("invalid JSON: " + ec.message());
  return v;
}

namespace {

// yaml.v2's resolution of a plain scalar (sigs.k8s.io/yaml decodes with it): null, bool, int,
// float, else string. Integral floats below 1e21 become integers, as Go's encoding/json prints
// them when sigs.k8s.io/yaml re-marshals the tree.
bool parse_go_int(std::string s, int64_t& out, uint64_t& uout, bool& is_unsigned) {
  // strconv.ParseInt(s, 0, 64) with underscores already removed.
  bool neg = false;
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) { neg = s[0] == '-'; i = 1; }
  int base = 10;
  if (s.size() - i >= 2 && s[i] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 1])));
    if (p == 'x') { base = 16; i += 2; }
    else if (p == 'o') { base = 8; i += 2; }
    else if (p == 'b') { base = 2; i += 2; }
    else { base = 8; i += 1; }
  }
  if (i >= s.size()) return false;
  unsigned __int128 acc = 0;
  for (; i < s.size(); ++i) {
    int dgt;
    char ch = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (ch >= '0' && ch <= '9') dgt = ch - '0';
    else if (ch >= 'a' && ch <= 'f') dgt = ch - 'a' + 10;
    else return false;
    if (dgt >= base) return false;
    acc = acc * base + dgt;
    if (acc > std::numeric_limits<uint64_t>::max()) return false;
  }
  if (neg) {
    if (acc > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()) + 1) return false;
    out = -static_cast<int64_t>(acc - 1) - 1;
    is_unsigned = false;
    return true;
  }
  if (acc <= static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
    out = static_cast<int64_t>(acc);
    is_unsigned = false;
  } else {
    uout = static_cast<uint64_t>(acc);
    is_unsigned = true;
  }
  return true;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool yaml_style_float(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t st = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i - st;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') { ++i; digits(); }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

json::value float_value(double x) {
  if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 1e18) return json::value(static_cast<int64_t>(x));
  return json::value(x);
}

struct Resolved {
  json::value value;
  bool nonfinite = false;
};

Resolved resolve_plain(const std::string& in) {
  static const char* kTrue[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* kFalse[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  static const char* kNull[] = {"", "~", "null", "Null", "NULL"};
  for (auto* s : kTrue) if (in == s) return {json::value(true)};
  for (auto* s : kFalse) if (in == s) return {json::value(false)};
  for (auto* s : kNull) if (in == s) return {json::value(nullptr)};
  for (auto* s : {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"})
    if (in == s) return {json::value(in), true};
  char c0 = in[0];
  if (std::isdigit(static_cast<unsigned char>(c0)) || c0 == '+' || c0 == '-') {
    std::string plain;
    for (char ch : in) if (ch != '_') plain += ch;
    int64_t iv = 0;
    uint64_t uv = 0;
    bool uns = false;
    if (parse_go_int(plain, iv, uv, uns)) return {uns ? json::value(uv) : json::value(iv)};
    if (yaml_style_float(plain)) {
      char* end = nullptr;
      double x = std::strtod(plain.c_str(), &end);
      if (end && *end == '\0') return {float_value(x)};
    }
    return {json::value(in)};
  }
  if (c0 == '.') {
    char* end = nullptr;
    double x = std::strtod(in.c_str(), &end);
    if (end && *end == '\0' && in.size() > 1 && std::isdigit(static_cast<unsigned char>(in[1])))
      return {float_value(x)};
  }
  return {json::value(in)};
}

// Formats a non-string map key as sigs.k8s.io/yaml does.
std::string key_text(const json::value& k) {
  if (k.is_string()) return std::string(k.get_string());
  if (k.is_bool()) return k.get_bool() ? "true" : "false";
  if (k.is_int64()) return std::to_string(k.get_int64());
  if (k.is_uint64()) return std::to_string(k.get_uint64());
  if (k.is_double()) return double_text(static_cast<float>(k.get_double()));
  return {};
}

Status convert(const YAML::Node& n, json::value& out, int depth);

Status convert_scalar(const YAML::Node& n, json::value& out) {
  const std::string& tag = n.Tag();
  const std::string& s = n.Scalar();
  auto where = [&] { return fmt::format("line {}", n.Mark().line + 1); };
  if (tag == "!" || tag == "tag:yaml.org,2002:str") { out = json::value(s); return {}; }
  Resolved r = resolve_plain(s);
  if (tag == "?" || tag.empty()) {
    if (r.nonfinite) return Error(fmt::format("yaml: {}: {} cannot be represented in JSON", where(), s));
    out = std::move(r.value);
    return {};
  }
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float") {
    if (!(r.value.is_int64() || r.value.is_uint64() || r.value.is_double()))
      return Error(fmt::format("yaml: {}: cannot decode {} as {}", where(), s, tag));
    out = std::move(r.value);
    return {};
  }
  if (tag == "tag:yaml.org,2002:bool") {
    if (!r.value.is_bool()) return Error(fmt::format("yaml: {}: cannot decode {} as !!bool", where(), s));
    out = std::move(r.value);
    return {};
  }
  if (tag == "tag:yaml.org,2002:null") { out = nullptr; return {}; }
  // Unknown tags: the scalar's text.
  out = json::value(s);
  return {};
}

Status convert_map(const YAML::Node& n, json::object& obj, int depth) {
  std::vector<YAML::Node> merges;  // by value: iterator values are proxies
  for (auto it = n.begin(); it != n.end(); ++it) {
    // By value: `it->` yields a temporary proxy, so a reference to its member would dangle.
    const YAML::Node k = it->first;
    if (k.IsScalar() && k.Tag() == "?" && k.Scalar() == "<<") {
      // Merge key: applied after the map's own keys, which win.
      merges.push_back(it->second);
      continue;
    }
    json::value kv;
    if (!k.IsScalar()) {
      if (k.IsNull()) return Error(fmt::format("yaml: line {}: unsupported map key: null", k.Mark().line + 1));
      return Error(fmt::format("yaml: line {}: unsupported map key of type {}", k.Mark().line + 1,
                               k.IsMap() ? "map" : "sequence"));
    }
    if (Status s = convert_scalar(k, kv); !s.ok()) return s;
    if (kv.is_null()) return Error(fmt::format("yaml: line {}: unsupported map key: null", k.Mark().line + 1));
    json::value val;
    if (Status s = convert(it->second, val, depth + 1); !s.ok()) return s;
    obj[key_text(kv)] = std::move(val);
  }
  for (const YAML::Node& m : merges) {
    std::vector<YAML::Node> sources;
    if (m.IsMap()) sources.push_back(m);
    else if (m.IsSequence()) for (const auto& e : m) sources.push_back(e);
    for (const auto& src : sources) {
      if (!src.IsMap()) return Error(fmt::format("yaml: line {}: map merge requires map or sequence of maps as the value", src.Mark().line + 1));
      json::object sub;
      if (Status s = convert_map(src, sub, depth + 1); !s.ok()) return s;
      for (auto& kv : sub) if (!obj.contains(kv.key())) obj[kv.key()] = kv.value();
    }
  }
  return {};
}

Status convert(const YAML::Node& n, json::value& out, int depth) {
  if (depth > 256) return Error("yaml: document nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out = nullptr;
      return {};
    case YAML::NodeType::Scalar:
      return convert_scalar(n, out);
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& e : n) {
        json::value v;
        if (Status s = convert(e, v, depth + 1); !s.ok()) return s;
        a.push_back(std::move(v));
      }
      out = std::move(a);
      return {};
    }
    case YAML::NodeType::Map: {
      json::object o;
      if (Status s = convert_map(n, o, depth); !s.ok()) return s;
      out = std::move(o);
      return {};
    }
  }
  return {};
}

}  // namespace

Result<json::value> yaml_to_json(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(fmt::format("yaml: line {}: {}", e.mark.line + 1, e.msg));
  }
  json::value out;
  try {
    if (Status s = convert(root, out, 0); !s.ok()) return s.error();
  } catch (const YAML::Exception& e) {
    return Error(fmt::format("yaml: line {}: {}", e.mark.line + 1, e.msg));
  }
  return out;
}

Result<json::value> parse_document(std::string_view text) {
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    if (ch == '{') return parse_json(text);
    break;
  }
  return yaml_to_json(text);
}

std::string to_json_text(const json::value& v) {
  std::string s = json::serialize(v);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '<') out += "\\u003c";
    else if (ch == '>') out += "\\u003e";
    else if (ch == '&') out += "\\u0026";
    else if (static_cast<unsigned char>(ch) == 0xE2 && i + 2 < s.size() &&
             static_cast<unsigned char>(s[i + 1]) == 0x80 &&
             (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += ch;
    }
  }
  return out;
}

// ---------------------------------------------------------------- top-level objects

std::string object_label(const json::value& root, std::string_view kind) {
  std::string k;
  for (char ch : kind) k += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string name, ns;
  if (root.is_object()) {
    if (const json::value* m = root.get_object().if_contains("metadata"); m && m->is_object()) {
      if (const json::value* n = m->get_object().if_contains("name"); n && n->is_string()) name = n->get_string();
      if (const json::value* n = m->get_object().if_contains("namespace"); n && n->is_string()) ns = n->get_string();
    }
  }
  if (name.empty()) return k;
  return fmt::format("{} \"{}\"", k, ns.empty() ? name : ns + "/" + name);
}

Status check_type_meta(const json::value& root, const DecodeOptions& opts) {
  if (!root.is_object()) return {};
  const auto& o = root.get_object();
  const json::value* kind = o.if_contains("kind");
  const json::value* av = o.if_contains("apiVersion");
  if (opts.require_type_meta) {
    if (!kind || !kind->is_string() || kind->get_string().empty()) return Error("kind: required field is missing");
    if (!av || !av->is_string() || av->get_string().empty()) return Error("apiVersion: required field is missing");
  }
  if (kind && !kind->is_null()) {
    if (!kind->is_string()) return Error("kind: expected string, got " + describe(*kind));
    if (!opts.kind.empty() && !kind->get_string().empty() && kind->get_string() != opts.kind)
      return Error(fmt::format("kind: expected \"{}\", got {}", opts.kind, describe(*kind)));
  }
  if (av && !av->is_null()) {
    if (!av->is_string()) return Error("apiVersion: expected string, got " + describe(*av));
    if (!opts.api_version.empty() && !av->get_string().empty() && av->get_string() != opts.api_version)
      return Error(fmt::format("apiVersion: expected \"{}\", got {}", opts.api_version, describe(*av)));
  }
  return {};
}

}  // namespace knode::kube
