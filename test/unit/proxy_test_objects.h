// Builders of Service / EndpointSlice / Node objects for the proxy's unit tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/kube/endpointslice.h"
#include "agent/kube/node.h"
#include "agent/kube/service.h"
#include "agent/proxy/service_health.h"

namespace knode::proxy::testing {

// Records what a proxier hands to the health check node port servers.
struct FakeServiceHealth : ServiceHealthRegistry {
  std::map<NamespacedName, int> ports, counts;
  void sync_services(const std::map<NamespacedName, int>& p) override { ports = p; }
  void sync_endpoints(const std::map<NamespacedName, int>& c) override { counts = c; }
};

inline kube::Service make_service(const std::string& ns, const std::string& name, const std::string& ip,
                                  int port = 80, const std::string& type = "ClusterIP", int node_port = 0) {
  kube::Service s;
  s.metadata.namespace_ = ns;
  s.metadata.name = name;
  s.spec.type = type;
  s.spec.cluster_ip = ip;
  s.spec.cluster_ips = {ip};
  kube::ServicePortSpec p;
  p.name = "http";
  p.protocol = "TCP";
  p.port = port;
  p.target_port = kube::IntOrString::of(8080);
  p.node_port = node_port;
  s.spec.ports.push_back(p);
  return s;
}

struct Ep {
  std::string ip;
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::string node;
  std::string zone;
  std::vector<std::string> hints;
};

inline kube::EndpointSlice make_slice(const std::string& ns, const std::string& svc, const std::string& slice,
                                      const std::vector<Ep>& eps, int port = 8080, const std::string& port_name = "http") {
  kube::EndpointSlice s;
  s.metadata.namespace_ = ns;
  s.metadata.name = slice;
  s.metadata.labels[std::string(kube::kServiceNameLabel)] = svc;
  s.address_type = "IPv4";
  for (const auto& e : eps) {
    kube::SliceEndpoint se;
    se.addresses = {e.ip};
    se.conditions.ready = e.ready;
    se.conditions.serving = e.serving;
    se.conditions.terminating = e.terminating;
    if (!e.node.empty()) se.node_name = e.node;
    if (!e.zone.empty()) se.zone = e.zone;
    if (!e.hints.empty()) {
      kube::EndpointHints h;
      for (const auto& z : e.hints) h.for_zones.push_back({z});
      se.hints = h;
    }
    s.endpoints.push_back(se);
  }
  kube::SlicePort p;
  p.name = port_name;
  p.protocol = "TCP";
  p.port = port;
  s.ports.push_back(p);
  return s;
}

inline kube::Node make_node(const std::string& name, const std::string& ip, const std::string& zone = {},
                            const std::string& pod_cidr = {}) {
  kube::Node n;
  n.metadata.name = name;
  if (!zone.empty()) n.metadata.labels[std::string(kube::kTopologyZoneLabel)] = zone;
  if (!pod_cidr.empty()) {
    n.spec.pod_cidr = pod_cidr;
    n.spec.pod_cidrs = {pod_cidr};
  }
  n.status.addresses.push_back({"InternalIP", ip});
  return n;
}

}  // namespace knode::proxy::testing
