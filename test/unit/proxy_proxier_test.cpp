#include <catch2/catch.hpp>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "agent/proxy/cleanup.h"
#include "agent/proxy/metrics.h"
#include "agent/proxy/proxier.h"
#include "netrules/fake_backend.h"
#include "proxy_test_objects.h"

using namespace knode;
using namespace knode::proxy;
using namespace knode::proxy::testing;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

// Whether some "-A <chain> ..." line of the save text mentions `needle`.
bool chain_mentions(const std::string& save, const std::string& chain, const std::string& needle) {
  size_t pos = 0;
  std::string prefix = "-A " + chain + " ";
  while (pos < save.size()) {
    size_t nl = save.find('\n', pos);
    if (nl == std::string::npos) nl = save.size();
    std::string line = save.substr(pos, nl - pos);
    if (line.rfind(prefix, 0) == 0 && contains(line, needle)) return true;
    pos = nl + 1;
  }
  return false;
}

struct Fixture {
  netrules::FakeBackend backend;
  netrules::IptablesSyncer syncer{backend, netrules::NodeSettings{}};
  FakeClock clock;
  ProxierHealth health{clock, 60s};
  ProxyMetrics metrics;
  FakeServiceHealth service_health;
  std::vector<netrules::ConntrackCleanup> conntrack;
  int run_requests = 0;
  std::vector<Duration> retries;
  Proxier proxier{ProxierOptions{.hostname = "node-1",
                                 .node = {.cluster_cidr = "10.244.0.0/16"},
                                 .sync_period = 30s,
                                 .local_addresses = [] { return std::vector<std::string>{"127.0.0.1", "192.168.1.10"}; }},
                  ProxierDeps{.syncer = syncer, .clock = clock, .health = &health, .metrics = &metrics,
                              .service_health = &service_health,
                              .conntrack = [this](const netrules::ConntrackCleanup& c) {
                                conntrack.push_back(c);
                                return Status{};
                              }}};
  Fixture() {
    proxier.set_runner([this] { ++run_requests; }, [this](Duration d) { retries.push_back(d); });
  }
  void all_synced() {
    proxier.services_synced();
    proxier.endpoint_slices_synced();
    proxier.node_synced();
  }
  std::string rules() { return *backend.save(); }
};

}  // namespace

TEST_CASE("Proxier does not sync before Services and EndpointSlices have synced", "[proxy][proxier]") {
  Fixture f;
  auto svc = make_service("default", "web", "10.96.0.10");
  f.proxier.on_service(nullptr, &svc);
  CHECK(f.run_requests == 0);  // not initialized: nothing queued
  f.proxier.sync();
  CHECK(f.backend.payloads().empty());
  f.proxier.services_synced();
  CHECK_FALSE(f.proxier.initialized());
  f.proxier.endpoint_slices_synced();
  CHECK(f.proxier.initialized());
  CHECK(f.run_requests == 1);
  f.proxier.sync();
  CHECK(f.backend.payloads().size() == 1);
}

TEST_CASE("Proxier programs services and endpoints and follows changes with partial syncs", "[proxy][proxier]") {
  Fixture f;
  f.all_synced();
  auto svc = make_service("default", "web", "10.96.0.10", 80, "NodePort", 30080);
  auto slice = make_slice("default", "web", "web-1", {{.ip = "10.244.1.2", .node = "node-1"}, {.ip = "10.244.2.2"}});
  f.proxier.on_service(nullptr, &svc);
  f.proxier.on_endpoint_slice(nullptr, &slice);
  f.proxier.sync();
  auto st = f.proxier.stats();
  CHECK(st.syncs == 1);
  CHECK(st.full_syncs == 1);
  std::string rules = f.rules();
  CHECK(contains(rules, "default/web:http cluster IP"));
  CHECK(contains(rules, "10.96.0.10"));
  CHECK(contains(rules, "--to-destination 10.244.1.2:8080"));
  CHECK(contains(rules, "--to-destination 10.244.2.2:8080"));
  CHECK(contains(rules, "--dport 30080"));
  CHECK(f.health.is_healthy());

  // One endpoint goes away: a partial sync removes it.
  auto slice2 = make_slice("default", "web", "web-1", {{.ip = "10.244.1.2", .node = "node-1"}});
  f.proxier.on_endpoint_slice(&slice, &slice2);
  f.proxier.sync();
  st = f.proxier.stats();
  CHECK(st.partial_syncs == 1);
  rules = f.rules();
  CHECK_FALSE(contains(rules, "10.244.2.2:8080"));
  CHECK(contains(rules, "10.244.1.2:8080"));

  // No endpoints: the service rejects.
  auto empty = make_slice("default", "web", "web-1", {});
  f.proxier.on_endpoint_slice(&slice2, &empty);
  f.proxier.sync();
  rules = f.rules();
  CHECK(contains(rules, "has no endpoints"));
  CHECK(contains(rules, "REJECT"));

  // Service deleted: its rules go.
  f.proxier.on_service(&svc, nullptr);
  f.proxier.sync();
  CHECK_FALSE(contains(f.rules(), "10.96.0.10"));
  CHECK(f.proxier.services().empty());
}

