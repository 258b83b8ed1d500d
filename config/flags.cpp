#include "config/flags.h"

#include "config/duration.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace knode::config {

struct FlagSet::Flag {
  std::string name;
  std::string type;          // pflag Value.Type()
  std::string usage;
  std::string default_text;  // pflag DefValue
  std::string no_opt_default;
  std::string deprecated;
  char shorthand = 0;
  bool hidden = false;
  bool changed = false;
  Setter setter;
};

namespace {

std::string normalize(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '_', '-');
  return n;
}

Error syntax_error(std::string_view fn, std::string_view s) {
  return Error(fmt::format("{}: parsing {}: invalid syntax", fn, go_quote(s)));
}
Error range_error(std::string_view fn, std::string_view s) {
  return Error(fmt::format("{}: parsing {}: value out of range", fn, go_quote(s)));
}

// Digits of s in base 0 (Go's prefix rules), without sign. Returns false on bad syntax, sets overflow.
bool parse_magnitude(std::string_view s, uint64_t& out, bool& overflow) {
  overflow = false;
  if (s.empty()) return false;
  int base = 10;
  bool prefixed = false;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') base = 16, s.remove_prefix(2), prefixed = true;
    else if (p == 'o') base = 8, s.remove_prefix(2), prefixed = true;
    else if (p == 'b') base = 2, s.remove_prefix(2), prefixed = true;
    else base = 8, s.remove_prefix(1), prefixed = true;
  }
  if (s.empty()) return false;
  uint64_t v = 0;
  bool prev_underscore = !prefixed;  // "_" may follow a base prefix but not start a number
  bool any_digit = false;
  for (char c : s) {
    if (c == '_') {
      if (prev_underscore) return false;
      prev_underscore = true;
      continue;
    }
    prev_underscore = false;
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    else return false;
    if (d >= base) return false;
    any_digit = true;
    if (v > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) / base) overflow = true;
    else v = v * base + d;
  }
  if (prev_underscore || !any_digit) return false;
  out = v;
  return true;
}

}  // namespace

Result<int64_t> parse_go_int(std::string_view s, int bits) {
  constexpr std::string_view fn = "strconv.ParseInt";
  std::string_view d = s;
  bool neg = false;
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) {
    neg = d[0] == '-';
    d.remove_prefix(1);
  }
  uint64_t mag = 0;
  bool overflow = false;
  if (!parse_magnitude(d, mag, overflow)) return syntax_error(fn, s);
  uint64_t limit = uint64_t{1} << (bits - 1);
  if (overflow || (!neg && mag >= limit) || (neg && mag > limit)) return range_error(fn, s);
  return neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
}

Result<uint64_t> parse_go_uint(std::string_view s, int bits) {
  constexpr std::string_view fn = "strconv.ParseUint";
  uint64_t mag = 0;
  bool overflow = false;
  if (!parse_magnitude(s, mag, overflow)) return syntax_error(fn, s);
  if (overflow || (bits < 64 && mag >= (uint64_t{1} << bits))) return range_error(fn, s);
  return mag;
}

Result<bool> parse_go_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  return syntax_error("strconv.ParseBool", s);
}

Result<double> parse_go_float(std::string_view s, int bits) {
  constexpr std::string_view fn = "strconv.ParseFloat";
  std::string_view d = s;
  bool neg = false;
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) {
    neg = d[0] == '-';
    d.remove_prefix(1);
  }
  std::string lower(d);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan" && s.size() == 3) return std::numeric_limits<double>::quiet_NaN();
  // Decimal only (with optional exponent); no underscores without a base prefix.
  if (d.empty() || !(std::isdigit(static_cast<unsigned char>(d[0])) || d[0] == '.')) {
    return syntax_error(fn, s);
  }
  double v = 0;
  auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
  if (p != d.data() + d.size()) return syntax_error(fn, s);
  if (ec == std::errc::result_out_of_range) return range_error(fn, s);
  if (ec != std::errc()) return syntax_error(fn, s);
  if (bits == 32 && std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max()) {
    return range_error(fn, s);
  }
  if (bits == 32) v = static_cast<float>(v);
  return neg ? -v : v;
}

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  auto d = parse_duration(s);
  if (!d) return d.error();
  return std::chrono::nanoseconds(d->ns);
}

std::string format_go_duration(std::chrono::nanoseconds d) { return format_duration(Duration{d.count()}); }

