#include "cni/version.h"

#include <charconv>

namespace knode::cni {

std::optional<SpecVersion> parse_version(std::string_view text) {
  SpecVersion v;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  size_t i = 0;
  std::string_view rest = text;
  while (true) {
    if (i == 3 || rest.empty()) return std::nullopt;
    auto dot = rest.find('.');
    std::string_view num = rest.substr(0, dot);
    if (num.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), *parts[i]);
    if (ec != std::errc() || p != num.data() + num.size() || *parts[i] < 0) return std::nullopt;
    ++i;
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  return v;
}

bool version_at_least(std::string_view a, std::string_view b) {
  auto va = parse_version(a);
  auto vb = parse_version(b);
  return va && vb && *va >= *vb;
}

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> kVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return kVersions;
}

bool result_version_supported(std::string_view v) {
  for (const auto& s : supported_versions()) {
    if (s == v) return true;
  }
  return false;
}

}  // namespace knode::cni
