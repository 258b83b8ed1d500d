// The decoding/encoding framework behind the typed config structs.
#include "config/yaml_decode.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

namespace knode::config {
namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool is_plain(const YAML::Node& n) { return n.IsScalar() && n.Tag() == "?"; }

// YAML text of a node for error messages (scalars verbatim, others flow-style).
std::string node_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

bool match_bool(std::string_view s, bool& v) {
  static constexpr std::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (auto t : kTrue)
    if (s == t) return v = true, true;
  for (auto f : kFalse)
    if (s == f) return v = false, true;
  return false;
}

// strconv.ParseInt(s, 0, 64) after removing '_', as go-yaml v2 resolves plain integers.
// Returns false if s is not an integer; sets overflow when it is one but out of int64 range.
bool parse_yaml_int(std::string_view s0, int64_t& v, bool& overflow) {
  std::string s;
  for (char c : s0)
    if (c != '_') s += c;
  overflow = false;
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= s.size()) return false;
  int base = 10;
  if (s[i] == '0' && i + 1 < s.size()) {
    const char p = s[i + 1];
    if (p == 'x' || p == 'X') base = 16, i += 2;
    else if (p == 'b' || p == 'B') base = 2, i += 2;
    else if (p == 'o' || p == 'O') base = 8, i += 2;
    else base = 8, i += 1;
  }
  if (i >= s.size()) return false;
  uint64_t u = 0;
  auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), u, base);
  if (p != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) return overflow = true, true;
  if (ec != std::errc()) return false;
  const uint64_t lim = neg ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
  if (u > lim) return overflow = true, true;
  v = neg ? static_cast<int64_t>(~u + 1) : static_cast<int64_t>(u);
  return true;
}

bool is_yaml_float(std::string_view s) {
  static constexpr std::string_view kSpecial[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
                                                  "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"};
  for (auto x : kSpecial)
    if (s == x) return true;
  // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  auto digits = [&] {
    size_t st = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i - st;
  };
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

ScalarKind classify_text(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarKind::Null;
  bool b;
  if (match_bool(s, b)) return ScalarKind::Bool;
  int64_t v;
  bool overflow;
  if (parse_yaml_int(s, v, overflow)) return ScalarKind::Int;
  if (is_yaml_float(s)) return ScalarKind::Float;
  return ScalarKind::String;
}

const char* kind_name(ScalarKind k) {
  switch (k) {
    case ScalarKind::Null: return "null";
    case ScalarKind::Bool: return "a boolean";
    case ScalarKind::Int: return "an integer";
    case ScalarKind::Float: return "a number";
    case ScalarKind::String: return "a string";
  }
  return "?";
}

// Common prologue for scalars: false if nothing is to be decoded (failed, or null).
bool scalar_prologue(DecodeState& st, const YAML::Node& n, const std::string& path, std::string_view what) {
  if (st.failed() || n.IsNull()) return false;
  if (!n.IsScalar()) {
    st.fail(path, std::string("expected ") + std::string(what) + ", got", node_text(n));
    return false;
  }
  return scalar_kind(n) != ScalarKind::Null;
}

template <class I>
void decode_int(DecodeState& st, const YAML::Node& n, const std::string& path, I& out) {
  if (!scalar_prologue(st, n, path, "an integer")) return;
  const std::string& s = n.Scalar();
  int64_t v = 0;
  bool overflow = false;
  const ScalarKind k = scalar_kind(n);
  if (k == ScalarKind::Int && parse_yaml_int(s, v, overflow)) {
    if (overflow || v < static_cast<int64_t>(std::numeric_limits<I>::min()) ||
        (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<I>::max()))) {
      st.fail(path, "integer out of range", s);
      return;
    }
    out = static_cast<I>(v);
    return;
  }
  if (k == ScalarKind::Float) {  // 1e3 reads as a number; JSON accepts it when it is integral
    const double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(std::numeric_limits<I>::min()) &&
        d <= static_cast<double>(std::numeric_limits<I>::max())) {
      out = static_cast<I>(d);
      return;
    }
  }
  st.fail(path, "invalid integer", s);
}

}  // namespace

