#include "agent/proxy/node_settings.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <sstream>

namespace knode::proxy {
namespace {

bool of_family(const std::string& s, netrules::IPFamily f) { return netrules::family_of(s) == f; }

std::vector<std::string> split_comma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

bool cidr_contains(const std::string& cidr, const std::string& ip) { return netrules::cidr_contains(cidr, ip); }

std::vector<std::string> local_interface_addresses() {
  std::vector<std::string> out;
  struct ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return out;
  for (auto* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN];
    if (i->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      out.emplace_back(buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf, sizeof buf);
      out.emplace_back(buf);
    }
  }
  freeifaddrs(ifs);
  return out;
}

bool needs_node(const NodeSettingsConfig& c) {
  return c.detect_local_mode == "NodeCIDR" ||
         (c.node_port_addresses.size() == 1 && c.node_port_addresses[0] == "primary");
}

std::string node_ip(const NodeSettingsConfig& c, const kube::Node* node) {
  if (!c.bind_address.empty() && c.bind_address != "0.0.0.0" && c.bind_address != "::" &&
      of_family(c.bind_address, c.family))
    return c.bind_address;
  if (!node) return {};
  for (const char* type : {"InternalIP", "ExternalIP"})
    for (const auto& a : node->status.addresses)
      if (a.type == type && of_family(a.address, c.family)) return a.address;
  return {};
}

netrules::IPFamily primary_family(const std::string& bind_address, const kube::Node* node) {
  if (!bind_address.empty() && bind_address != "0.0.0.0" && bind_address != "::")
    return netrules::family_of(bind_address);
  if (node)
    for (const char* type : {"InternalIP", "ExternalIP"})
      for (const auto& a : node->status.addresses)
        if (a.type == type && !a.address.empty()) return netrules::family_of(a.address);
  return netrules::IPFamily::IPv4;
}

std::vector<netrules::IPFamily> proxy_families(netrules::IPFamily primary, bool primary_supported,
                                               bool other_supported) {
  const auto other = primary == netrules::IPFamily::IPv4 ? netrules::IPFamily::IPv6 : netrules::IPFamily::IPv4;
  if (!primary_supported) return {};
  if (other_supported) return {primary, other};
  return {primary};
}

Result<netrules::NodeSettings> build_node_settings(const NodeSettingsConfig& c, const kube::Node* node,
                                                   const std::vector<std::string>& local_addresses) {
  netrules::NodeSettings s;
  s.family = c.family;
  s.masquerade_bit = c.masquerade_bit;
  s.masquerade_all = c.masquerade_all;
  s.localhost_nodeports = c.localhost_node_ports && c.family == netrules::IPFamily::IPv4;
  s.conntrack_tcp_be_liberal = c.conntrack_tcp_be_liberal;
  s.node_ip = node_ip(c, node);

  using Mode = netrules::LocalTrafficDetector::Mode;
  if (c.detect_local_mode == "ClusterCIDR" || c.detect_local_mode.empty()) {
    for (const auto& cidr : split_comma(c.cluster_cidr))
      if (of_family(cidr, c.family)) {
        s.local_detector = {Mode::ClusterCIDR, cidr};
        break;
      }
  } else if (c.detect_local_mode == "NodeCIDR") {
    if (!node) return Error("detectLocalMode NodeCIDR: this node's Node object is not known yet");
    for (const auto& cidr : node->all_pod_cidrs())
      if (of_family(cidr, c.family)) {
        s.local_detector = {Mode::NodeCIDR, cidr};
        break;
      }
    if (!s.local_detector.implemented())
      return Error("detectLocalMode NodeCIDR: node \"" + node->metadata.name + "\" has no spec.podCIDRs of this family");
  } else if (c.detect_local_mode == "BridgeInterface") {
    s.local_detector = {Mode::BridgeInterface, c.bridge_interface};
  } else if (c.detect_local_mode == "InterfaceNamePrefix") {
    s.local_detector = {Mode::InterfaceNamePrefix, c.interface_name_prefix};
  }

  // Unset, a catch-all CIDR of this family (upstream's MatchAll) or no CIDR of this family at all
  // (upstream then uses the family's zero CIDR): every local address, also those added later.
  const std::string catch_all = c.family == netrules::IPFamily::IPv4 ? "0.0.0.0/0" : "::/0";
  const bool none_of_family = std::none_of(c.node_port_addresses.begin(), c.node_port_addresses.end(),
                                           [&](const std::string& a) {
                                             if (a == "primary") return c.primary_family || !s.node_ip.empty();
                                             return of_family(a, c.family);
                                           });
  if (none_of_family ||
      std::find(c.node_port_addresses.begin(), c.node_port_addresses.end(), catch_all) != c.node_port_addresses.end()) {
    s.nodeport_all_local = true;
  } else {
    s.nodeport_all_local = false;
    for (const auto& a : c.node_port_addresses) {
      if (a == "primary") {
        if (s.node_ip.empty()) return Error("nodePortAddresses primary: this node has no IP of this family yet");
        s.nodeport_ips.push_back(s.node_ip);
        continue;
      }
      if (!of_family(a, c.family)) continue;
      for (const auto& ip : local_addresses)
        if (cidr_contains(a, ip) &&
            std::find(s.nodeport_ips.begin(), s.nodeport_ips.end(), ip) == s.nodeport_ips.end())
          s.nodeport_ips.push_back(ip);
    }
    // localhost NodePorts only when a loopback address is among the NodePort addresses.
    bool has_loopback = false;
    for (const auto& ip : s.nodeport_ips) has_loopback |= cidr_contains("127.0.0.0/8", ip);
    s.localhost_nodeports = s.localhost_nodeports && has_loopback;
  }
  return s;
}

}  // namespace knode::proxy
