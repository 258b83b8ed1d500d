// The Service rule model: what the proxy's change trackers hand to a rules backend. No Kubernetes
// API types: ports, endpoints and node-level settings only, already resolved (topology hints
// applied, EndpointSlices merged) by the caller.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <vector>

namespace knode::netrules {

enum class Protocol { TCP, UDP, SCTP };
enum class IPFamily { IPv4, IPv6 };
enum class TrafficPolicy { Cluster, Local };
// status.loadBalancer.ingress[].ipMode: VIP (the node captures the IP) or Proxy (the LB proxies to
// the node; the IP is not programmed).
enum class LoadBalancerIPMode { VIP, Proxy };

// "tcp", "udp", "sctp": the spelling used in chain-name hashes and iptables matches.
const char* protocol_lower(Protocol p);
bool needs_conntrack_cleanup(Protocol p);  // UDP and SCTP: connectionless flows outlive rule changes

// namespace/name:port (port name may be empty) plus the protocol, like upstream's ServicePortName.
struct ServicePortName {
  std::string namespace_name;
  std::string name;
  std::string port;  // the port's name; "" for a single unnamed port
  Protocol protocol = Protocol::TCP;

  // "ns/name:port" or "ns/name" (the protocol is not part of the string).
  std::string str() const;
  auto operator<=>(const ServicePortName&) const = default;
};

struct LoadBalancerIngress {
  std::string ip;
  LoadBalancerIPMode mode = LoadBalancerIPMode::VIP;
  bool operator==(const LoadBalancerIngress&) const = default;
};

// One port of one Service.
struct ServicePort {
  ServicePortName name;
  std::string cluster_ip;  // one family's cluster IP
  int port = 0;
  int node_port = 0;       // 0: none
  std::vector<std::string> external_ips;
  std::vector<LoadBalancerIngress> load_balancer_ingress;
  std::vector<std::string> load_balancer_source_ranges;  // CIDRs
  bool session_affinity_client_ip = false;
  int sticky_max_age_seconds = 10800;
  TrafficPolicy external_traffic_policy = TrafficPolicy::Cluster;
  TrafficPolicy internal_traffic_policy = TrafficPolicy::Cluster;
  int health_check_node_port = 0;

  // Load-balancer IPs the node captures (ipMode VIP).
  std::vector<std::string> load_balancer_vips() const;
  bool externally_accessible() const;   // NodePort, external IPs or LB VIPs
  bool external_policy_local() const;   // externally accessible and eTP=Local
  bool internal_policy_local() const { return internal_traffic_policy == TrafficPolicy::Local; }
  bool uses_cluster_endpoints() const;
  bool uses_local_endpoints() const;
  bool operator==(const ServicePort&) const = default;
};

struct Endpoint {
  std::string ip;
  int port = 0;
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  bool is_local = false;  // (zones are not kept: the caller already applied topology hints)

  // "ip:port", "[ip6]:port" — the DNAT target and part of the KUBE-SEP hash.
  std::string str() const;
  bool operator==(const Endpoint&) const = default;
};

// How "traffic from this cluster's pods" is recognised (--detect-local-mode).
struct LocalTrafficDetector {
  enum class Mode { None, ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix };
  Mode mode = Mode::None;
  std::string value;  // the CIDR, bridge name or interface prefix

  bool implemented() const { return mode != Mode::None && !value.empty(); }
  std::vector<std::string> if_local() const;      // e.g. {"-s", "10.0.0.0/8"}
  std::vector<std::string> if_not_local() const;  // e.g. {"!", "-s", "10.0.0.0/8"}
  bool operator==(const LocalTrafficDetector&) const = default;
};

// Node-level proxy settings for one IP family.
struct NodeSettings {
  IPFamily family = IPFamily::IPv4;
  int masquerade_bit = 14;
  bool masquerade_all = false;
  LocalTrafficDetector local_detector;
  std::string node_ip;  // primary node IP of this family (LB source ranges that contain it)
  // --nodeport-addresses resolved: either every local address (addrtype LOCAL) or these IPs.
  bool nodeport_all_local = true;
  std::vector<std::string> nodeport_ips;
  bool localhost_nodeports = true;          // IPv4 only; needs route_localnet=1
  bool conntrack_tcp_be_liberal = false;    // skip the INVALID drop rule
  bool masquerade_random_fully = true;
  // Above this many endpoint chains, per-endpoint comments are left out (upstream's large
  // cluster mode).
  int large_cluster_endpoints_threshold = 1000;

  // "0x4000" for bit 14.
  std::string masquerade_mark() const;
  bool operator==(const NodeSettings&) const = default;
};

// Endpoints split by traffic policy, as upstream's CategorizeEndpoints does.
struct CategorizedEndpoints {
  std::vector<const Endpoint*> cluster;
  std::vector<const Endpoint*> local;
  std::vector<const Endpoint*> all_reachable;  // union, in input order
  bool has_any = false;
};
CategorizedEndpoints categorize_endpoints(const ServicePort& svc, const std::vector<Endpoint>& eps);

bool is_ipv6(const std::string& ip);
// The family of an address or CIDR ("fd00::/64" is IPv6).
IPFamily family_of(const std::string& ip_or_cidr);
const char* family_name(IPFamily f);  // "IPv4", "IPv6" (also EndpointSlice addressType)
// "10.0.0.0/8" contains "10.1.2.3", "fd00::/64" contains "fd00::5"; a bare address is /32 or
// /128; false for malformed input or mixed families.
bool cidr_contains(const std::string& cidr, const std::string& ip);

}  // namespace knode::netrules
