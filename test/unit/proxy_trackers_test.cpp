#include <catch2/catch.hpp>

#include "agent/proxy/endpoints_tracker.h"
#include "agent/proxy/service_tracker.h"
#include "proxy_test_objects.h"

using namespace knode;
using namespace knode::proxy;
using namespace knode::proxy::testing;
using netrules::IPFamily;

namespace {
netrules::ServicePortName spn(const std::string& ns, const std::string& name, const std::string& port = "http") {
  return {ns, name, port, netrules::Protocol::TCP};
}
}  // namespace

TEST_CASE("ServiceChangeTracker records previous and current per service", "[proxy][tracker]") {
  ServiceChangeTracker t(IPFamily::IPv4);
  auto a = make_service("ns", "a", "10.96.0.10");
  CHECK(t.update(nullptr, &a));
  auto b = a;
  b.spec.ports[0].port = 81;
  CHECK(t.update(&a, &b));  // coalesces with the add: previous stays empty
  auto changes = t.checkout();
  REQUIRE(changes.size() == 1);
  const auto& ch = changes.at({"ns", "a"});
  CHECK(ch.previous.empty());
  REQUIRE(ch.current.size() == 1);
  CHECK(ch.current.at(spn("ns", "a"))->port.port == 81);
  CHECK(t.pending() == 0);

  // A change and its reversal cancel out.
  auto c = b;
  c.spec.ports[0].port = 82;
  CHECK(t.update(&b, &c));
  CHECK_FALSE(t.update(&c, &b));
  CHECK(t.checkout().empty());

  // Deletion: previous holds the ports, current is empty.
  CHECK(t.update(&b, nullptr));
  changes = t.checkout();
  CHECK(changes.at({"ns", "a"}).current.empty());
  CHECK(changes.at({"ns", "a"}).previous.size() == 1);
}

TEST_CASE("ServiceChangeTracker skips services the proxy does not handle", "[proxy][tracker]") {
  ServiceChangeTracker t(IPFamily::IPv4);
  auto headless = make_service("ns", "h", "None");
  CHECK_FALSE(t.update(nullptr, &headless));
  auto ext = make_service("ns", "e", "");
  ext.spec.type = "ExternalName";
  ext.spec.cluster_ips.clear();
  CHECK_FALSE(t.update(nullptr, &ext));
  auto other = make_service("ns", "o", "10.96.0.11");
  other.metadata.labels[std::string(kube::kServiceProxyNameLabel)] = "someone-else";
  CHECK_FALSE(t.update(nullptr, &other));
  auto v6 = make_service("ns", "v6", "fd00::10");
  CHECK_FALSE(t.update(nullptr, &v6));
  CHECK(t.checkout().empty());
  CHECK(service_skip_reason(headless) == "headless");
  CHECK(service_skip_reason(ext) == "ExternalName");
}

TEST_CASE("service_ports converts the fields the rules need", "[proxy][tracker]") {
  auto s = make_service("ns", "lb", "10.96.0.12", 80, "LoadBalancer", 30080);
  s.spec.external_ips = {"192.0.2.1", "2001:db8::1"};
  s.spec.external_traffic_policy = "Local";
  s.spec.health_check_node_port = 32000;
  s.spec.internal_traffic_policy = "Local";
  s.spec.session_affinity = "ClientIP";
  s.spec.load_balancer_source_ranges = {" 198.51.100.0/24 "};
  s.status.load_balancer.ingress = {{.ip = "203.0.113.5"}, {.ip = "203.0.113.6", .ip_mode = "Proxy"}};
  s.spec.traffic_distribution = "PreferClose";
  auto m = service_ports(s, IPFamily::IPv4);
  REQUIRE(m.size() == 1);
  const auto& info = *m.begin()->second;
  CHECK(info.port.node_port == 30080);
  CHECK(info.port.external_ips == std::vector<std::string>{"192.0.2.1"});
  CHECK(info.port.external_traffic_policy == netrules::TrafficPolicy::Local);
  CHECK(info.port.internal_traffic_policy == netrules::TrafficPolicy::Local);
  CHECK(info.port.health_check_node_port == 32000);
  CHECK(info.port.session_affinity_client_ip);
  CHECK(info.port.sticky_max_age_seconds == 10800);
  CHECK(info.port.load_balancer_source_ranges == std::vector<std::string>{"198.51.100.0/24"});
  REQUIRE(info.port.load_balancer_ingress.size() == 2);
  CHECK(info.port.load_balancer_ingress[1].mode == netrules::LoadBalancerIPMode::Proxy);
  CHECK(info.port.load_balancer_vips() == std::vector<std::string>{"203.0.113.5"});
  CHECK(info.prefer_close);

  // A ClusterIP service keeps no node port even when one is written.
  auto c = make_service("ns", "c", "10.96.0.13", 80, "ClusterIP", 30081);
  CHECK(service_ports(c, IPFamily::IPv4).begin()->second->port.node_port == 0);
}