void DecodeState::fail(std::string_view path, std::string_view problem, std::string_view bad) {
  fail_message(path, std::string(problem) + " " + quoted(bad));
}

void DecodeState::fail_message(std::string_view path, std::string_view message) {
  if (error) return;
  std::string m;
  if (!file.empty()) m += file + ": ";
  if (!path.empty()) m += std::string(path) + ": ";
  error = Error(m + std::string(message));
}

ScalarKind scalar_kind(const YAML::Node& n) {
  if (n.IsNull()) return ScalarKind::Null;
  if (!n.IsScalar() || !is_plain(n)) return ScalarKind::String;
  return classify_text(n.Scalar());
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, std::string_view index) {
  return std::string(parent) + "[" + std::string(index) + "]";
}

bool expect_mapping(DecodeState& st, const YAML::Node& n, const std::string& path) {
  if (st.failed()) return false;
  if (n.IsMap() || n.IsNull()) return true;
  st.fail(path.empty() ? std::string_view("(document)") : path, "expected a mapping, got", node_text(n));
  return false;
}

bool expect_sequence(DecodeState& st, const YAML::Node& n, const std::string& path) {
  if (st.failed()) return false;
  if (n.IsSequence() || n.IsNull()) return true;
  st.fail(path, "expected a list, got", node_text(n));
  return false;
}

FieldDecoder::FieldDecoder(DecodeState& st, const YAML::Node& mapping, std::string path)
    : st_(st), path_(std::move(path)) {
  if (!mapping.IsMap()) return;
  for (auto it = mapping.begin(); it != mapping.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : node_text(it->first);
    for (const auto& e : entries_)
      if (e.first == key) {
        st_.duplicate.push_back(child_path(path_, key));
        break;
      }
    entries_.emplace_back(std::move(key), it->second);
  }
  used_.assign(entries_.size(), false);
}

const YAML::Node* FieldDecoder::take(std::string_view key) {
  const YAML::Node* found = nullptr;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].first == key) {
      used_[i] = true;
      found = &entries_[i].second;  // the last occurrence wins
    }
  return found;
}

void FieldDecoder::finish() {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (!used_[i]) st_.unknown.push_back(child_path(path_, entries_[i].first));
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, std::string& out) {
  if (!scalar_prologue(st, n, path, "a string")) return;
  out = n.Scalar();
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, bool& out) {
  if (!scalar_prologue(st, n, path, "a boolean")) return;
  bool v = false;
  if (scalar_kind(n) != ScalarKind::Bool || !match_bool(n.Scalar(), v)) {
    st.fail(path, "invalid boolean", n.Scalar());
    return;
  }
  out = v;
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, int32_t& out) {
  decode_int(st, n, path, out);
}
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, int64_t& out) {
  decode_int(st, n, path, out);
}
void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, uint32_t& out) {
  decode_int(st, n, path, out);
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, double& out) {
  if (!scalar_prologue(st, n, path, "a number")) return;
  const ScalarKind k = scalar_kind(n);
  const std::string& s = n.Scalar();
  if (k == ScalarKind::Int) {
    int64_t v = 0;
    bool overflow = false;
    parse_yaml_int(s, v, overflow);
    out = overflow ? std::strtod(s.c_str(), nullptr) : static_cast<double>(v);
    return;
  }
  if (k == ScalarKind::Float && s.find_first_of("nN") == std::string::npos && s.find("inf") == std::string::npos &&
      s.find("Inf") == std::string::npos && s.find("INF") == std::string::npos) {
    std::string t;
    for (char c : s)
      if (c != '_') t += c;
    out = std::strtod(t.c_str(), nullptr);
    return;
  }
  st.fail(path, "invalid number", s);
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, Duration& out) {
  if (!scalar_prologue(st, n, path, "a duration")) return;
  const ScalarKind k = scalar_kind(n);
  if (k != ScalarKind::String) {
    // metav1.Duration only unmarshals from a JSON string; `10` or `true` is a type error upstream.
    st.fail(path, std::string("invalid duration (") + kind_name(k) + ", want a string such as \"10s\")", n.Scalar());
    return;
  }
  auto d = parse_duration(n.Scalar());
  if (!d) {
    st.fail(path, "invalid duration", n.Scalar());
    return;
  }
  out = *d;
}

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, Quantity& out) {
  if (!scalar_prologue(st, n, path, "a quantity")) return;
  auto q = Quantity::parse(n.Scalar());
  if (!q) {
    st.fail(path, "invalid quantity", n.Scalar());
    return;
  }
  out = *q;
}

