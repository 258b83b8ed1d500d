#include "netrules/model.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>

namespace knode::netrules {

const char* protocol_lower(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "tcp";
    case Protocol::UDP: return "udp";
    case Protocol::SCTP: return "sctp";
  }
  return "tcp";
}

bool needs_conntrack_cleanup(Protocol p) { return p == Protocol::UDP || p == Protocol::SCTP; }

std::string ServicePortName::str() const {
  std::string s = namespace_name + "/" + name;
  if (!port.empty()) s += ":" + port;
  return s;
}

std::vector<std::string> ServicePort::load_balancer_vips() const {
  std::vector<std::string> out;
  for (const auto& in : load_balancer_ingress)
    if (in.mode == LoadBalancerIPMode::VIP && !in.ip.empty()) out.push_back(in.ip);
  return out;
}

bool ServicePort::externally_accessible() const {
  if (node_port != 0 || !external_ips.empty()) return true;
  return std::any_of(load_balancer_ingress.begin(), load_balancer_ingress.end(), [](const auto& in) {
    return in.mode == LoadBalancerIPMode::VIP && !in.ip.empty();
  });
}

bool ServicePort::external_policy_local() const {
  return externally_accessible() && external_traffic_policy == TrafficPolicy::Local;
}

bool ServicePort::uses_cluster_endpoints() const {
  // Cluster endpoints serve internal traffic unless iTP=Local, and any externally reachable
  // service needs them: even with eTP=Local, pod and node traffic is short-circuited to them.
  return !internal_policy_local() || externally_accessible();
}

bool ServicePort::uses_local_endpoints() const {
  return internal_policy_local() || (externally_accessible() && external_policy_local());
}

bool is_ipv6(const std::string& ip) { return ip.find(':') != std::string::npos; }

IPFamily family_of(const std::string& ip_or_cidr) {
  return is_ipv6(ip_or_cidr.substr(0, ip_or_cidr.find('/'))) ? IPFamily::IPv6 : IPFamily::IPv4;
}

const char* family_name(IPFamily f) { return f == IPFamily::IPv6 ? "IPv6" : "IPv4"; }

bool cidr_contains(const std::string& cidr, const std::string& ip) {
  auto slash = cidr.find('/');
  std::string net = cidr.substr(0, slash);
  int bits = slash == std::string::npos ? -1 : std::atoi(cidr.c_str() + slash + 1);
  unsigned char a[16], b[16];
  int len;
  if (inet_pton(AF_INET, net.c_str(), a) == 1 && inet_pton(AF_INET, ip.c_str(), b) == 1) len = 4;
  else if (inet_pton(AF_INET6, net.c_str(), a) == 1 && inet_pton(AF_INET6, ip.c_str(), b) == 1) len = 16;
  else return false;
  if (bits < 0) bits = len * 8;
  if (bits > len * 8) return false;
  for (int i = 0; i < len && bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

std::string Endpoint::str() const {
  if (is_ipv6(ip)) return fmt::format("[{}]:{}", ip, port);
  return fmt::format("{}:{}", ip, port);
}

std::vector<std::string> LocalTrafficDetector::if_local() const {
  switch (mode) {
    case Mode::ClusterCIDR:
    case Mode::NodeCIDR: return {"-s", value};
    case Mode::BridgeInterface: return {"-i", value};
    case Mode::InterfaceNamePrefix: return {"-i", value + "+"};
    case Mode::None: break;
  }
  return {};
}

std::vector<std::string> LocalTrafficDetector::if_not_local() const {
  auto v = if_local();
  if (!v.empty()) v.insert(v.begin(), "!");
  return v;
}

std::string NodeSettings::masquerade_mark() const {
  return fmt::format("{:#x}", 1u << masquerade_bit);
}

CategorizedEndpoints categorize_endpoints(const ServicePort& svc, const std::vector<Endpoint>& eps) {
  CategorizedEndpoints c;
  if (svc.uses_cluster_endpoints()) {
    for (const auto& ep : eps)
      if (ep.ready) c.cluster.push_back(&ep);
    // No ready endpoint anywhere: fall back to serving-and-terminating ones.
    if (c.cluster.empty())
      for (const auto& ep : eps)
        if (ep.serving && ep.terminating) c.cluster.push_back(&ep);
    if (!c.cluster.empty()) c.has_any = true;
  }
  if (!svc.uses_local_endpoints()) {
    c.all_reachable = c.cluster;
    return c;
  }
  bool local_ready = false, local_serving_terminating = false;
  for (const auto& ep : eps) {
    if (ep.ready) {
      c.has_any = true;
      if (ep.is_local) local_ready = true;
    } else if (ep.serving && ep.terminating) {
      c.has_any = true;
      if (ep.is_local) local_serving_terminating = true;
    }
  }
  if (local_ready) {
    for (const auto& ep : eps)
      if (ep.is_local && ep.ready) c.local.push_back(&ep);
  } else if (local_serving_terminating) {
    for (const auto& ep : eps)
      if (ep.is_local && ep.serving && ep.terminating) c.local.push_back(&ep);
  }
  if (!svc.uses_cluster_endpoints()) {
    c.all_reachable = c.local;
    return c;
  }
  // Both policies in use: the union, keeping input order.
  for (const auto& ep : eps) {
    const Endpoint* p = &ep;
    if (std::find(c.cluster.begin(), c.cluster.end(), p) != c.cluster.end() ||
        std::find(c.local.begin(), c.local.end(), p) != c.local.end())
      c.all_reachable.push_back(p);
  }
  return c;
}

}  // namespace knode::netrules