TEST_CASE("Proxier retries a failed transaction with a full sync and stays unhealthy meanwhile", "[proxy][proxier]") {
  Fixture f;
  f.all_synced();
  f.proxier.sync();
  auto svc = make_service("default", "web", "10.96.0.10");
  f.proxier.on_service(nullptr, &svc);
  f.backend.fail_next_restore();
  f.proxier.sync();
  CHECK(f.proxier.stats().failed_syncs == 1);
  REQUIRE(f.retries.size() == 1);
  CHECK(f.retries[0] == 30s);
  f.clock.advance(61s);
  CHECK_FALSE(f.health.is_healthy());
  f.proxier.sync();
  CHECK(f.proxier.stats().full_syncs == 2);
  CHECK(contains(f.rules(), "10.96.0.10"));
  CHECK(f.health.is_healthy());
}

TEST_CASE("Proxier resyncs everything when the canary chains were flushed", "[proxy][proxier]") {
  Fixture f;
  f.all_synced();
  auto svc = make_service("default", "web", "10.96.0.10");
  auto slice = make_slice("default", "web", "web-1", {{.ip = "10.244.1.2"}});
  f.proxier.on_service(nullptr, &svc);
  f.proxier.on_endpoint_slice(nullptr, &slice);
  f.proxier.sync();
  REQUIRE(f.backend.restore("*nat\n:KUBE-PROXY-CANARY - [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n").ok());
  CHECK_FALSE(chain_mentions(f.rules(), "KUBE-SERVICES", "10.96.0.10"));
  f.proxier.sync();  // the periodic run: nothing pending, checks the canary
  CHECK(chain_mentions(f.rules(), "KUBE-SERVICES", "10.96.0.10"));
  CHECK(f.proxier.stats().full_syncs == 2);
}

TEST_CASE("Proxier serves health check node ports of eTP=Local load balancers", "[proxy][proxier]") {
  Fixture f;
  f.all_synced();
  auto svc = make_service("default", "lb", "10.96.0.20", 80, "LoadBalancer", 30090);
  svc.spec.external_traffic_policy = "Local";
  svc.spec.health_check_node_port = 32100;
  auto slice = make_slice("default", "lb", "lb-1", {{.ip = "10.244.1.2", .node = "node-1"},
                                                   {.ip = "10.244.1.3", .node = "node-1"},
                                                   {.ip = "10.244.2.2", .node = "node-2"}});
  f.proxier.on_service(nullptr, &svc);
  f.proxier.on_endpoint_slice(nullptr, &slice);
  f.proxier.sync();
  CHECK(f.service_health.ports.at({"default", "lb"}) == 32100);
  CHECK(f.service_health.counts.at({"default", "lb"}) == 2);
  auto remote = make_slice("default", "lb", "lb-1", {{.ip = "10.244.2.2", .node = "node-2"}});
  f.proxier.on_endpoint_slice(&slice, &remote);
  f.proxier.sync();
  CHECK(f.service_health.counts.count({"default", "lb"}) == 0);
  CHECK(f.metrics.no_local_endpoints_external.Value() == 1);
  CHECK(contains(f.metrics.render(), "kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy=\"external\"} 1"));
}

