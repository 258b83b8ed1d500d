// core/v1 Node: the parts a service proxy reads (labels such as topology.kubernetes.io/zone,
// spec.podCIDR(s), taints, status.addresses), with the same one-description codec.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kTopologyZoneLabel = "topology.kubernetes.io/zone";

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
  std::optional<Time> time_added;
  bool operator==(const Taint&) const = default;
};

struct NodeSpec {
  std::string pod_cidr;
  std::vector<std::string> pod_cidrs;
  std::string provider_id;
  bool unschedulable = false;
  std::vector<Taint> taints;
  bool operator==(const NodeSpec&) const = default;
};

struct NodeAddress {
  std::string type;  // InternalIP, ExternalIP, Hostname, InternalDNS, ExternalDNS
  std::string address;
  bool operator==(const NodeAddress&) const = default;
};

struct NodeStatusLite {
  std::vector<NodeAddress> addresses;
  bool operator==(const NodeStatusLite&) const = default;
};

struct Node {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatusLite status;
  bool operator==(const Node&) const = default;

  std::string zone() const;
  // spec.podCIDRs, or spec.podCIDR alone.
  std::vector<std::string> all_pod_cidrs() const;
  // The first address of the given type ("" when none).
  std::string address(std::string_view type) const;
};

// Errors read `node "n1": spec.podCIDRs: expected array, got "x"`.
Result<Node> decode_node(const boost::json::value& v);
Result<Node> decode_node_json(std::string_view text);
std::string encode_node_json(const Node& n);

}  // namespace knode::kube
