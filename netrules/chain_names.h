// iptables chain names for services and endpoints, hashed exactly as upstream kube-proxy does:
// the first 16 characters of base32(sha256(servicePortName + protocol [+ endpoint])).
#pragma once

#include <string>
#include <string_view>

#include "netrules/model.h"

namespace knode::netrules {

// base32 (RFC 4648, standard alphabet, no padding cut) of sha256(input), first 16 characters.
std::string port_proto_hash(std::string_view service_port_name, std::string_view protocol);

struct ServiceChainNames {
  std::string cluster;   // KUBE-SVC-…: endpoints for Cluster policy
  std::string local;     // KUBE-SVL-…: endpoints for Local policy
  std::string external;  // KUBE-EXT-…: external destinations
  std::string firewall;  // KUBE-FW-…: loadBalancerSourceRanges
};
ServiceChainNames service_chain_names(const ServicePortName& name);
std::string endpoint_chain_name(const ServicePortName& name, const Endpoint& ep);

// True for KUBE-SVC-/KUBE-SVL-/KUBE-EXT-/KUBE-FW-/KUBE-SEP- chains.
bool is_service_chain_name(std::string_view chain);

}  // namespace knode::netrules