TEST_CASE("EndpointSliceTracker merges a service's slices", "[proxy][tracker]") {
  EndpointSliceTracker t("node-1", IPFamily::IPv4);
  auto s1 = make_slice("ns", "web", "web-1", {{.ip = "10.0.0.2", .node = "node-1"}, {.ip = "10.0.0.1"}});
  auto s2 = make_slice("ns", "web", "web-2", {{.ip = "10.0.0.3", .ready = false}, {.ip = "10.0.0.1"}});
  CHECK(t.update(nullptr, &s1));
  CHECK(t.update(nullptr, &s2));
  auto changes = t.checkout();
  REQUIRE(changes.size() == 1);
  const auto& eps = changes.at({"ns", "web"}).current.at(spn("ns", "web"));
  REQUIRE(eps.size() == 3);  // 10.0.0.1 appears once
  CHECK(eps[0].str() == "10.0.0.1:8080");
  CHECK(eps[1].str() == "10.0.0.2:8080");
  CHECK(eps[1].is_local);
  CHECK_FALSE(eps[2].ready);

  // Re-sending the same slice is no change at checkout.
  CHECK(t.update(&s1, &s1));
  CHECK(t.checkout().empty());

  // Removing one slice: the other slice's endpoints remain.
  CHECK(t.update(&s2, nullptr));
  changes = t.checkout();
  REQUIRE(changes.size() == 1);
  CHECK(changes.at({"ns", "web"}).current.at(spn("ns", "web")).size() == 2);
  CHECK(t.endpoints({"ns", "web"}) == changes.at({"ns", "web"}).current);

  // A change undone before the checkout is no change; one to another state is.
  auto s1b = s1;
  s1b.endpoints[1].conditions.ready = false;
  CHECK(t.update(&s1, &s1b));
  CHECK(t.update(&s1b, &s1));
  CHECK(t.checkout().empty());
  CHECK(t.update(&s1, &s1b));
  changes = t.checkout();
  REQUIRE(changes.size() == 1);
  CHECK_FALSE(changes.at({"ns", "web"}).current.at(spn("ns", "web"))[0].ready);
  // Every slice gone: reported once, with nothing left.
  CHECK(t.update(&s1b, nullptr));
  changes = t.checkout();
  REQUIRE(changes.size() == 1);
  CHECK(changes.at({"ns", "web"}).current.empty());
  CHECK(t.endpoints({"ns", "web"}).empty());
  CHECK(t.checkout().empty());

  // Slices without the service-name label or of another family are ignored.
  auto orphan = s1;
  orphan.metadata.labels.clear();
  CHECK_FALSE(t.update(nullptr, &orphan));
  auto v6 = make_slice("ns", "web", "web-v6", {{.ip = "fd00::1"}});
  v6.address_type = "IPv6";
  t.update(nullptr, &v6);
  CHECK(t.checkout().empty());
}

