// The node-level rule settings (netrules::NodeSettings) from the proxy configuration, this node's
// Node object and the addresses of the local interfaces: local-traffic detection
// (ClusterCIDR / NodeCIDR from spec.podCIDRs / BridgeInterface / InterfaceNamePrefix), NodePort
// addresses, masquerading and localhost NodePorts.
#pragma once

#include <string>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/node.h"
#include "netrules/model.h"

namespace knode::proxy {

struct NodeSettingsConfig {
  netrules::IPFamily family = netrules::IPFamily::IPv4;
  int masquerade_bit = 14;
  bool masquerade_all = false;
  std::string detect_local_mode;  // ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix
  std::string cluster_cidr;       // one CIDR or a dual-stack pair "a,b"
  std::string bridge_interface;
  std::string interface_name_prefix;
  std::vector<std::string> node_port_addresses;  // CIDRs or {"primary"}; empty: all local addresses
  bool localhost_node_ports = true;
  bool conntrack_tcp_be_liberal = false;
  std::string bind_address;  // a non-zero bind address is the node IP, as upstream
  // False for a dual-stack proxy's second family: there "primary" without a node IP of the family
  // means every address (upstream keeps no CIDR of that family), instead of waiting for one.
  bool primary_family = true;
};

// Whether the settings need the Node object (NodeCIDR mode, "primary" NodePort addresses).
bool needs_node(const NodeSettingsConfig& c);

// Fails (naming what is missing) when the Node is needed but absent or lacks a podCIDR.
Result<netrules::NodeSettings> build_node_settings(const NodeSettingsConfig& c, const kube::Node* node,
                                                   const std::vector<std::string>& local_addresses);

// The node's primary IP of the family: bind address, else InternalIP, else ExternalIP ("" if none).
std::string node_ip(const NodeSettingsConfig& c, const kube::Node* node);

// The node's primary IP family, as upstream detects it: a non-zero bind address, else the Node's
// first InternalIP (then ExternalIP); IPv4 when neither is known (upstream assumes 127.0.0.1).
netrules::IPFamily primary_family(const std::string& bind_address, const kube::Node* node);

// The families to run a proxier for, primary first, as upstream decides it: both when both
// families' iptables work (dual-stack), the primary alone when only it works, none (an error:
// "no support for primary IP family") when the primary's iptables does not work.
std::vector<netrules::IPFamily> proxy_families(netrules::IPFamily primary, bool primary_supported,
                                               bool other_supported);

// The IPs on this network namespace's interfaces (getifaddrs), both families.
std::vector<std::string> local_interface_addresses();

// "10.0.0.0/8" contains "10.1.2.3"; false for malformed input or mixed families.
bool cidr_contains(const std::string& cidr, const std::string& ip);

}  // namespace knode::proxy
