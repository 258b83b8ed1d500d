// A small cluster shared by the netrules unit tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "netrules/model.h"

namespace knode::netrules::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Compares with test/fixtures/netrules/<name>; KNODE_UPDATE_GOLDEN=1 rewrites it.
inline void check_golden(const std::string& name, const std::string& got) {
  std::string path = std::string(KNODE_SOURCE_DIR) + "/test/fixtures/netrules/" + name;
  if (std::getenv("KNODE_UPDATE_GOLDEN")) std::ofstream(path) << got;
  std::string want = read_file(path);
  INFO("golden file " << path << " (set KNODE_UPDATE_GOLDEN=1 to regenerate)");
  CHECK(got == want);
}

inline ServicePortName spn(std::string ns, std::string name, std::string port, Protocol p = Protocol::TCP) {
  return {.namespace_name = std::move(ns), .name = std::move(name), .port = std::move(port), .protocol = p};
}

inline NodeSettings test_node() {
  NodeSettings n;
  n.local_detector = {.mode = LocalTrafficDetector::Mode::ClusterCIDR, .value = "10.0.0.0/8"};
  n.node_ip = "192.168.0.2";
  return n;
}

inline constexpr const char* kNodeIP = "192.168.0.2";

struct TestService {
  ServicePort port;
  std::vector<Endpoint> endpoints;
};

// ns1/svc1: ClusterIP, 3 endpoints (one local). ns2/svc2: NodePort + external IP + LB with
// source ranges, eTP=Local, 2 endpoints (one local). ns3/svc3: ClusterIP with no endpoints.
// ns4/svc4: UDP, session affinity, 2 endpoints. ns5/svc5: NodePort eTP=Local, no local endpoint.
inline std::vector<TestService> small_cluster() {
  std::vector<TestService> out;
  out.push_back({ServicePort{.name = spn("ns1", "svc1", "p80"), .cluster_ip = "172.30.0.41", .port = 80},
                 {{.ip = "10.180.0.1", .port = 80, .is_local = true},
                  {.ip = "10.180.1.1", .port = 80},
                  {.ip = "10.180.2.1", .port = 80}}});
  out.push_back({ServicePort{.name = spn("ns2", "svc2", "p80"),
                             .cluster_ip = "172.30.0.42",
                             .port = 80,
                             .node_port = 3001,
                             .external_ips = {"192.168.99.22"},
                             .load_balancer_ingress = {{.ip = "1.2.3.4"}, {.ip = "5.6.7.8", .mode = LoadBalancerIPMode::Proxy}},
                             .load_balancer_source_ranges = {"203.0.113.0/25"},
                             .external_traffic_policy = TrafficPolicy::Local,
                             .health_check_node_port = 30000},
                 {{.ip = "10.180.0.2", .port = 8080, .is_local = true}, {.ip = "10.180.1.2", .port = 8080}}});
  out.push_back({ServicePort{.name = spn("ns3", "svc3", "p80"), .cluster_ip = "172.30.0.43", .port = 80}, {}});
  out.push_back({ServicePort{.name = spn("ns4", "svc4", "dns", Protocol::UDP),
                             .cluster_ip = "172.30.0.44",
                             .port = 53,
                             .session_affinity_client_ip = true,
                             .sticky_max_age_seconds = 10800},
                 {{.ip = "10.180.0.4", .port = 53, .is_local = true}, {.ip = "10.180.1.4", .port = 53}}});
  out.push_back({ServicePort{.name = spn("ns5", "svc5", "p80"),
                             .cluster_ip = "172.30.0.45",
                             .port = 80,
                             .node_port = 3002,
                             .external_traffic_policy = TrafficPolicy::Local},
                 {{.ip = "10.180.1.5", .port = 80}}});
  return out;
}

}  // namespace knode::netrules::testing
