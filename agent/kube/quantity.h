// resource.Quantity: "500m", "1Gi", "2", "1e3" — parsed exactly as upstream's ParseQuantity, kept
// as written (so encoding returns the same text) and readable as integers the way upstream's
// Value()/MilliValue() round (up).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/result.h"

namespace knode::kube {

class Quantity {
 public:
  Quantity() = default;
  // Parses upstream's quantity grammar: [+-] digits [. digits] [suffix], suffix one of
  // Ki Mi Gi Ti Pi Ei | n u m "" k M G T P E | e<int> / E<int>.
  static Result<Quantity> parse(std::string_view text);
  // For tests and code: a quantity of `milli` thousandths, written as upstream would ("100m", "2").
  static Quantity from_milli(int64_t milli);
  static Quantity from_value(int64_t value);

  const std::string& text() const { return text_; }
  // Rounded up to an integer (upstream's Value()), saturating at int64 bounds.
  int64_t value() const { return scaled(0); }
  // Rounded up to thousandths (upstream's MilliValue()).
  int64_t milli_value() const { return scaled(3); }
  bool is_zero() const { return nano_ == 0; }
  bool negative() const { return nano_ < 0; }
  // Exact comparison at nano precision (upstream compares exact decimals; values finer than 1n are
  // rounded up to 1n at parse time, as upstream's canonical form does).
  std::strong_ordering operator<=>(const Quantity& o) const { return nano_ <=> o.nano_; }
  bool operator==(const Quantity& o) const { return nano_ == o.nano_; }

 private:
  int64_t scaled(int decimals) const;
  std::string text_;
  __int128 nano_ = 0;  // value × 10^9, rounded up
};

}  // namespace knode::kube
