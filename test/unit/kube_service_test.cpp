#include <catch2/catch.hpp>

#include "agent/kube/endpointslice.h"
#include "agent/kube/node.h"
#include "agent/kube/service.h"

using namespace knode::kube;

TEST_CASE("Service decodes the fields a proxy reads", "[kube][service]") {
  auto s = decode_service_json(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "default",
                 "labels": {"service.kubernetes.io/service-proxy-name": "other"},
                 "annotations": {"service.kubernetes.io/topology-mode": "Auto"}},
    "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
             "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web", "nodePort": 30080},
                       {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 5353}],
             "externalIPs": ["192.0.2.1"], "loadBalancerSourceRanges": ["198.51.100.0/24"],
             "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
             "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster", "healthCheckNodePort": 32000,
             "ipFamilies": ["IPv4"], "trafficDistribution": "PreferClose", "publishNotReadyAddresses": true,
             "allocateLoadBalancerNodePorts": false},
    "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5", "ipMode": "Proxy"}, {"hostname": "lb.example"}]}}
  })");
  REQUIRE(s.ok());
  CHECK(s->metadata.name == "web");
  CHECK(s->spec.type == "LoadBalancer");
  REQUIRE(s->spec.ports.size() == 2);
  CHECK(s->spec.ports[0].target_port == IntOrString::of("web"));
  CHECK(s->spec.ports[0].node_port == 30080);
  CHECK(s->spec.ports[1].target_port == IntOrString::of(5353));
  CHECK(s->spec.session_affinity_config->client_ip->timeout_seconds == 60);
  CHECK(s->spec.external_traffic_policy == "Local");
  CHECK(s->spec.health_check_node_port == 32000);
  CHECK(s->spec.traffic_distribution == "PreferClose");
  CHECK(s->spec.publish_not_ready_addresses);
  CHECK(s->spec.allocate_load_balancer_node_ports == false);
  REQUIRE(s->status.load_balancer.ingress.size() == 2);
  CHECK(s->status.load_balancer.ingress[0].ip_mode == "Proxy");
  CHECK(s->status.load_balancer.ingress[1].hostname == "lb.example");
  CHECK(s->all_cluster_ips() == std::vector<std::string>{"10.96.0.10"});
  CHECK_FALSE(s->is_headless());

  // Round trip through the encoder.
  auto again = decode_service_json(encode_service_json(*s));
  REQUIRE(again.ok());
  CHECK(*again == *s);
}

TEST_CASE("Service decode errors name the object and the field", "[kube][service]") {
  auto s = decode_service_json(R"({"metadata": {"name": "web", "namespace": "ns"},
                                   "spec": {"ports": [{"port": "eighty"}]}})");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "service \"ns/web\": spec.ports[0].port: expected integer, got \"eighty\"");
  auto k = decode_service_json(R"({"kind": "Pod", "metadata": {"name": "x"}})");
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().message().find("kind") != std::string::npos);
}

TEST_CASE("EndpointSlice decodes conditions, hints and ports", "[kube][endpointslice]") {
  auto s = decode_endpoint_slice_json(R"({
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "web-abc", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "endpoints": [
      {"addresses": ["10.0.0.1"], "conditions": {"ready": true, "serving": true, "terminating": false},
       "nodeName": "n1", "zone": "a", "hints": {"forZones": [{"name": "a"}]}},
      {"addresses": ["10.0.0.2"], "conditions": {"ready": false, "serving": true, "terminating": true}},
      {"addresses": ["10.0.0.3"], "conditions": {}}],
    "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]
  })");
  REQUIRE(s.ok());
  CHECK(s->service_name() == "web");
  CHECK(s->address_type == "IPv4");
  REQUIRE(s->endpoints.size() == 3);
  CHECK(s->endpoints[0].is_ready());
  CHECK(s->endpoints[0].hints->for_zones[0].name == "a");
  CHECK_FALSE(s->endpoints[1].is_ready());
  CHECK(s->endpoints[1].is_serving());
  CHECK(s->endpoints[1].is_terminating());
  // Absent conditions mean ready and serving, not terminating.
  CHECK(s->endpoints[2].is_ready());
  CHECK(s->endpoints[2].is_serving());
  CHECK_FALSE(s->endpoints[2].is_terminating());
  CHECK(s->ports[0].port == 8080);

  auto bad = decode_endpoint_slice_json(R"({"metadata": {"name": "e", "namespace": "ns"},
                                             "endpoints": [{"addresses": ["1.2.3.4"], "conditions": {"ready": 1}}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "endpointslice \"ns/e\": endpoints[0].conditions.ready: expected boolean, got 1");
}

TEST_CASE("Node decodes zone, pod CIDRs and addresses", "[kube][node]") {
  auto n = decode_node_json(R"({
    "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "zone-a"}},
    "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
             "taints": [{"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}]},
    "status": {"addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "192.168.1.10"}]}
  })");
  REQUIRE(n.ok());
  CHECK(n->zone() == "zone-a");
  CHECK(n->all_pod_cidrs() == std::vector<std::string>{"10.244.1.0/24"});
  CHECK(n->address("InternalIP") == "192.168.1.10");
  CHECK(n->spec.taints.size() == 1);
  auto bad = decode_node_json(R"({"metadata": {"name": "n1"}, "spec": {"podCIDRs": "10.0.0.0/24"}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "node \"n1\": spec.podCIDRs: expected array, got \"10.0.0.0/24\"");
}
