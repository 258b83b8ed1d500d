#include "agent/kube/service.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(ServicePortSpec) {
  v("name", o.name)("protocol", o.protocol)("appProtocol", o.app_protocol)("port", o.port, kAlways)
   ("targetPort", o.target_port)("nodePort", o.node_port);
}
KUBE_DESCRIBE(ClientIPConfig) { v("timeoutSeconds", o.timeout_seconds); }
KUBE_DESCRIBE(SessionAffinityConfig) { v("clientIP", o.client_ip); }
KUBE_DESCRIBE(ServiceSpec) {
  v("type", o.type)("ports", o.ports)("selector", o.selector)("clusterIP", o.cluster_ip)
   ("clusterIPs", o.cluster_ips)("externalIPs", o.external_ips)("externalName", o.external_name)
   ("loadBalancerIP", o.load_balancer_ip)("loadBalancerSourceRanges", o.load_balancer_source_ranges)
   ("sessionAffinity", o.session_affinity)("sessionAffinityConfig", o.session_affinity_config)
   ("externalTrafficPolicy", o.external_traffic_policy)("internalTrafficPolicy", o.internal_traffic_policy)
   ("healthCheckNodePort", o.health_check_node_port)("ipFamilies", o.ip_families)
   ("ipFamilyPolicy", o.ip_family_policy)("trafficDistribution", o.traffic_distribution)
   ("publishNotReadyAddresses", o.publish_not_ready_addresses)
   ("allocateLoadBalancerNodePorts", o.allocate_load_balancer_node_ports)
   ("loadBalancerClass", o.load_balancer_class);
}
KUBE_DESCRIBE(PortStatus) { v("port", o.port, kAlways)("protocol", o.protocol, kAlways)("error", o.error); }
KUBE_DESCRIBE(LoadBalancerIngressStatus) {
  v("ip", o.ip)("hostname", o.hostname)("ipMode", o.ip_mode)("ports", o.ports);
}
KUBE_DESCRIBE(LoadBalancerStatus) { v("ingress", o.ingress); }
KUBE_DESCRIBE(ServiceStatus) { v("loadBalancer", o.load_balancer); }
KUBE_DESCRIBE(Service) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec)("status", o.status);
}

#undef KUBE_DESCRIBE

std::vector<std::string> Service::all_cluster_ips() const {
  if (!spec.cluster_ips.empty()) return spec.cluster_ips;
  if (!spec.cluster_ip.empty()) return {spec.cluster_ip};
  return {};
}

Result<Service> decode_service(const json::value& v) {
  return decode_object<Service>(v, DecodeOptions{.kind = "Service", .api_version = "v1"});
}

Result<Service> decode_service_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("service");
  return decode_service(*root);
}

std::string encode_service_json(const Service& s) { return to_json_text(encode_value(s)); }

}  // namespace knode::kube