std::string format_go_float(double v, int bits) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r;
  if (bits == 32) r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v), std::chars_format::scientific);
  else r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  bool neg = !sci.empty() && sci[0] == '-';
  if (neg) sci.erase(0, 1);
  auto epos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < epos; ++i) if (sci[i] != '.') digits += sci[i];
  int exp10 = std::stoi(sci.substr(epos + 1));
  if (digits == "0") return neg ? "-0" : "0";
  int nd = static_cast<int>(digits.size());
  int dp = exp10 + 1;
  int eprec = 6;
  if (eprec > nd && nd >= dp) eprec = nd;
  std::string out;
  if (exp10 < -4 || exp10 >= eprec) {
    out = digits.substr(0, 1);
    if (nd > 1) out += "." + digits.substr(1);
    out += exp10 < 0 ? "e-" : "e+";
    int ax = std::abs(exp10);
    if (ax < 10) out += "0";
    out += std::to_string(ax);
  } else if (dp <= 0) {
    out = "0." + std::string(-dp, '0') + digits;
  } else if (dp >= nd) {
    out = digits + std::string(dp - nd, '0');
  } else {
    out = digits.substr(0, dp) + "." + digits.substr(dp);
  }
  return neg ? "-" + out : out;
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// ---------------------------------------------------------------------------------------------

FlagSet::FlagSet(std::string name) : name_(std::move(name)) {}
FlagSet::~FlagSet() = default;

FlagSet::Flag& FlagSet::add(std::string name, std::string type, std::string usage, Setter setter,
                            std::string default_text) {
  auto f = std::make_unique<Flag>();
  f->name = normalize(name);
  f->type = std::move(type);
  f->usage = std::move(usage);
  f->setter = std::move(setter);
  f->default_text = std::move(default_text);
  Flag& ref = *f;
  flags_[ref.name] = std::move(f);
  return ref;
}

FlagSet::Flag* FlagSet::find(std::string_view name) {
  auto it = flags_.find(normalize(name));
  return it == flags_.end() ? nullptr : it->second.get();
}
const FlagSet::Flag* FlagSet::find(std::string_view name) const {
  auto it = flags_.find(normalize(name));
  return it == flags_.end() ? nullptr : it->second.get();
}

void FlagSet::add_bool(std::string name, bool* v, std::string usage) {
  auto& f = add(std::move(name), "bool", std::move(usage), [v](std::string_view s) -> Status {
    auto b = parse_go_bool(s);
    if (!b) return b.error();
    *v = *b;
    return {};
  }, *v ? "true" : "false");
  f.no_opt_default = "true";
}

void FlagSet::add_string(std::string name, std::string* v, std::string usage) {
  add(std::move(name), "string", std::move(usage), [v](std::string_view s) -> Status {
    *v = std::string(s);
    return {};
  }, *v);
}

template <class T>
static FlagSet::Setter int_setter(T* v, int bits) {
  return [v, bits](std::string_view s) -> Status {
    auto n = parse_go_int(s, bits);
    if (!n) return n.error();
    *v = static_cast<T>(*n);
    return {};
  };
}
template <class T>
static FlagSet::Setter uint_setter(T* v, int bits) {
  return [v, bits](std::string_view s) -> Status {
    auto n = parse_go_uint(s, bits);
    if (!n) return n.error();
    *v = static_cast<T>(*n);
    return {};
  };
}

void FlagSet::add_int32(std::string name, int32_t* v, std::string usage) {
  add(std::move(name), "int32", std::move(usage), int_setter(v, 32), std::to_string(*v));
}
void FlagSet::add_int64(std::string name, int64_t* v, std::string usage) {
  add(std::move(name), "int64", std::move(usage), int_setter(v, 64), std::to_string(*v));
}
void FlagSet::add_uint32(std::string name, uint32_t* v, std::string usage) {
  add(std::move(name), "uint32", std::move(usage), uint_setter(v, 32), std::to_string(*v));
}
void FlagSet::add_uint64(std::string name, uint64_t* v, std::string usage) {
  add(std::move(name), "uint64", std::move(usage), uint_setter(v, 64), std::to_string(*v));
}
void FlagSet::add_float32(std::string name, float* v, std::string usage) {
  add(std::move(name), "float32", std::move(usage), [v](std::string_view s) -> Status {
    auto d = parse_go_float(s, 32);
    if (!d) return d.error();
    *v = static_cast<float>(*d);
    return {};
  }, format_go_float(*v, 32));
}
void FlagSet::add_float64(std::string name, double* v, std::string usage) {
  add(std::move(name), "float64", std::move(usage), [v](std::string_view s) -> Status {
    auto d = parse_go_float(s, 64);
    if (!d) return d.error();
    *v = *d;
    return {};
  }, format_go_float(*v, 64));
}
void FlagSet::add_duration(std::string name, std::chrono::nanoseconds* v, std::string usage) {
  add(std::move(name), "duration", std::move(usage), [v](std::string_view s) -> Status {
    auto d = parse_go_duration(s);
    if (!d) return d.error();
    *v = *d;
    return {};
  }, format_go_duration(*v));
}

