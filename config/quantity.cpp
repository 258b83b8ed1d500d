// resource.Quantity, following upstream's parser (fast int64 path + arbitrary precision path) and
// canonicalisation. Magnitudes are kept as decimal digit strings, so no precision is lost.
#include "config/quantity.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace knode::config {
namespace {

const char* const kErrFormat =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const char* const kErrNumeric = "unable to parse numeric part of quantity";
const char* const kErrSuffix = "unable to parse quantity's suffix";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string strip_leading_zeros(std::string d) {
  size_t i = 0;
  while (i < d.size() && d[i] == '0') ++i;
  return d.substr(i);
}

// d × m for a small m; d without leading zeros.
std::string mul_small(const std::string& d, uint32_t m) {
  if (d.empty() || m == 0) return {};
  std::string out(d.size() + 12, '0');
  uint64_t carry = 0;
  size_t w = out.size();
  for (size_t i = d.size(); i-- > 0;) {
    uint64_t x = static_cast<uint64_t>(d[i] - '0') * m + carry;
    out[--w] = static_cast<char>('0' + x % 10);
    carry = x / 10;
  }
  while (carry > 0) {
    out[--w] = static_cast<char>('0' + carry % 10);
    carry /= 10;
  }
  return strip_leading_zeros(out);
}

// d / m, returning the remainder through rem.
std::string div_small(const std::string& d, uint32_t m, uint32_t& rem) {
  std::string out;
  uint64_t r = 0;
  for (char c : d) {
    r = r * 10 + static_cast<uint64_t>(c - '0');
    out.push_back(static_cast<char>('0' + r / m));
    r %= m;
  }
  rem = static_cast<uint32_t>(r);
  return strip_leading_zeros(out);
}

std::string add_one(std::string d) {
  for (size_t i = d.size(); i-- > 0;) {
    if (d[i] == '9') {
      d[i] = '0';
    } else {
      ++d[i];
      return d;
    }
  }
  return "1" + d;
}

// Compares magnitudes of two normalised (digits, exp) numbers.
int cmp_mag(const std::string& a, int64_t ae, const std::string& b, int64_t be) {
  if (a.empty() || b.empty()) return a.empty() ? (b.empty() ? 0 : -1) : 1;
  const int64_t ma = static_cast<int64_t>(a.size()) + ae, mb = static_cast<int64_t>(b.size()) + be;
  if (ma != mb) return ma < mb ? -1 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char ca = i < a.size() ? a[i] : '0', cb = i < b.size() ? b[i] : '0';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

// Moves trailing zeros of digits into the exponent.
void normalise(std::string& d, int32_t& e) {
  d = strip_leading_zeros(d);
  while (!d.empty() && d.back() == '0') {
    d.pop_back();
    ++e;
  }
  if (d.empty()) e = 0;
}

struct Suffix {
  int base = 10;
  int32_t exponent = 0;
  Quantity::Format format = Quantity::Format::DecimalSI;
};

bool interpret_suffix(std::string_view s, Suffix& out) {
  static constexpr struct {
    std::string_view s;
    int32_t e;
  } kDec[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3},
              {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr struct {
    std::string_view s;
    int32_t e;
  } kBin[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& d : kDec)
    if (d.s == s) {
      out = {10, d.e, Quantity::Format::DecimalSI};
      return true;
    }
  for (const auto& b : kBin)
    if (b.s == s) {
      out = {2, b.e, Quantity::Format::BinarySI};
      return true;
    }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    // strconv.ParseInt(s[1:], 10, 64), then truncated to int32 as upstream does.
    std::string_view rest = s.substr(1);
    bool neg = false;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      neg = rest[0] == '-';
      rest.remove_prefix(1);
    }
    if (rest.empty()) return false;
    uint64_t v = 0;
    for (char c : rest) {
      if (!is_digit(c)) return false;
      if (v > (uint64_t{1} << 63) / 10) return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > (neg ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1)) return false;
    const int64_t sv = neg ? static_cast<int64_t>(~v + 1) : static_cast<int64_t>(v);
    out = {10, static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(sv))),
           Quantity::Format::DecimalExponent};
    return true;
  }
  return false;
}

}  // namespace

