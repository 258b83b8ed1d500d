#include "agent/kube/quantity.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>

namespace knode::kube {
namespace {

constexpr __int128 kMax = static_cast<__int128>(1) << 120;

// Multiplies with saturation at ±kMax (values that large are not meaningful resources).
bool mul(__int128& v, __int128 by) {
  if (v == 0 || by == 0) { v = 0; return true; }
  __int128 av = v < 0 ? -v : v;
  __int128 ab = by < 0 ? -by : by;
  if (av > kMax / ab) return false;
  v *= by;
  return true;
}

__int128 pow10(int n) {
  __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

// Ceiling division for a positive divisor.
__int128 ceil_div(__int128 a, __int128 b) {
  __int128 q = a / b;
  if (a % b != 0 && a > 0) ++q;
  return q;
}

}  // namespace

Result<Quantity> Quantity::parse(std::string_view in) {
  auto bad = [&](std::string_view why) {
    return Error(fmt::format("quantity \"{}\": {}", in, why.empty() ? "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" : why));
  };
  if (in.empty()) return bad("");
  size_t i = 0;
  bool neg = false;
  if (in[i] == '+' || in[i] == '-') { neg = in[i] == '-'; ++i; }
  // Mantissa digits: keep up to 30 significant digits exactly, count the scale.
  __int128 mant = 0;
  int exp10 = 0;       // value = mant × 10^exp10
  bool any_digit = false, seen_dot = false, lost = false;
  int sig = 0;
  for (; i < in.size(); ++i) {
    char ch = in[i];
    if (ch == '.') {
      if (seen_dot) return bad("");
      seen_dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(ch))) break;
    any_digit = true;
    if (mant == 0 && ch == '0') { if (seen_dot) --exp10; continue; }
    if (sig < 30) {
      mant = mant * 10 + (ch - '0');
      ++sig;
      if (seen_dot) --exp10;
    } else {
      if (ch != '0') lost = true;  // digits past 30 only round up
      if (!seen_dot) ++exp10;
    }
  }
  if (!any_digit) return bad("");
  std::string_view suffix = in.substr(i);
  int shift2 = 0;  // × 2^shift2
  if (suffix.empty()) {
  } else if (suffix == "Ki") shift2 = 10;
  else if (suffix == "Mi") shift2 = 20;
  else if (suffix == "Gi") shift2 = 30;
  else if (suffix == "Ti") shift2 = 40;
  else if (suffix == "Pi") shift2 = 50;
  else if (suffix == "Ei") shift2 = 60;
  else if (suffix == "n") exp10 -= 9;
  else if (suffix == "u") exp10 -= 6;
  else if (suffix == "m") exp10 -= 3;
  else if (suffix == "k") exp10 += 3;
  else if (suffix == "M") exp10 += 6;
  else if (suffix == "G") exp10 += 9;
  else if (suffix == "T") exp10 += 12;
  else if (suffix == "P") exp10 += 15;
  else if (suffix == "E") exp10 += 18;
  else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view e = suffix.substr(1);
    bool eneg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) { eneg = e[0] == '-'; e.remove_prefix(1); }
    if (e.empty() || e.size() > 4) return bad("");
    int ev = 0;
    for (char ch : e) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return bad("");
      ev = ev * 10 + (ch - '0');
    }
    exp10 += eneg ? -ev : ev;
  } else {
    return bad("unable to parse quantity's suffix");
  }
  // nano = ceil(mant × 2^shift2 × 10^(exp10+9))
  __int128 v = mant;
  if (!mul(v, static_cast<__int128>(1) << shift2)) return bad("quantity too large");
  int e = exp10 + 9;
  if (e >= 0) {
    if (e > 36 && v != 0) return bad("quantity too large");
    if (!mul(v, pow10(e))) return bad("quantity too large");
  } else {
    if (-e > 36) v = v == 0 ? 0 : 1;
    else v = ceil_div(v, pow10(-e));
  }
  if (lost && v == 0) v = 1;
  Quantity q;
  q.text_ = std::string(in);
  q.nano_ = neg ? -v : v;
  return q;
}

Quantity Quantity::from_milli(int64_t milli) {
  Quantity q;
  q.nano_ = static_cast<__int128>(milli) * 1000000;
  q.text_ = milli % 1000 == 0 ? fmt::format("{}", milli / 1000) : fmt::format("{}m", milli);
  return q;
}

Quantity Quantity::from_value(int64_t value) {
  Quantity q;
  q.nano_ = static_cast<__int128>(value) * 1000000000;
  q.text_ = fmt::format("{}", value);
  return q;
}

int64_t Quantity::scaled(int decimals) const {
  __int128 div = pow10(9 - decimals);
  __int128 r;
  if (nano_ >= 0) r = ceil_div(nano_, div);
  else r = -((-nano_) / div);  // ceiling of a negative number truncates toward zero
  if (r > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (r < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(r);
}

}  // namespace knode::kube
