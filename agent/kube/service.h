// core/v1 Service: the parts a service proxy reads (spec ports, IPs, policies, affinity, load
// balancer status, labels), with the same one-description codec as the other kube types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kServiceProxyNameLabel = "service.kubernetes.io/service-proxy-name";
inline constexpr std::string_view kHeadlessServiceLabel = "service.kubernetes.io/headless";
inline constexpr std::string_view kTopologyModeAnnotation = "service.kubernetes.io/topology-mode";
inline constexpr std::string_view kTopologyAwareHintsAnnotation = "service.kubernetes.io/topology-aware-hints";

struct ServicePortSpec {
  std::string name;
  std::string protocol;  // TCP (default), UDP, SCTP
  std::optional<std::string> app_protocol;
  int32_t port = 0;
  IntOrString target_port;
  int32_t node_port = 0;
  bool operator==(const ServicePortSpec&) const = default;
};

struct ClientIPConfig {
  std::optional<int32_t> timeout_seconds;
  bool operator==(const ClientIPConfig&) const = default;
};

struct SessionAffinityConfig {
  std::optional<ClientIPConfig> client_ip;
  bool operator==(const SessionAffinityConfig&) const = default;
};

struct ServiceSpec {
  std::string type;  // ClusterIP (default), NodePort, LoadBalancer, ExternalName
  std::vector<ServicePortSpec> ports;
  std::map<std::string, std::string> selector;
  std::string cluster_ip;  // "None" for headless
  std::vector<std::string> cluster_ips;
  std::vector<std::string> external_ips;
  std::string external_name;
  std::string load_balancer_ip;
  std::vector<std::string> load_balancer_source_ranges;
  std::string session_affinity;  // None (default), ClientIP
  std::optional<SessionAffinityConfig> session_affinity_config;
  std::string external_traffic_policy;  // Cluster (default), Local
  std::optional<std::string> internal_traffic_policy;
  int32_t health_check_node_port = 0;
  std::vector<std::string> ip_families;
  std::optional<std::string> ip_family_policy;
  std::optional<std::string> traffic_distribution;  // PreferClose
  bool publish_not_ready_addresses = false;
  std::optional<bool> allocate_load_balancer_node_ports;
  std::optional<std::string> load_balancer_class;
  bool operator==(const ServiceSpec&) const = default;
};

struct PortStatus {
  int32_t port = 0;
  std::string protocol;
  std::optional<std::string> error;
  bool operator==(const PortStatus&) const = default;
};

struct LoadBalancerIngressStatus {
  std::string ip;
  std::string hostname;
  std::optional<std::string> ip_mode;  // VIP (default), Proxy
  std::vector<PortStatus> ports;
  bool operator==(const LoadBalancerIngressStatus&) const = default;
};

struct LoadBalancerStatus {
  std::vector<LoadBalancerIngressStatus> ingress;
  bool operator==(const LoadBalancerStatus&) const = default;
};

struct ServiceStatus {
  LoadBalancerStatus load_balancer;
  bool operator==(const ServiceStatus&) const = default;
};

struct Service {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  ServiceSpec spec;
  ServiceStatus status;
  bool operator==(const Service&) const = default;

  bool is_headless() const { return spec.cluster_ip == "None"; }
  // spec.clusterIPs, or spec.clusterIP alone for objects written before dual-stack.
  std::vector<std::string> all_cluster_ips() const;
};

// Decoding: errors read `service "ns/name": spec.ports[0].port: expected integer, got "x"`.
Result<Service> decode_service(const boost::json::value& v);
Result<Service> decode_service_json(std::string_view text);
std::string encode_service_json(const Service& s);

}  // namespace knode::kube
