// Go time.Duration parse/format, following the algorithm of Go's time package.
#include "config/duration.h"

#include <limits>

namespace knode::config {
namespace {

constexpr uint64_t kMax = uint64_t{1} << 63;  // magnitude of the most negative duration

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Error invalid(std::string_view orig) { return Error("time: invalid duration " + quote(orig)); }

// Unit → nanoseconds; "µs" appears as U+00B5 (micro sign) or U+03BC (Greek mu).
uint64_t unit_ns(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1'000;
  if (u == "ms") return 1'000'000;
  if (u == "s") return 1'000'000'000;
  if (u == "m") return 60'000'000'000;
  if (u == "h") return 3'600'000'000'000;
  return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Duration> parse_duration(std::string_view s) {
  const std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return invalid(orig);

  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return invalid(orig);
    // Integer part.
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (v > kMax / 10) return invalid(orig);
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return invalid(orig);
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    // Fraction: keeps as many digits as fit, then stops accumulating precision.
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < s.size() && is_digit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (kMax - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid(orig);
    // Unit: everything up to the next digit or '.'.
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    if (u == 0) return Error("time: missing unit in duration " + quote(orig));
    const std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    const uint64_t mult = unit_ns(unit);
    if (mult == 0) return Error("time: unknown unit " + quote(unit) + " in duration " + quote(orig));
    if (v > kMax / mult) return invalid(orig);
    v *= mult;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(mult) / scale));
      if (v > kMax) return invalid(orig);
    }
    total += v;
    if (total > kMax) return invalid(orig);
  }
  if (neg) return Duration{static_cast<int64_t>(~total + 1)};  // two's complement negation
  if (total > kMax - 1) return invalid(orig);
  return Duration{static_cast<int64_t>(total)};
}

namespace {

// Writes v/10^prec into buf ending at w, omitting trailing zeros of the fraction; returns new w.
int fmt_frac(char* buf, int w, uint64_t& v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    const int digit = static_cast<int>(v % 10);
    print = print || digit != 0;
    if (print) buf[--w] = static_cast<char>('0' + digit);
    v /= 10;
  }
  if (print) buf[--w] = '.';
  return w;
}

int fmt_int(char* buf, int w, uint64_t v) {
  if (v == 0) {
    buf[--w] = '0';
    return w;
  }
  while (v > 0) {
    buf[--w] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return w;
}

}  // namespace

std::string format_duration(Duration d) {
  char buf[32];
  int w = sizeof buf;
  const bool neg = d.ns < 0;
  uint64_t u = neg ? ~static_cast<uint64_t>(d.ns) + 1 : static_cast<uint64_t>(d.ns);
  if (u < 1'000'000'000) {
    // Sub-second: the smallest unit that keeps a leading non-zero digit.
    int prec = 0;
    buf[--w] = 's';
    --w;
    if (u == 0) return "0s";
    if (u < 1'000) {
      buf[w] = 'n';
    } else if (u < 1'000'000) {
      prec = 3;
      // "µ" is two bytes in UTF-8.
      buf[w] = '\xB5';
      buf[--w] = '\xC2';
    } else {
      prec = 6;
      buf[w] = 'm';
    }
    w = fmt_frac(buf, w, u, prec);
    w = fmt_int(buf, w, u);
  } else {
    buf[--w] = 's';
    w = fmt_frac(buf, w, u, 9);
    w = fmt_int(buf, w, u % 60);  // whole seconds
    u /= 60;
    if (u > 0) {  // minutes
      buf[--w] = 'm';
      w = fmt_int(buf, w, u % 60);
      u /= 60;
      if (u > 0) {  // hours
        buf[--w] = 'h';
        w = fmt_int(buf, w, u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  return std::string(buf + w, sizeof buf - w);
}

}  // namespace knode::config