Quantity Quantity::from_int(int64_t v, Format f) {
  Quantity q;
  q.format_ = f;
  if (v == 0) return q;
  q.neg_ = v < 0;
  const uint64_t mag = q.neg_ ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  q.digits_ = std::to_string(mag);
  normalise(q.digits_, q.exp_);
  return q;
}

Result<Quantity> Quantity::parse(std::string_view str) {
  if (str.empty()) return Error(kErrFormat);
  if (str == "0") {
    Quantity q;
    q.cached_ = "0";
    return q;
  }
  // Scan: [+-] digits [. digits] suffix, as upstream's parseQuantityString.
  bool positive = true;
  size_t pos = 0;
  const size_t end = str.size();
  if (str[0] == '-' || str[0] == '+') {
    positive = str[0] == '+';
    ++pos;
  }
  std::string_view num, denom, suf;
  bool done = false;
  while (pos < end && str[pos] == '0') ++pos;
  if (pos >= end) {
    num = "0";
    done = true;
  }
  if (!done) {
    size_t i = pos;
    while (i < end && is_digit(str[i])) ++i;
    num = str.substr(pos, i - pos);
    pos = i;
    if (num.empty()) num = "0";
    if (pos < end && str[pos] == '.') {
      ++pos;
      size_t j = pos;
      while (j < end && is_digit(str[j])) ++j;
      denom = str.substr(pos, j - pos);
      pos = j;
    }
    const size_t suffix_start = pos;
    while (pos < end && std::string_view("eEinumkKMGTP").find(str[pos]) != std::string_view::npos)
      ++pos;
    if (pos < end && (str[pos] == '-' || str[pos] == '+')) ++pos;
    while (pos < end && is_digit(str[pos])) ++pos;
    if (pos < end) return Error(kErrFormat);
    suf = str.substr(suffix_start);
  }

  Suffix sx;
  if (!interpret_suffix(suf, sx)) return Error(kErrSuffix);

  Quantity q;
  q.format_ = sx.format;

  // Upstream's int64 fast path decides whether the input spelling is kept as the canonical text.
  int32_t precision = 0;
  int32_t scale = 0;
  if (sx.format == Format::BinarySI) {
    if (sx.exponent >= 0 && denom.empty()) {
      precision = 15 - static_cast<int32_t>(num.size()) -
                  static_cast<int32_t>(static_cast<float>(sx.exponent) * 3 / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = sx.exponent;
    precision = 18 - static_cast<int32_t>(num.size() + denom.size());
  }
  const std::string shifted = std::string(num) + std::string(denom);
  if (precision >= 0) {
    scale -= static_cast<int32_t>(denom.size());
    if (scale >= -9) {
      int64_t value = 0;
      auto [p, ec] = std::from_chars(shifted.data(), shifted.data() + shifted.size(), value);
      if (ec != std::errc() || p != shifted.data() + shifted.size()) return Error(kErrNumeric);
      const int64_t mantissa = sx.format == Format::BinarySI ? (int64_t{1} << sx.exponent) : 1;
      int64_t result = 0;
      if (!__builtin_mul_overflow(value, mantissa, &result)) {
        q.neg_ = !positive;
        q.digits_ = std::to_string(result);
        q.exp_ = scale;
        normalise(q.digits_, q.exp_);
        if (q.digits_.empty()) q.neg_ = false;
        const bool keep = sx.format == Format::BinarySI
                              ? (sx.exponent % 10 == 0 && (value & 0x07) != 0)
                              : (scale % 3 == 0 && !shifted.ends_with("000") && shifted[0] != '0');
        if (keep) q.cached_ = std::string(str);
        return q;
      }
    }
  }

  // Arbitrary precision path.
  std::string digits = strip_leading_zeros(shifted);
  int64_t exp = -static_cast<int64_t>(denom.size());
  if (sx.base == 10) {
    exp += sx.exponent;
  } else {
    for (int32_t k = sx.exponent; k > 0; k -= 10) digits = mul_small(digits, 1u << std::min(k, 10));
  }
  // Round non-zero magnitudes up to the nearest nano.
  if (!digits.empty() && exp < -9) {
    const uint64_t drop = static_cast<uint64_t>(-9 - exp);
    bool nonzero = false;
    if (drop >= digits.size()) {
      digits = "1";
    } else {
      for (size_t i = digits.size() - drop; i < digits.size(); ++i) nonzero |= digits[i] != '0';
      digits.resize(digits.size() - drop);
      if (nonzero) digits = add_one(digits);
      digits = strip_leading_zeros(digits);
      if (digits.empty()) digits = "1";
    }
    exp = -9;
  }
  if (exp > std::numeric_limits<int32_t>::max() - 64 || exp < std::numeric_limits<int32_t>::min() + 64)
    return Error(kErrNumeric);
  int32_t e32 = static_cast<int32_t>(exp);
  normalise(digits, e32);
  if (sx.format == Format::BinarySI) {
    static const std::string kMaxAllowed = "9223372036854775807";  // 2^63-1
    if (cmp_mag(digits, e32, kMaxAllowed, 0) > 0) {
      digits = kMaxAllowed;
      e32 = 0;
    }
    if (!digits.empty() && cmp_mag(digits, e32, "1", 0) < 0) q.format_ = Format::DecimalSI;
  }
  q.neg_ = !positive && !digits.empty();
  q.digits_ = std::move(digits);
  q.exp_ = e32;
  return q;
}

std::string Quantity::string() const {
  if (!cached_.empty()) return cached_;
  if (is_zero()) return "0";
  Format format = format_;
  if (format == Format::BinarySI) {
    // |q| < 1024, or a fractional value, prints as DecimalSI.
    if (cmp_mag(digits_, exp_, "1024", 0) < 0 || exp_ < 0) format = Format::DecimalSI;
  }
  const std::string sign = neg_ ? "-" : "";
  if (format == Format::BinarySI) {
    std::string d = digits_ + std::string(static_cast<size_t>(exp_), '0');
    int e = 0;
    for (;;) {
      uint32_t rem = 0;
      std::string q = div_small(d, 1024, rem);
      if (rem != 0 || q.empty()) break;
      d = std::move(q);
      ++e;
    }
    static const char* const kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return sign + d + (e < 7 ? kBin[e] : "");
  }
  // Decimal: exponent a multiple of 3.
  std::string d = digits_;
  int64_t e = exp_;
  while (e % 3 != 0) {
    d.push_back('0');
    --e;
  }
  if (format == Format::DecimalExponent) {
    return sign + d + (e == 0 ? "" : "e" + std::to_string(e));
  }
  static constexpr struct {
    int64_t e;
    const char* s;
  } kDec[] = {{-9, "n"}, {-6, "u"}, {-3, "m"}, {0, ""}, {3, "k"}, {6, "M"}, {9, "G"}, {12, "T"}, {15, "P"}, {18, "E"}};
  for (const auto& s : kDec)
    if (s.e == e) return sign + d + s.s;
  // Beyond the SI table (upstream prints no suffix here, which misstates the value): exponent form.
  return sign + d + "e" + std::to_string(e);
}

int64_t Quantity::scaled_value(int scale) const {
  if (is_zero()) return 0;
  // |value| / 10^scale = digits × 10^(exp - scale), rounded away from zero.
  const int64_t shift = static_cast<int64_t>(exp_) - scale;
  std::string d = digits_;
  if (shift >= 0) {
    if (static_cast<int64_t>(d.size()) + shift > 19) return neg_ ? INT64_MIN : INT64_MAX;
    d.append(static_cast<size_t>(shift), '0');
  } else {
    const uint64_t drop = static_cast<uint64_t>(-shift);
    if (drop >= d.size()) {
      d = "1";  // a non-zero fraction rounds up to 1
    } else {
      d.resize(d.size() - drop);
      d = add_one(d);  // dropped digits are non-zero: digits_ has no trailing zeros
    }
  }
  if (d.size() > 19) return neg_ ? INT64_MIN : INT64_MAX;
  uint64_t v = 0;
  for (char c : d) {
    if (v > (UINT64_MAX - 9) / 10) return neg_ ? INT64_MIN : INT64_MAX;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (neg_) return v > (uint64_t{1} << 63) ? INT64_MIN : static_cast<int64_t>(~v + 1);
  return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
}

int Quantity::compare(const Quantity& o) const {
  if (sign() != o.sign()) return sign() < o.sign() ? -1 : 1;
  const int m = cmp_mag(digits_, exp_, o.digits_, o.exp_);
  return neg_ ? -m : m;
}

}  // namespace knode::config