// ---- encoding ----

Tree encode_node(const std::string& v) { return Tree::string(v); }
Tree encode_node(bool v) { return Tree::literal(v ? "true" : "false"); }
Tree encode_node(int32_t v) { return Tree::literal(std::to_string(v)); }
Tree encode_node(int64_t v) { return Tree::literal(std::to_string(v)); }
Tree encode_node(uint32_t v) { return Tree::literal(std::to_string(v)); }
Tree encode_node(double v) {
  // Go's strconv.FormatFloat(v, 'g', -1, 64) as JSON prints it: shortest text that reads back.
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  // encoding/json uses exponent form only for very small/large magnitudes; %g agrees for the
  // values configs use (0.9, 1.5, 100).
  return Tree::literal(s);
}
Tree encode_node(const Duration& v) { return Tree::string(format_duration(v)); }
Tree encode_node(const Quantity& v) { return Tree::string(v.string()); }

bool yaml_key_less(std::string_view a, std::string_view b) {
  auto is_letter = [](unsigned char c) { return std::isalpha(c) || c >= 0x80; };
  auto is_dig = [](unsigned char c) { return std::isdigit(c) != 0; };
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const unsigned char ca = static_cast<unsigned char>(a[i]), cb = static_cast<unsigned char>(b[i]);
    if (ca == cb) continue;
    const bool al = is_letter(ca), bl = is_letter(cb);
    if (al && bl) return ca < cb;
    if (al || bl) return bl;
    // Digit runs compare as numbers.
    int64_t an = 0, bn = 0;
    if (ca == '0' || cb == '0') {
      for (size_t j = i; j-- > 0 && is_dig(static_cast<unsigned char>(a[j]));) {
        if (a[j] != '0') {
          an = bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < a.size() && is_dig(static_cast<unsigned char>(a[ai])); ++ai) an = an * 10 + (a[ai] - '0');
    for (; bi < b.size() && is_dig(static_cast<unsigned char>(b[bi])); ++bi) bn = bn * 10 + (b[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return ca < cb;
  }
  return a.size() < b.size();
}

namespace {

// Whether a string must be quoted to read back as the same string.
bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  if (classify_text(s) != ScalarKind::String) return true;
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(static_cast<char>(first)) != std::string_view::npos) {
    // "-" / "?" / ":" are fine when followed by a non-space, except at the very end.
    if (!((first == '-' || first == '?' || first == ':') && s.size() > 1 && s[1] != ' ')) return true;
  }
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  if (s == "=" || s == "<<") return true;
  return false;
}

void emit_scalar(std::string& out, const Tree& t) {
  switch (t.kind) {
    case Tree::Kind::Null: out += "null"; break;
    case Tree::Kind::Literal: out += t.text; break;
    case Tree::Kind::String: out += needs_quotes(t.text) ? quoted(t.text) : t.text; break;
    default: break;
  }
}

bool is_collection(const Tree& t) { return t.kind == Tree::Kind::Map || t.kind == Tree::Kind::Seq; }
bool is_empty_collection(const Tree& t) {
  return (t.kind == Tree::Kind::Map && t.map.empty()) || (t.kind == Tree::Kind::Seq && t.seq.empty());
}

void emit(std::string& out, const Tree& t, int indent);

void emit_map_body(std::string& out, const Tree& t, int indent, bool first_inline) {
  std::vector<const std::pair<std::string, Tree>*> entries;
  for (const auto& e : t.map) entries.push_back(&e);
  std::stable_sort(entries.begin(), entries.end(),
                   [](auto* x, auto* y) { return yaml_key_less(x->first, y->first); });
  bool first = true;
  for (const auto* e : entries) {
    if (!(first && first_inline)) out.append(static_cast<size_t>(indent), ' ');
    first = false;
    Tree key = Tree::string(e->first);
    emit_scalar(out, key);
    out += ":";
    const Tree& v = e->second;
    if (is_collection(v) && !is_empty_collection(v)) {
      out += "\n";
      // go-yaml does not indent a list under its key.
      emit(out, v, v.kind == Tree::Kind::Seq ? indent : indent + 2);
    } else {
      out += " ";
      emit(out, v, indent + 2);
      out += "\n";
    }
  }
}

void emit(std::string& out, const Tree& t, int indent) {
  if (t.kind == Tree::Kind::Map) {
    if (t.map.empty()) {
      out += "{}";
      return;
    }
    emit_map_body(out, t, indent, false);
  } else if (t.kind == Tree::Kind::Seq) {
    if (t.seq.empty()) {
      out += "[]";
      return;
    }
    for (const auto& item : t.seq) {
      out.append(static_cast<size_t>(indent), ' ');
      out += "- ";
      if (item.kind == Tree::Kind::Map && !item.map.empty()) {
        emit_map_body(out, item, indent + 2, true);
      } else if (item.kind == Tree::Kind::Seq && !item.seq.empty()) {
        out += "\n";
        emit(out, item, indent + 2);
      } else {
        emit(out, item, indent + 2);
        out += "\n";
      }
    }
  } else {
    emit_scalar(out, t);
  }
}

}  // namespace

std::string to_yaml(const Tree& t) {
  std::string out;
  emit(out, t, 0);
  if (!is_collection(t) || is_empty_collection(t)) out += "\n";
  return out;
}

// ---- documents ----

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path + ": cannot read file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(path + ": cannot read file");
  return ss.str();
}