void FlagSet::add_duration(std::string name, Duration* v, std::string usage) {
  add(std::move(name), "duration", std::move(usage), [v](std::string_view s) -> Status {
    auto d = parse_duration(s);
    if (!d) return d.error();
    *v = *d;
    return {};
  }, format_duration(*v));
}

namespace {
// pflag's readAsCSV: comma-separated, with double-quoted fields.
Result<std::vector<std::string>> split_csv(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::string cur;
  size_t i = 0;
  while (true) {
    cur.clear();
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (true) {
        if (i >= s.size()) return Error("parse error on line 1: extraneous or missing \" in quoted-field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur += s[i++];
      }
      if (i < s.size() && s[i] != ',') return Error("parse error on line 1: extraneous or missing \" in quoted-field");
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '"') return Error("parse error on line 1: bare \" in non-quoted-field");
        cur += s[i++];
      }
    }
    out.push_back(cur);
    if (i >= s.size()) break;
    ++i;  // ','
  }
  return out;
}

std::string join_csv(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += v[i];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}
}  // namespace

void FlagSet::add_string_slice(std::string name, std::vector<std::string>* v, std::string usage) {
  auto replaced = std::make_shared<bool>(false);
  add(std::move(name), "stringSlice", std::move(usage), [v, replaced](std::string_view s) -> Status {
    auto parts = split_csv(s);
    if (!parts) return parts.error();
    if (!*replaced) {
      *v = *parts;
      *replaced = true;
    } else {
      v->insert(v->end(), parts->begin(), parts->end());
    }
    return {};
  }, "[" + join_csv(*v) + "]");
}

void FlagSet::add_string_map(std::string name, std::map<std::string, std::string>* v,
                             std::string usage) {
  std::string def;
  for (const auto& [k, val] : *v) def += (def.empty() ? "" : ",") + k + "=" + val;
  add(std::move(name), "mapStringString", std::move(usage), [v](std::string_view s) -> Status {
    for (auto part : split(s, ',')) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) return Error("malformed pair, expect string=string");
      (*v)[std::string(trim(part.substr(0, eq)))] = std::string(trim(part.substr(eq + 1)));
    }
    return {};
  }, def);
}

void FlagSet::add_bool_map(std::string name, std::map<std::string, bool>* v, std::string usage) {
  std::string def;
  for (const auto& [k, val] : *v) def += (def.empty() ? "" : ",") + k + "=" + (val ? "true" : "false");
  add(std::move(name), "mapStringBool", std::move(usage), [v](std::string_view s) -> Status {
    for (auto part : split(s, ',')) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) return Error("malformed pair, expect string=bool");
      auto key = trim(part.substr(0, eq));
      auto val = trim(part.substr(eq + 1));
      auto b = parse_go_bool(val);
      if (!b) return Error(fmt::format("invalid value of {}: {}, err: {}", key, val, b.error().message()));
      (*v)[std::string(key)] = *b;
    }
    return {};
  }, def);
}

void FlagSet::add_custom(std::string name, Setter setter, std::string usage, bool is_bool,
                         std::string type_name, std::string default_text) {
  if (type_name.empty() && is_bool) type_name = "bool";
  auto& f = add(std::move(name), std::move(type_name), std::move(usage), std::move(setter),
                std::move(default_text));
  if (is_bool) f.no_opt_default = "true";
}

void FlagSet::set_shorthand(std::string_view name, char shorthand) {
  if (auto* f = find(name)) {
    f->shorthand = shorthand;
    shorthands_[shorthand] = f;
  }
}
void FlagSet::mark_deprecated(std::string_view name, std::string message) {
  if (auto* f = find(name)) {
    f->deprecated = std::move(message);
    f->hidden = true;
  }
}
void FlagSet::mark_hidden(std::string_view name) {
  if (auto* f = find(name)) f->hidden = true;
}
void FlagSet::set_no_opt_default(std::string_view name, std::string value) {
  if (auto* f = find(name)) f->no_opt_default = std::move(value);
}

bool FlagSet::has(std::string_view name) const { return find(name) != nullptr; }
bool FlagSet::changed(std::string_view name) const {
  const Flag* f = find(name);
  return f && f->changed;
}

Status FlagSet::set(Flag& f, std::string_view value) {
  if (auto st = f.setter(value); !st) {
    std::string fname = f.shorthand ? fmt::format("-{}, --{}", f.shorthand, f.name) : "--" + f.name;
    return Error(fmt::format("invalid argument {} for {} flag: {}", go_quote(value), go_quote(fname),
                             st.message()));
  }
  if (!f.changed) changed_order_.push_back(f.name);
  f.changed = true;
  if (!f.deprecated.empty()) {
    warnings_.push_back(fmt::format("Flag --{} has been deprecated, {}", f.name, f.deprecated));
  }
  return {};
}

