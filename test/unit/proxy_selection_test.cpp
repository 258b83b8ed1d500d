#include <catch2/catch.hpp>

#include "agent/proxy/endpoint_selection.h"
#include "agent/proxy/endpoints_tracker.h"
#include "proxy_test_objects.h"

using namespace knode;
using namespace knode::proxy;
using namespace knode::proxy::testing;

namespace {

ServiceInfo svc(netrules::TrafficPolicy itp = netrules::TrafficPolicy::Cluster,
                netrules::TrafficPolicy etp = netrules::TrafficPolicy::Cluster, int node_port = 0) {
  ServiceInfo s;
  s.port.name = {"ns", "web", "http", netrules::Protocol::TCP};
  s.port.cluster_ip = "10.96.0.10";
  s.port.port = 80;
  s.port.node_port = node_port;
  s.port.internal_traffic_policy = itp;
  s.port.external_traffic_policy = etp;
  return s;
}

std::vector<EndpointInfo> eps(const std::vector<Ep>& list) {
  auto slice = make_slice("ns", "web", "web-1", list);
  auto m = merge_slices({{"web-1", slice}}, "me", netrules::IPFamily::IPv4);
  return m.begin()->second;
}

std::vector<std::string> ips(const std::vector<netrules::Endpoint>& l) {
  std::vector<std::string> out;
  for (const auto& e : l) out.push_back(e.ip);
  return out;
}

}  // namespace

TEST_CASE("Ready endpoints are used; terminating ones only when none is ready", "[proxy][selection]") {
  auto s = svc();
  auto sel = select_endpoints(s, eps({{.ip = "10.0.0.1"}, {.ip = "10.0.0.2", .ready = false, .terminating = true},
                                      {.ip = "10.0.0.3", .ready = false, .serving = false}}), "");
  CHECK(ips(sel.cluster) == std::vector<std::string>{"10.0.0.1"});
  CHECK(sel.has_any);

  sel = select_endpoints(s, eps({{.ip = "10.0.0.2", .ready = false, .terminating = true},
                                 {.ip = "10.0.0.3", .ready = false, .serving = false, .terminating = true},
                                 {.ip = "10.0.0.4", .ready = false}}), "");
  CHECK(ips(sel.cluster) == std::vector<std::string>{"10.0.0.2"});
  CHECK(sel.has_any);

  sel = select_endpoints(s, eps({{.ip = "10.0.0.4", .ready = false}}), "");
  CHECK(sel.cluster.empty());
  CHECK_FALSE(sel.has_any);
}

TEST_CASE("Local traffic policies use this node's endpoints", "[proxy][selection]") {
  auto list = eps({{.ip = "10.0.0.1", .node = "me"}, {.ip = "10.0.0.2", .node = "other"}});
  auto itp = select_endpoints(svc(netrules::TrafficPolicy::Local), list, "");
  CHECK(ips(itp.local) == std::vector<std::string>{"10.0.0.1"});

  auto etp = select_endpoints(svc(netrules::TrafficPolicy::Cluster, netrules::TrafficPolicy::Local, 30080), list, "");
  CHECK(ips(etp.local) == std::vector<std::string>{"10.0.0.1"});
  CHECK(ips(etp.cluster) == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});

  // No local endpoint: nothing local, but endpoints exist elsewhere.
  auto none = select_endpoints(svc(netrules::TrafficPolicy::Local), eps({{.ip = "10.0.0.2", .node = "other"}}), "");
  CHECK(none.local.empty());
  CHECK(none.has_any);

  // Local terminating fallback.
  auto term = select_endpoints(svc(netrules::TrafficPolicy::Local),
                               eps({{.ip = "10.0.0.1", .ready = false, .terminating = true, .node = "me"},
                                    {.ip = "10.0.0.2", .node = "other"}}), "");
  CHECK(ips(term.local) == std::vector<std::string>{"10.0.0.1"});
}

TEST_CASE("Topology hints narrow cluster endpoints to this zone", "[proxy][selection]") {
  auto s = svc();
  s.prefer_close = true;
  auto hinted = eps({{.ip = "10.0.0.1", .zone = "a", .hints = {"a"}},
                     {.ip = "10.0.0.2", .zone = "b", .hints = {"b"}},
                     {.ip = "10.0.0.3", .zone = "b", .hints = {"a", "b"}}});
  CHECK(can_use_topology(s, hinted, "a"));
  CHECK(ips(select_endpoints(s, hinted, "a").cluster) == std::vector<std::string>{"10.0.0.1", "10.0.0.3"});
  CHECK(ips(select_endpoints(s, hinted, "b").cluster) == std::vector<std::string>{"10.0.0.2", "10.0.0.3"});

  // Not used: the service does not ask, the node has no zone, no endpoint for the zone, or one
  // ready endpoint lacks hints.
  auto plain = svc();
  CHECK(select_endpoints(plain, hinted, "a").cluster.size() == 3);
  CHECK(select_endpoints(s, hinted, "").cluster.size() == 3);
  CHECK(select_endpoints(s, hinted, "c").cluster.size() == 3);
  auto partial = eps({{.ip = "10.0.0.1", .zone = "a", .hints = {"a"}}, {.ip = "10.0.0.2", .zone = "b"}});
  CHECK_FALSE(can_use_topology(s, partial, "a"));
  CHECK(select_endpoints(s, partial, "a").cluster.size() == 2);
  // Not-ready endpoints without hints do not disable topology.
  auto unready = eps({{.ip = "10.0.0.1", .zone = "a", .hints = {"a"}}, {.ip = "10.0.0.2", .ready = false}});
  CHECK(can_use_topology(s, unready, "a"));
}

TEST_CASE("local_ready_endpoints counts distinct ready local endpoints per service", "[proxy][selection]") {
  EndpointsMap m;
  auto a = eps({{.ip = "10.0.0.1", .node = "me"}, {.ip = "10.0.0.2", .ready = false, .node = "me"},
                {.ip = "10.0.0.3", .node = "other"}});
  m[{"ns", "web", "http", netrules::Protocol::TCP}] = a;
  auto counts = local_ready_endpoints(m);
  CHECK(counts.at({"ns", "web"}) == 1);
}
