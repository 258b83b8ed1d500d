// CNI spec versions: parsing, ordering, and the set this runtime speaks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace knode::cni {

// The newest spec version knode implements (sent when a list allows it).
inline constexpr std::string_view kCurrentVersion = "1.1.0";

// A dotted spec version "major.minor.patch" (missing parts are 0, as libcni reads them).
struct SpecVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const SpecVersion&) const = default;
};

std::optional<SpecVersion> parse_version(std::string_view text);
// a >= b; false when either does not parse.
bool version_at_least(std::string_view a, std::string_view b);
// Versions whose results knode reads and writes: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0.
bool result_version_supported(std::string_view v);
const std::vector<std::string>& supported_versions();

}  // namespace knode::cni