Result<YAML::Node> load_yaml(std::string_view text, std::string_view file) {
  const std::string prefix = file.empty() ? "" : std::string(file) + ": ";
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return Error(prefix + "file is empty");
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(prefix + "invalid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                 std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Error(prefix + "invalid YAML: " + e.what());
  }
}

Status check_type_meta(const YAML::Node& doc, std::string_view file, std::string_view api_version,
                       std::string_view kind) {
  DecodeState st;
  st.file = std::string(file);
  if (!expect_mapping(st, doc, "") || doc.IsNull()) {
    if (!st.failed()) st.fail_message("", "kind: missing, want \"" + std::string(kind) + "\"");
    return *st.error;
  }
  auto text_of = [&](const char* key, std::string& out) {
    YAML::Node n = doc[key];
    if (!n || n.IsNull()) return false;
    out = n.IsScalar() ? n.Scalar() : node_text(n);
    return true;
  };
  std::string got_kind, got_version;
  if (!text_of("kind", got_kind))
    return Error((file.empty() ? "" : std::string(file) + ": ") + "kind: missing, want \"" + std::string(kind) + "\"");
  if (got_kind != kind) {
    st.fail("kind", "unsupported kind", got_kind);
    return Error(st.error->message() + ", want \"" + std::string(kind) + "\"");
  }
  if (!text_of("apiVersion", got_version))
    return Error((file.empty() ? "" : std::string(file) + ": ") + "apiVersion: missing, want \"" +
                 std::string(api_version) + "\"");
  if (got_version != api_version) {
    st.fail("apiVersion", "unsupported apiVersion", got_version);
    return Error(st.error->message() + ", want \"" + std::string(api_version) + "\"");
  }
  return {};
}

}  // namespace knode::config