TEST_CASE("Proxier uses the Node: NodeCIDR detection waits for the podCIDR, zone drives hints", "[proxy][proxier]") {
  netrules::FakeBackend backend;
  netrules::IptablesSyncer syncer{backend, netrules::NodeSettings{}};
  FakeClock clock;
  std::vector<Duration> retries;
  Proxier p(ProxierOptions{.hostname = "node-1", .node = {.detect_local_mode = "NodeCIDR"},
                           .local_addresses = [] { return std::vector<std::string>{}; }},
            ProxierDeps{.syncer = syncer, .clock = clock});
  p.set_runner([] {}, [&](Duration d) { retries.push_back(d); });
  p.services_synced();
  p.endpoint_slices_synced();
  CHECK_FALSE(p.initialized());  // NodeCIDR needs the Node
  auto node = make_node("node-1", "192.168.1.10", "zone-a");
  p.on_node(&node);
  p.node_synced();
  p.sync();
  CHECK(retries.size() == 1);  // no podCIDR yet
  CHECK(backend.payloads().empty());
  node.spec.pod_cidrs = {"10.244.1.0/24"};
  p.on_node(&node);

  auto svc = make_service("default", "web", "10.96.0.10");
  svc.spec.traffic_distribution = "PreferClose";
  auto slice = make_slice("default", "web", "web-1", {{.ip = "10.244.1.2", .zone = "zone-a", .hints = {"zone-a"}},
                                                     {.ip = "10.244.2.2", .zone = "zone-b", .hints = {"zone-b"}}});
  p.on_service(nullptr, &svc);
  p.on_endpoint_slice(nullptr, &slice);
  p.sync();
  auto rules = *backend.save();
  CHECK(contains(rules, "10.244.1.0/24"));
  CHECK(contains(rules, "10.244.1.2:8080"));
  CHECK_FALSE(contains(rules, "10.244.2.2:8080"));
  // The node moves to zone-b: the service is rebuilt for the other zone.
  node.metadata.labels["topology.kubernetes.io/zone"] = "zone-b";
  p.on_node(&node);
  p.sync();
  rules = *backend.save();
  CHECK_FALSE(contains(rules, "10.244.1.2:8080"));
  CHECK(contains(rules, "10.244.2.2:8080"));
}

TEST_CASE("Proxier metrics carry upstream names", "[proxy][proxier]") {
  Fixture f;
  f.all_synced();
  auto svc = make_service("default", "web", "10.96.0.10");
  f.proxier.on_service(nullptr, &svc);
  f.proxier.sync();
  std::string m = f.metrics.render();
  for (const char* name :
       {"kubeproxy_sync_proxy_rules_duration_seconds_bucket", "kubeproxy_sync_full_proxy_rules_duration_seconds_count",
        "kubeproxy_sync_partial_proxy_rules_duration_seconds", "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
        "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "kubeproxy_network_programming_duration_seconds",
        "kubeproxy_sync_proxy_rules_iptables_total{table=\"nat\"}",
        "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
        "kubeproxy_sync_proxy_rules_endpoint_changes_total", "kubeproxy_sync_proxy_rules_service_changes_total 1",
        "kubeproxy_sync_proxy_rules_no_local_endpoints_total"})
    CHECK(contains(m, name));
  CHECK(f.metrics.iptables_rules_nat.Value() > 0);
}

TEST_CASE("cleanup payload removes the proxy's chains and jumps only", "[proxy][cleanup]") {
  std::string save = R"(# Generated by iptables-save
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-ABC - [0:0]
:KUBE-SEP-DEF - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-SERVICES -d 10.96.0.10/32 -j KUBE-SVC-ABC
-A KUBE-SVC-ABC -j KUBE-SEP-DEF
COMMIT
*filter
:INPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
COMMIT
)";
  std::string p = iptables_cleanup_payload(save);
  CHECK(p == "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-SVC-ABC - [0:0]\n:KUBE-SEP-DEF - [0:0]\n"
             "-D PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
             "-D POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
             "-X KUBE-SERVICES\n-X KUBE-POSTROUTING\n-X KUBE-SVC-ABC\n-X KUBE-SEP-DEF\nCOMMIT\n");
  CHECK(iptables_cleanup_payload("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n").empty());
}

TEST_CASE("Proxier makes a full sync at least once an hour", "[proxy][proxier]") {
  Fixture f;
  f.all_synced();
  auto svc = make_service("default", "web", "10.96.0.10");
  f.proxier.on_service(nullptr, &svc);
  f.proxier.sync();
  auto svc2 = svc;
  svc2.spec.ports[0].port = 81;
  f.proxier.on_service(&svc, &svc2);
  f.proxier.sync();
  CHECK(f.proxier.stats().partial_syncs == 1);
  f.clock.advance(std::chrono::minutes(61));
  f.proxier.sync();
  CHECK(f.proxier.stats().full_syncs == 2);
}
