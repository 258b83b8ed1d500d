#include "agent/kube/bytes_codec.h"

#include <fmt/format.h>

namespace knode::kube {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Error illegal(size_t at) { return Error(fmt::format("illegal base64 data at input byte {}", at)); }
}  // namespace

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    uint32_t n = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8) | uint8_t(raw[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (size_t left = raw.size() - i; left > 0) {
    uint32_t n = uint8_t(raw[i]) << 16;
    if (left == 2) n |= uint8_t(raw[i + 1]) << 8;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += left == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  // Follows Go's StdEncoding.Decode, including which offset an error names.
  std::string out;
  out.reserve(text.size() / 4 * 3);
  size_t i = 0;
  auto skip_newlines = [&] { while (i < text.size() && (text[i] == '\r' || text[i] == '\n')) ++i; };
  while (true) {
    uint32_t acc = 0;
    int have = 0;  // sextets in this quantum
    size_t padding_at = 0;
    bool padded = false;
    while (have < 4) {
      if (i == text.size()) {
        if (have == 0) return out;
        return illegal(i - have);
      }
      char c = text[i++];
      if (int s = sextet(c); s >= 0) {
        acc = (acc << 6) | uint32_t(s);
        ++have;
        continue;
      }
      if (c == '\r' || c == '\n') continue;
      if (c != '=' || have < 2) return illegal(i - 1);
      padding_at = i - 1;
      if (have == 2) {  // "xx==": the second '=' must follow
        skip_newlines();
        if (i == text.size()) return illegal(text.size());
        if (text[i] != '=') return illegal(padding_at);
        ++i;
      }
      skip_newlines();
      if (i < text.size()) return illegal(i);  // data after the padding
      padded = true;
      break;
    }
    if (!padded) {
      out += char((acc >> 16) & 0xff);
      out += char((acc >> 8) & 0xff);
      out += char(acc & 0xff);
      continue;
    }
    if (have == 2) {
      out += char((acc >> 4) & 0xff);
    } else {
      out += char((acc >> 10) & 0xff);
      out += char((acc >> 2) & 0xff);
    }
    return out;
  }
}

void decode_value(Decoder& d, const json::value& v, Bytes& out) {
  if (v.is_null()) return;
  if (!v.is_string()) return d.fail("expected base64 string, got " + describe(v));
  auto raw = base64_decode(std::string_view(v.get_string().data(), v.get_string().size()));
  if (!raw) return d.fail(raw.error().message());
  out.data = std::move(*raw);
}

json::value encode_value(const Bytes& v) { return json::value(base64_encode(v.data)); }

}  // namespace knode::kube
