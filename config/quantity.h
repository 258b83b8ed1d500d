// Kubernetes resource.Quantity: parsing as resource.ParseQuantity and printing as Quantity.String()
// (canonical form: "1.5Gi" → "1536Mi", "1000m" → "1", "0.5" → "500m"; a value already in canonical
// form keeps its original spelling, as upstream caches it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/result.h"

namespace knode::config {

class Quantity {
 public:
  enum class Format { DecimalSI, BinarySI, DecimalExponent };

  Quantity() = default;  // zero, DecimalSI
  static Quantity from_int(int64_t v, Format f = Format::DecimalSI);

  // Errors carry upstream's messages ("quantities must match the regular expression ...",
  // "unable to parse quantity's suffix", "unable to parse numeric part of quantity").
  static Result<Quantity> parse(std::string_view s);

  std::string string() const;  // canonical text
  Format format() const { return format_; }
  bool is_zero() const { return digits_.empty(); }
  int sign() const { return is_zero() ? 0 : (neg_ ? -1 : 1); }

  // The value rounded up (away from zero) to an integer / to thousandths; saturates at int64 limits.
  int64_t value() const { return scaled_value(0); }
  int64_t milli_value() const { return scaled_value(-3); }
  // value × 10^-scale rounded away from zero, e.g. scaled_value(-3) == milli_value().
  int64_t scaled_value(int scale) const;

  // -1, 0, 1.
  int compare(const Quantity& o) const;
  bool operator==(const Quantity& o) const { return compare(o) == 0; }
  bool operator<(const Quantity& o) const { return compare(o) < 0; }

 private:
  // value = (neg ? -1 : 1) × digits × 10^exp; digits has no leading zeros, empty means zero.
  bool neg_ = false;
  std::string digits_;
  int32_t exp_ = 0;
  Format format_ = Format::DecimalSI;
  std::string cached_;  // the input spelling when upstream would keep it
};

}  // namespace knode::config
