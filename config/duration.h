// Go's time.Duration: parsing as time.ParseDuration and printing as Duration.String(), so that
// configuration values round-trip exactly as upstream components print them ("1m0s", "100ms").
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/result.h"

namespace knode::config {

struct Duration {
  int64_t ns = 0;

  static constexpr Duration nanoseconds(int64_t n) { return {n}; }
  static constexpr Duration milliseconds(int64_t n) { return {n * 1'000'000}; }
  static constexpr Duration seconds(int64_t n) { return {n * 1'000'000'000}; }
  static constexpr Duration minutes(int64_t n) { return {n * 60'000'000'000}; }
  static constexpr Duration hours(int64_t n) { return {n * 3'600'000'000'000}; }

  double seconds_f() const { return static_cast<double>(ns) / 1e9; }
  bool is_zero() const { return ns == 0; }
  auto operator<=>(const Duration&) const = default;
};

// Parses "300ms", "1h2m3.5s", "-1.5h", "0" (units ns, us, µs, ms, s, m, h). The error message is
// Go's, e.g. `time: unknown unit "x" in duration "10x"`.
Result<Duration> parse_duration(std::string_view s);

// Formats as Go's Duration.String(): "0s", "1.5s", "100ms", "1m0s", "24h0m0s", "-2µs".
std::string format_duration(Duration d);

}  // namespace knode::config
