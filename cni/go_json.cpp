#include "cni/go_json.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <vector>

namespace knode::cni {
namespace json = boost::json;
namespace {

void put_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) are escaped by Go for JSONP safety.
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
}

void put_double(std::string& out, double d) {
  if (!std::isfinite(d)) {  // Go refuses these; JSON has no spelling for them
    out += "null";
    return;
  }
  char buf[64];
  double a = std::fabs(d);
  bool sci = a != 0 && (a < 1e-6 || a >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof buf, d, sci ? std::chars_format::scientific
                                                         : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (sci) {  // Go writes e-7, not e-07
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  }
  out += s;
}

void newline(std::string& out, std::string_view indent, int depth) {
  out.push_back('\n');
  for (int i = 0; i < depth; ++i) out.append(indent);
}

void put(std::string& out, const json::value& v, std::string_view indent, int depth) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: out += std::to_string(v.get_int64()); break;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case json::kind::double_: put_double(out, v.get_double()); break;
    case json::kind::string: put_string(out, v.get_string()); break;
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        break;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& e : a) {
        if (!first) out.push_back(',');
        first = false;
        if (!indent.empty()) newline(out, indent, depth + 1);
        put(out, e, indent, depth + 1);
      }
      if (!indent.empty()) newline(out, indent, depth);
      out.push_back(']');
      break;
    }
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        break;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out.push_back(',');
        first = false;
        if (!indent.empty()) newline(out, indent, depth + 1);
        put_string(out, kv.key());
        out.push_back(':');
        if (!indent.empty()) out.push_back(' ');
        put(out, kv.value(), indent, depth + 1);
      }
      if (!indent.empty()) newline(out, indent, depth);
      out.push_back('}');
      break;
    }
  }
}

}  // namespace

std::string go_marshal(const json::value& v, std::string_view indent) {
  std::string out;
  put(out, v, indent, 0);
  return out;
}

void sort_keys(json::object& o, bool recursive) {
  std::vector<std::pair<std::string, json::value>> members;
  members.reserve(o.size());
  for (auto& kv : o) members.emplace_back(std::string(kv.key()), std::move(kv.value()));
  // Go sorts map keys by their bytes.
  std::stable_sort(members.begin(), members.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  o.clear();
  for (auto& [k, val] : members) {
    if (recursive) sort_keys(val);
    o.emplace(k, std::move(val));
  }
}

void sort_keys(json::value& v) {
  if (v.is_object()) {
    sort_keys(v.get_object(), true);
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) sort_keys(e);
  }
}

}  // namespace knode::cni
