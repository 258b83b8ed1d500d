// The Result a plugin prints on ADD, in one model for every version knode reads (0.3.0, 0.3.1,
// 0.4.0, 1.0.0, 1.1.0), and its JSON in any of those versions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"

namespace knode::cni {

struct Interface {
  std::string name;
  std::string mac;
  int mtu = 0;              // 1.1.0
  std::string sandbox;
  std::string socket_path;  // 1.1.0
  std::string pci_id;       // 1.1.0
  bool operator==(const Interface&) const = default;
};

struct IPConfig {
  std::optional<int> interface;  // index into interfaces
  std::string address;           // CIDR, e.g. "10.22.0.5/24"
  std::string gateway;           // optional
  bool operator==(const IPConfig&) const = default;
};

struct Route {
  std::string dst;  // CIDR
  std::string gw;   // optional
  int mtu = 0;      // 1.1.0 fields below
  int advmss = 0;
  int priority = 0;
  std::optional<int> table;
  std::optional<int> scope;
  bool operator==(const Route&) const = default;
};

struct DNS {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
  bool operator==(const DNS&) const = default;
};

struct PluginResult {
  std::string cni_version;  // the version it was read in (or converted to)
  std::vector<Interface> interfaces;
  std::vector<IPConfig> ips;
  std::vector<Route> routes;
  DNS dns;
  bool operator==(const PluginResult&) const = default;
};

// Parses a result in any supported version; the error names the field.
Result<PluginResult> parse_result(std::string_view json);
// The result as `version` (fields that version lacks are dropped; 0.3/0.4 get ips[].version).
// `indent` non-empty pretty-prints as Go's MarshalIndent does.
Result<std::string> result_to_json(const PluginResult& r, std::string_view version,
                                   std::string_view indent = {});

}  // namespace knode::cni