TEST_CASE("EndpointSliceTracker keeps the earliest trigger time", "[proxy][tracker]") {
  EndpointSliceTracker t("n", IPFamily::IPv4);
  auto s = make_slice("ns", "web", "web-1", {{.ip = "10.0.0.1"}});
  s.metadata.annotations[std::string(kube::kLastChangeTriggerTimeAnnotation)] = "2026-01-01T00:00:05Z";
  t.update(nullptr, &s);
  auto s2 = s;
  s2.endpoints[0].addresses = {"10.0.0.9"};
  s2.metadata.annotations[std::string(kube::kLastChangeTriggerTimeAnnotation)] = "2026-01-01T00:00:07.5Z";
  t.update(&s, &s2);
  auto ch = t.checkout();
  REQUIRE(ch.at({"ns", "web"}).trigger_time);
  CHECK(*ch.at({"ns", "web"}).trigger_time == *parse_rfc3339("2026-01-01T00:00:05Z"));
  CHECK(parse_rfc3339("2026-01-01T01:00:00+01:00") == parse_rfc3339("2026-01-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("yesterday"));
}

TEST_CASE("a port that did not change keeps the one copy the tracker, proxier and syncer share", "[proxy][tracker]") {
  ServiceChangeTracker t(IPFamily::IPv4);
  auto a = make_service("ns", "a", "10.96.0.10");
  auto p2 = a.spec.ports[0];
  p2.name = "https";
  p2.port = 443;
  a.spec.ports.push_back(p2);
  t.update(nullptr, &a);
  ServicePortMap map;
  apply_service_changes(map, t.checkout());
  REQUIRE(map.size() == 2);
  auto https = map.at(spn("ns", "a", "https"));
  auto b = a;
  b.spec.ports[0].port = 8080;  // the first port changes, https does not
  REQUIRE(t.update(&a, &b));
  auto changes = t.checkout();
  const auto& current = changes.at({"ns", "a"}).current;
  CHECK(current.at(spn("ns", "a", "https")) == https);  // the same object, not an equal copy
  CHECK(current.at(spn("ns", "a")) != map.at(spn("ns", "a")));
  CHECK(current.at(spn("ns", "a"))->port.port == 8080);
  apply_service_changes(map, changes);
  CHECK(map.at(spn("ns", "a", "https")) == https);
  CHECK(same_ports(map, changes.at({"ns", "a"}).current));
}

TEST_CASE("apply_service_changes replaces every port of a changed service", "[proxy][tracker]") {
  ServicePortMap map;
  ServiceChangeTracker t(IPFamily::IPv4);
  auto a = make_service("ns", "a", "10.96.0.10");
  auto p2 = a.spec.ports[0];
  p2.name = "https";
  p2.port = 443;
  a.spec.ports.push_back(p2);
  t.update(nullptr, &a);
  auto updated = apply_service_changes(map, t.checkout());
  CHECK(updated.size() == 1);
  CHECK(map.size() == 2);
  auto b = a;
  b.spec.ports.pop_back();
  t.update(&a, &b);
  apply_service_changes(map, t.checkout());
  CHECK(map.size() == 1);
  t.update(&b, nullptr);
  apply_service_changes(map, t.checkout());
  CHECK(map.empty());
}

TEST_CASE("ServiceChangeTracker measures changes against what it reported, not the previous object",
          "[proxy][tracker]") {
  // The proxy's informer cache keeps only metadata: the previous object of an update, and of a
  // deletion found by a relist, has no spec.
  ServiceChangeTracker t(IPFamily::IPv4);
  auto a = make_service("ns", "a", "10.96.0.10");
  kube::Service kept;
  kept.metadata.namespace_ = "ns";
  kept.metadata.name = "a";
  CHECK(t.update(nullptr, &a));
  CHECK(t.checkout().size() == 1);

  // An update that changes nothing the rules use (an annotation) is no change.
  auto annotated = a;
  annotated.metadata.annotations["example.com/owner"] = "team-a";
  CHECK_FALSE(t.update(&kept, &annotated));
  CHECK(t.pending() == 0);
  CHECK(t.checkout().empty());

  // A real change records the reported ports as previous.
  auto b = a;
  b.spec.ports[0].port = 81;
  CHECK(t.update(&kept, &b));
  auto changes = t.checkout();
  REQUIRE(changes.size() == 1);
  CHECK(changes.at({"ns", "a"}).previous.at(spn("ns", "a"))->port.port == 80);
  CHECK(changes.at({"ns", "a"}).current.at(spn("ns", "a"))->port.port == 81);

  // A deletion with only the kept metadata still removes the ports.
  CHECK(t.update(&kept, nullptr));
  changes = t.checkout();
  REQUIRE(changes.size() == 1);
  CHECK(changes.at({"ns", "a"}).previous.at(spn("ns", "a"))->port.port == 81);
  CHECK(changes.at({"ns", "a"}).current.empty());
  // Deleted services are forgotten: a second deletion is no change, a re-add starts from nothing.
  CHECK_FALSE(t.update(&kept, nullptr));
  CHECK(t.update(nullptr, &a));
  CHECK(t.checkout().at({"ns", "a"}).previous.empty());
}

TEST_CASE("EndpointSliceTracker handles a slice's removal from its kept metadata", "[proxy][tracker]") {
  EndpointSliceTracker t("node-1", IPFamily::IPv4);
  auto s1 = make_slice("ns", "web", "web-1", {{.ip = "10.0.0.1"}});
  auto s2 = make_slice("ns", "web", "web-2", {{.ip = "10.0.0.2"}});
  CHECK(t.update(nullptr, &s1));
  CHECK(t.update(nullptr, &s2));
  CHECK(t.checkout().size() == 1);
  kube::EndpointSlice kept;  // what the proxy's cache keeps: name, namespace, service label, addressType
  kept.metadata.namespace_ = "ns";
  kept.metadata.name = "web-1";
  kept.metadata.labels[std::string(kube::kServiceNameLabel)] = "web";
  kept.address_type = "IPv4";
  CHECK(t.update(&kept, nullptr));
  auto changes = t.checkout();
  REQUIRE(changes.size() == 1);
  const auto& eps = changes.at({"ns", "web"}).current.at(spn("ns", "web"));
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].ip == "10.0.0.2");
}
