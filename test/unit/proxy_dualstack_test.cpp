// Dual-stack: the primary family and the families run (upstream's detection), one proxier per
// family behind the MetaProxier (each family's rules from its own cluster IPs and EndpointSlices),
// health per family, health check ports merged.
#include <catch2/catch.hpp>

#include "agent/proxy/meta_proxier.h"
#include "agent/proxy/metrics.h"
#include "netrules/fake_backend.h"
#include "proxy_test_objects.h"

using namespace knode;
using namespace knode::proxy;
using namespace knode::proxy::testing;
using namespace std::chrono_literals;
using netrules::IPFamily;

namespace {

bool contains(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

struct DualStack {
  netrules::FakeBackend b4, b6;
  netrules::IptablesSyncer s4{b4, netrules::NodeSettings{}}, s6{b6, netrules::NodeSettings{.family = IPFamily::IPv6}};
  FakeClock clock;
  ProxierHealth health{clock, 60s};
  ProxyMetrics metrics;
  FakeServiceHealth service_health;
  std::vector<netrules::ConntrackCleanup> conntrack;
  MetaProxier proxier{ProxierOptions{.hostname = "node-1",
                                     .node = {.cluster_cidr = "10.244.0.0/16,fd00:244::/56"},
                                     .local_addresses = [] { return std::vector<std::string>{"192.168.1.10", "fd00:77::1"}; }},
                      {IPFamily::IPv4, IPFamily::IPv6},
                      {&s4, &s6},
                      ProxierDeps{.syncer = s4, .clock = clock, .health = &health, .metrics = &metrics,
                                  .service_health = &service_health,
                                  .conntrack = [this](const netrules::ConntrackCleanup& c) {
                                    conntrack.push_back(c);
                                    return Status{};
                                  }}};
  DualStack() {
    proxier.services_synced();
    proxier.endpoint_slices_synced();
    proxier.node_synced();
  }
};

kube::EndpointSlice slice6(const std::string& svc, const std::string& name, const std::vector<Ep>& eps) {
  auto s = make_slice("default", svc, name, eps);
  s.address_type = "IPv6";
  return s;
}

}  // namespace

TEST_CASE("the primary family comes from the bind address, else the Node's first address", "[proxy][ipv6]") {
  CHECK(primary_family("fd00::1", nullptr) == IPFamily::IPv6);
  CHECK(primary_family("10.0.0.1", nullptr) == IPFamily::IPv4);
  auto v6_first = make_node("n", "fd00:77::1");
  v6_first.status.addresses.push_back({"InternalIP", "192.168.1.10"});
  CHECK(primary_family("0.0.0.0", &v6_first) == IPFamily::IPv6);
  CHECK(primary_family("::", &v6_first) == IPFamily::IPv6);
  CHECK(primary_family("", &v6_first) == IPFamily::IPv6);
  CHECK(primary_family("192.168.1.10", &v6_first) == IPFamily::IPv4);
  CHECK(primary_family("", nullptr) == IPFamily::IPv4);  // upstream assumes 127.0.0.1
}

TEST_CASE("dual-stack when the other family's iptables works, single-stack otherwise", "[proxy][ipv6]") {
  using V = std::vector<IPFamily>;
  CHECK(proxy_families(IPFamily::IPv4, true, true) == V{IPFamily::IPv4, IPFamily::IPv6});
  CHECK(proxy_families(IPFamily::IPv6, true, true) == V{IPFamily::IPv6, IPFamily::IPv4});
  CHECK(proxy_families(IPFamily::IPv6, true, false) == V{IPFamily::IPv6});  // single-stack IPv6
  CHECK(proxy_families(IPFamily::IPv4, true, false) == V{IPFamily::IPv4});
  CHECK(proxy_families(IPFamily::IPv6, false, true).empty());  // no support for the primary family
}

TEST_CASE("each family's proxier programs its own cluster IPs and EndpointSlices", "[proxy][ipv6]") {
  DualStack d;
  auto svc = make_service("default", "web", "10.96.0.10");
  svc.spec.cluster_ips = {"10.96.0.10", "fd00:10:96::10"};
  svc.spec.ip_families = {"IPv4", "IPv6"};
  svc.spec.external_ips = {"203.0.113.5", "2001:db8::5"};
  d.proxier.on_service(nullptr, &svc);
  auto s4 = make_slice("default", "web", "web-v4", {{.ip = "10.244.1.11", .node = "node-1"}});
  auto s6 = slice6("web", "web-v6", {{.ip = "fd00:244::11", .node = "node-1"}, {.ip = "fd00:244::12"}});
  d.proxier.on_endpoint_slice(nullptr, &s4);
  d.proxier.on_endpoint_slice(nullptr, &s6);
  auto v6only = make_service("default", "only6", "fd00:10:96::20");
  v6only.spec.ip_families = {"IPv6"};
  d.proxier.on_service(nullptr, &v6only);
  d.proxier.sync();

  const std::string save4 = d.b4.state().save(), save6 = d.b6.state().save();
  CHECK(contains(save4, "-d 10.96.0.10"));
  CHECK(contains(save4, "--to-destination 10.244.1.11:8080"));
  CHECK(contains(save4, "-d 203.0.113.5"));
  CHECK_FALSE(contains(save4, "fd00:"));
  CHECK_FALSE(contains(save4, "2001:db8"));
  CHECK(contains(save6, "-d fd00:10:96::10"));
  CHECK(contains(save6, "--to-destination [fd00:244::11]:8080"));
  CHECK(contains(save6, "--to-destination [fd00:244::12]:8080"));
  CHECK(contains(save6, "-d 2001:db8::5"));
  CHECK(contains(save6, "-d fd00:10:96::20"));
  CHECK(contains(save6, "! -s fd00:244::/56"));  // this family's part of clusterCIDR
  CHECK_FALSE(contains(save6, "10.96.0.10"));
  CHECK_FALSE(contains(save6, "10.244."));
  CHECK_FALSE(contains(save6, "KUBE-FIREWALL"));  // IPv4 only
  CHECK(d.proxier.family(0).stats().syncs == 1);
  CHECK(d.proxier.family(1).stats().syncs == 1);
  CHECK(d.health.is_healthy());
}

TEST_CASE("a stale family makes the dual-stack proxy unhealthy", "[proxy][ipv6]") {
  FakeClock clock;
  ProxierHealth h(clock, 60s);
  h.queued_update(IPFamily::IPv4);
  h.queued_update(IPFamily::IPv6);
  h.updated(IPFamily::IPv4);
  clock.advance(61s);
  CHECK_FALSE(h.is_healthy());  // IPv6's change waits too long although IPv4 is current
  h.updated(IPFamily::IPv6);
  CHECK(h.is_healthy());
}

TEST_CASE("health check ports serve the union of the families' Services", "[proxy][ipv6]") {
  DualStack d;
  auto lb = make_service("default", "lb", "10.96.0.30", 80, "LoadBalancer", 30080);
  lb.spec.cluster_ips = {"10.96.0.30", "fd00:10:96::30"};
  lb.spec.external_traffic_policy = "Local";
  lb.spec.health_check_node_port = 31000;
  auto lb6 = make_service("default", "lb6", "fd00:10:96::31", 80, "LoadBalancer", 30081);
  lb6.spec.external_traffic_policy = "Local";
  lb6.spec.health_check_node_port = 31001;
  d.proxier.on_service(nullptr, &lb);
  d.proxier.on_service(nullptr, &lb6);
  auto e4 = make_slice("default", "lb", "lb-v4", {{.ip = "10.244.1.11", .node = "node-1"}});
  auto e6 = slice6("lb", "lb-v6", {{.ip = "fd00:244::11", .node = "node-1"}, {.ip = "fd00:244::12", .node = "node-1"}});
  d.proxier.on_endpoint_slice(nullptr, &e4);
  d.proxier.on_endpoint_slice(nullptr, &e6);
  d.proxier.sync();
  CHECK(d.service_health.ports == std::map<NamespacedName, int>{{{"default", "lb"}, 31000}, {{"default", "lb6"}, 31001}});
  CHECK(d.service_health.counts[{"default", "lb"}] == 2);  // the larger family's local count
}

TEST_CASE("nodePortAddresses: each family keeps its own CIDRs; none of a family means every address", "[proxy][ipv6]") {
  NodeSettingsConfig c{.node_port_addresses = {"fd00:77::/64"}};
  const std::vector<std::string> local{"192.168.1.10", "fd00:77::1", "fd00:99::1", "::1"};
  c.family = IPFamily::IPv6;
  auto s6 = build_node_settings(c, nullptr, local);
  REQUIRE(s6.ok());
  CHECK_FALSE(s6->nodeport_all_local);
  CHECK(s6->nodeport_ips == std::vector<std::string>{"fd00:77::1"});
  c.family = IPFamily::IPv4;
  auto s4 = build_node_settings(c, nullptr, local);
  REQUIRE(s4.ok());
  CHECK(s4->nodeport_all_local);  // upstream: the family's zero CIDR
  c.node_port_addresses = {"192.168.1.0/24", "fd00:77::/64"};
  auto both4 = build_node_settings(c, nullptr, local);
  REQUIRE(both4.ok());
  CHECK(both4->nodeport_ips == std::vector<std::string>{"192.168.1.10"});
}

TEST_CASE("nodePortAddresses primary: the second family without a node IP keeps every address", "[proxy][ipv6]") {
  NodeSettingsConfig c{.family = IPFamily::IPv6, .node_port_addresses = {"primary"}, .primary_family = false};
  auto node = make_node("n", "192.168.1.10");
  auto s6 = build_node_settings(c, &node, {"192.168.1.10", "fd00:77::1"});
  REQUIRE(s6.ok());
  CHECK(s6->nodeport_all_local);
  node.status.addresses.push_back({"InternalIP", "fd00:77::1"});
  s6 = build_node_settings(c, &node, {"192.168.1.10", "fd00:77::1"});
  REQUIRE(s6.ok());
  CHECK(s6->nodeport_ips == std::vector<std::string>{"fd00:77::1"});
  c.primary_family = true;  // the primary family waits for its node IP, as before
  auto none = make_node("n", "192.168.1.10");
  CHECK_FALSE(build_node_settings(c, &none, {}).ok());
}