Status FlagSet::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s.size() < 2 || s[0] != '-') {
      positional_.push_back(s);
      continue;
    }
    if (s[1] == '-') {
      if (s.size() == 2) {  // "--"
        args_len_at_dash_ = static_cast<int>(positional_.size());
        positional_.insert(positional_.end(), args.begin() + static_cast<long>(i) + 1, args.end());
        return {};
      }
      std::string_view body = std::string_view(s).substr(2);
      if (body[0] == '-' || body[0] == '=') return Error("bad flag syntax: " + s);
      auto eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      Flag* f = find(name);
      if (!f) return Error(fmt::format("unknown flag: --{}", name));
      std::string value;
      if (eq != std::string_view::npos) value = std::string(body.substr(eq + 1));
      else if (!f->no_opt_default.empty()) value = f->no_opt_default;
      else if (i + 1 < args.size()) value = args[++i];
      else return Error("flag needs an argument: " + s);
      if (auto st = set(*f, value); !st) return st;
      continue;
    }
    // Shorthands, possibly combined: -abc, -v=2, -v2, -v 2.
    std::string_view shorts = std::string_view(s).substr(1);
    while (!shorts.empty()) {
      char c = shorts[0];
      auto it = shorthands_.find(c);
      if (it == shorthands_.end()) {
        return Error(fmt::format("unknown shorthand flag: '{}' in -{}", c, shorts));
      }
      Flag& f = *it->second;
      std::string value;
      std::string_view rest = shorts.substr(1);
      if (shorts.size() > 2 && shorts[1] == '=') {
        value = std::string(shorts.substr(2));
        rest = {};
      } else if (!f.no_opt_default.empty()) {
        value = f.no_opt_default;
      } else if (shorts.size() > 1) {
        value = std::string(shorts.substr(1));
        rest = {};
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Error(fmt::format("flag needs an argument: '{}' in -{}", c, shorts));
      }
      if (auto st = set(f, value); !st) return st;
      shorts = rest;
    }
  }
  return {};
}

namespace {
bool default_is_zero(const FlagSet::Flag& f) {
  const std::string& d = f.default_text;
  if (f.type == "string") return d.empty();
  if (f.type == "stringSlice") return d == "[]";
  return d.empty() || d == "false" || d == "0" || d == "0s" || d == "<nil>" || d == "[]";
}

// pflag's UnquoteUsage: a `name` in back quotes becomes the value name; otherwise the type decides.
std::pair<std::string, std::string> unquote_usage(const FlagSet::Flag& f) {
  auto a = f.usage.find('`');
  if (a != std::string::npos) {
    auto b = f.usage.find('`', a + 1);
    if (b != std::string::npos) {
      std::string name = f.usage.substr(a + 1, b - a - 1);
      std::string usage = f.usage.substr(0, a) + name + f.usage.substr(b + 1);
      return {name, usage};
    }
  }
  std::string name = f.type;
  if (name == "bool") name = "";
  else if (name == "float64") name = "float";
  else if (name == "int64") name = "int";
  else if (name == "uint64") name = "uint";
  else if (name == "stringSlice") name = "strings";
  return {name, f.usage};
}
}  // namespace

std::string FlagSet::usage() const {
  std::vector<std::string> lines;
  size_t maxlen = 0;
  for (const auto& [name, fp] : flags_) {
    const Flag& f = *fp;
    if (f.hidden) continue;
    std::string line = f.shorthand ? fmt::format("  -{}, --{}", f.shorthand, f.name)
                                   : fmt::format("      --{}", f.name);
    auto [varname, usage] = unquote_usage(f);
    if (!varname.empty()) line += " " + varname;
    if (!f.no_opt_default.empty()) {
      if (f.type == "string") line += fmt::format("[=\"{}\"]", f.no_opt_default);
      else if (f.type == "bool") {
        if (f.no_opt_default != "true") line += fmt::format("[={}]", f.no_opt_default);
      } else if (f.type == "count") {
        if (f.no_opt_default != "+1") line += fmt::format("[={}]", f.no_opt_default);
      } else {
        line += fmt::format("[={}]", f.no_opt_default);
      }
    }
    line += '\0';
    maxlen = std::max(maxlen, line.size());
    line += usage;
    if (!default_is_zero(f)) {
      if (f.type == "string") line += " (default " + go_quote(f.default_text) + ")";
      else line += " (default " + f.default_text + ")";
    }
    if (!f.deprecated.empty()) line += " (DEPRECATED: " + f.deprecated + ")";
    lines.push_back(std::move(line));
  }
  std::string out;
  for (const auto& line : lines) {
    size_t sidx = line.find('\0');
    out += line.substr(0, sidx) + " " + std::string(maxlen - sidx, ' ') + " " + line.substr(sidx + 1);
    out += '\n';
  }
  return out;
}

}  // namespace knode::config
