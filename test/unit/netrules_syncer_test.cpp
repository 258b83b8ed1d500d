#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>

#include "netrules/chain_names.h"
#include "netrules/fake_backend.h"
#include "netrules/iptables_syncer.h"
#include "netrules/packet_tracer.h"
#include "netrules_test_cluster.h"

using namespace knode::netrules;
using namespace knode::netrules::testing;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

size_t count_lines_starting(const std::string& payload, const std::string& prefix) {
  size_t n = 0, pos = 0;
  while (pos < payload.size()) {
    size_t nl = payload.find('\n', pos);
    if (nl == std::string::npos) nl = payload.size();
    if (std::string_view(payload).substr(pos, nl - pos).starts_with(prefix)) ++n;
    pos = nl + 1;
  }
  return n;
}

// The chains a payload declares (":NAME - [0:0]"), leaving out the canary (restamped by every
// transaction).
std::set<std::string> declared(const std::string& payload) {
  std::set<std::string> out;
  size_t pos = 0;
  while ((pos = payload.find("\n:", pos)) != std::string::npos) {
    size_t sp = payload.find(' ', pos);
    std::string name = payload.substr(pos + 2, sp - pos - 2);
    if (name != "KUBE-PROXY-CANARY") out.insert(name);
    pos = sp;
  }
  return out;
}

// Canonical view of the whole state, for "partial sync = full rebuild" comparisons.
std::map<std::string, std::vector<std::string>> canonical_state(const IptablesState& s) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [t, table] : s.tables())
    for (const auto& [c, chain] : table.chains) {
      auto& v = out[t + "/" + c];
      for (const auto& r : chain.rules) v.push_back(canonical_rule_text(r));
    }
  return out;
}

std::vector<TestService> many_services(int n, int eps) {
  std::vector<TestService> out;
  for (int i = 0; i < n; ++i) {
    TestService s{ServicePort{.name = spn("bench", "svc" + std::to_string(i), "http"),
                              .cluster_ip = "172.30." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                              .port = 80},
                  {}};
    for (int e = 0; e < eps; ++e)
      s.endpoints.push_back({.ip = "10." + std::to_string(1 + e) + "." + std::to_string(i / 250) + "." +
                                   std::to_string(i % 250 + 1),
                             .port = 8080});
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

TEST_CASE("an endpoint change rewrites only that service's chains", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  auto svcs = small_cluster();
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  CHECK_FALSE(s.full_sync_pending());

  // Replace svc1's third endpoint.
  svcs[0].endpoints[2].ip = "10.180.2.9";
  s.update_service(svcs[0].port, svcs[0].endpoints);
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK_FALSE(r->full);
  CHECK(r->restored);
  const auto names = service_chain_names(svcs[0].port.name);
  std::string old_sep = endpoint_chain_name(svcs[0].port.name, {.ip = "10.180.2.1", .port = 80});
  std::string new_sep = endpoint_chain_name(svcs[0].port.name, svcs[0].endpoints[2]);
  CHECK(declared(r->payload) == std::set<std::string>{names.cluster, old_sep, new_sep});
  CHECK(contains(r->payload, "-X " + old_sep + "\n"));
  CHECK_FALSE(contains(r->payload, "KUBE-SERVICES"));  // shared chains untouched
  CHECK_FALSE(contains(r->payload, "*filter"));
  CHECK(r->chains_written == 2);
  CHECK(r->chains_deleted == 1);
  // Unchanged endpoint chains are not rewritten.
  CHECK_FALSE(declared(r->payload).count(endpoint_chain_name(svcs[0].port.name, svcs[0].endpoints[0])));

  PacketTracer t(b.state(), {kNodeIP});
  auto tr = t.trace({.src_ip = "10.180.0.99", .dst_ip = "172.30.0.41", .dst_port = 80});
  CHECK(tr.endpoints() == std::set<std::string>{"10.180.0.1:80", "10.180.1.1:80", "10.180.2.9:80"});
  CHECK(b.state().chain("nat", old_sep) == nullptr);
}

TEST_CASE("nothing changed: nothing written", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  for (auto& t : small_cluster()) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  size_t n = b.payloads().size();
  for (auto& t : small_cluster()) s.update_service(t.port, t.endpoints);  // same again
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK_FALSE(r->restored);
  CHECK(b.payloads().size() == n);
}

TEST_CASE("a restarted syncer with the rules in place writes nothing", "[netrules][sync]") {
  FakeBackend b;
  {
    IptablesSyncer first(b, test_node());
    for (auto& t : small_cluster()) first.update_service(t.port, t.endpoints);
    REQUIRE(first.sync().ok());
  }
  // What iptables-save prints is reordered/normalised; use that rendering as the kernel's state.
  // (FakeBackend stores our texts; canonical comparison must see through both forms.)
  IptablesSyncer second(b, test_node());
  for (auto& t : small_cluster()) second.update_service(t.port, t.endpoints);
  size_t before = b.payloads().size();
  auto r = second.sync();
  REQUIRE(r.ok());
  CHECK(r->full);
  CHECK(r->adopted);  // the canary's stamp matched: not even iptables-save was needed
  CHECK_FALSE(r->restored);
  CHECK(b.payloads().size() == before);
  CHECK(b.saves() == 1);

  // Next, a partial sync after the restart edits incrementally as usual.
  auto svcs = small_cluster();
  svcs[2].endpoints.push_back({.ip = "10.180.3.3", .port = 80});
  second.update_service(svcs[2].port, svcs[2].endpoints);
  auto p = second.sync();
  REQUIRE(p.ok());
  INFO(p->payload);
  CHECK_FALSE(p->full);
  CHECK(contains(p->payload, "-D KUBE-SERVICES -m comment --comment \"ns3/svc3:p80 has no endpoints\""));
  CHECK(contains(p->payload, "-I KUBE-SERVICES 5 -m comment --comment \"ns3/svc3:p80 cluster IP\""));
}

TEST_CASE("a restart verifies by iptables-save when the stamp does not match", "[netrules][sync]") {
  FakeBackend b;
  {
    IptablesSyncer first(b, test_node());
    for (auto& t : small_cluster()) first.update_service(t.port, t.endpoints);
    REQUIRE(first.sync().ok());
  }
  // Someone rewrote the stamp (or an older knode wrote the rules): compare chain by chain.
  REQUIRE(b.state().apply("*nat\n:KUBE-PROXY-CANARY - [0:0]\n-A KUBE-PROXY-CANARY -j RETURN\nCOMMIT\n").ok());
  IptablesSyncer second(b, test_node());
  for (auto& t : small_cluster()) second.update_service(t.port, t.endpoints);
  auto r = second.sync();
  REQUIRE(r.ok());
  CHECK_FALSE(r->adopted);
  CHECK(b.saves() == 2);  // one by each syncer's first sync
  CHECK(r->restored);
  CHECK(r->chains_written == 1);  // only the canary, restamped
  CHECK(declared(r->payload).empty());
}

TEST_CASE("every partial sync restamps the canary; a restart then adopts", "[netrules][sync]") {
  FakeBackend b;
  auto svcs = small_cluster();
  {
    IptablesSyncer first(b, test_node());
    for (auto& t : svcs) first.update_service(t.port, t.endpoints);
    REQUIRE(first.sync().ok());
    svcs[0].endpoints.pop_back();
    first.update_service(svcs[0].port, svcs[0].endpoints);
    first.delete_service(svcs[3].port.name);
    auto r = first.sync();
    REQUIRE(r.ok());
    CHECK(contains(r->payload, ":KUBE-PROXY-CANARY - [0:0]"));
  }
  svcs.erase(svcs.begin() + 3);
  IptablesSyncer second(b, test_node());
  for (auto& t : svcs) second.update_service(t.port, t.endpoints);
  auto r = second.sync();
  REQUIRE(r.ok());
  CHECK(r->adopted);
  CHECK_FALSE(r->restored);
}

TEST_CASE("a restart after a partial change rewrites only what differs", "[netrules][sync]") {
  FakeBackend b;
  {
    IptablesSyncer first(b, test_node());
    for (auto& t : small_cluster()) first.update_service(t.port, t.endpoints);
    REQUIRE(first.sync().ok());
  }
  auto svcs = small_cluster();
  svcs[0].endpoints.pop_back();  // svc1 lost an endpoint while we were down
  svcs.erase(svcs.begin() + 3);  // svc4 was deleted
  IptablesSyncer second(b, test_node());
  for (auto& t : svcs) second.update_service(t.port, t.endpoints);
  auto r = second.sync();
  REQUIRE(r.ok());
  CHECK(r->restored);
  auto names = service_chain_names(svcs[0].port.name);
  auto d = declared(r->payload);
  CHECK(d.count(names.cluster));
  CHECK(d.count("KUBE-SERVICES"));  // svc4's line goes away
  // svc4's chains and svc1's third SEP are deleted.
  auto svc4 = service_chain_names(spn("ns4", "svc4", "dns", Protocol::UDP));
  CHECK(contains(r->payload, "-X " + svc4.cluster + "\n"));
  CHECK(r->chains_deleted == 4);  // svc4: SVC + 2 SEP; svc1: 1 SEP
  // svc2's chains are left alone.
  CHECK_FALSE(declared(r->payload).count(service_chain_names(spn("ns2", "svc2", "p80")).cluster));

  // The result equals a fresh full build.
  FakeBackend fresh;
  IptablesSyncer full(fresh, test_node());
  for (auto& t : svcs) full.update_service(t.port, t.endpoints);
  REQUIRE(full.sync().ok());
  CHECK(canonical_state(b.state()) == canonical_state(fresh.state()));
}

TEST_CASE("partial syncs end in the same state as a full rebuild", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  auto svcs = small_cluster();
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());

  // A series of changes: new service, deleted service, endpoints to zero and back, NodePort added.
  svcs.push_back({ServicePort{.name = spn("aa", "first", "x"), .cluster_ip = "172.30.9.1", .port = 1, .node_port = 3009},
                  {{.ip = "10.9.0.1", .port = 1}}});
  svcs.push_back({ServicePort{.name = spn("zz", "last", "x"), .cluster_ip = "172.30.9.2", .port = 2},
                  {{.ip = "10.9.0.2", .port = 2}}});
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  s.delete_service(svcs[1].port.name);
  svcs.erase(svcs.begin() + 1);
  svcs[0].endpoints.clear();
  s.update_service(svcs[0].port, svcs[0].endpoints);
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK_FALSE(r->full);
  svcs[0].endpoints.push_back({.ip = "10.180.7.7", .port = 80});
  svcs[2].port.node_port = 3005;
  s.update_service(svcs[0].port, svcs[0].endpoints);
  s.update_service(svcs[2].port, svcs[2].endpoints);
  REQUIRE(s.sync().ok());

  FakeBackend fresh;
  IptablesSyncer full(fresh, test_node());
  for (auto& t : svcs) full.update_service(t.port, t.endpoints);
  REQUIRE(full.sync().ok());
  CHECK(canonical_state(b.state()) == canonical_state(fresh.state()));
  // Order matters in KUBE-SERVICES: the nodeports jump is still last.
  const auto& kube_services = b.state().chain("nat", "KUBE-SERVICES")->rules;
  CHECK(contains(kube_services.back(), "KUBE-NODEPORTS"));
}

TEST_CASE("a deleted service's chains and lines are removed", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  auto svcs = small_cluster();
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  s.delete_service(svcs[1].port.name);  // svc2: EXT, FW, SVC, SVL, 2 SEP; lines in 5 shared chains
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK(r->chains_deleted == 6);
  CHECK(count_lines_starting(r->payload, "-X ") == 6);
  CHECK(count_lines_starting(r->payload, "-D KUBE-SERVICES ") == 3);
  CHECK(count_lines_starting(r->payload, "-D KUBE-NODEPORTS ") == 2);  // nat nodeport + filter health check
  CHECK(count_lines_starting(r->payload, "-D KUBE-PROXY-FIREWALL ") == 1);
  for (const auto& [t, table] : b.state().tables())
    for (const auto& [c, chain] : table.chains) {
      CHECK_FALSE(c.ends_with("GNZBNJ2PO5MGZ6GT"));
      for (const auto& rule : chain.rules) CHECK_FALSE(contains(rule, "ns2/svc2"));
    }
}

TEST_CASE("full sync deletes stale service chains it did not create", "[netrules][sync]") {
  FakeBackend b;
  REQUIRE(b.state().apply("*nat\n:KUBE-SVC-STALESTALESTALE1 - [0:0]\n:KUBE-SEP-STALESTALESTALE2 - [0:0]\n"
                          ":OTHER-CHAIN - [0:0]\n-A KUBE-SVC-STALESTALESTALE1 -j KUBE-SEP-STALESTALESTALE2\n"
                          "COMMIT\n").ok());
  IptablesSyncer s(b, test_node());
  for (auto& t : small_cluster()) s.update_service(t.port, t.endpoints);
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK(contains(r->payload, "-X KUBE-SVC-STALESTALESTALE1\n"));
  CHECK(contains(r->payload, "-X KUBE-SEP-STALESTALESTALE2\n"));
  CHECK(b.state().chain("nat", "KUBE-SVC-STALESTALESTALE1") == nullptr);
  CHECK(b.state().chain("nat", "OTHER-CHAIN") != nullptr);  // not ours
}

TEST_CASE("a failed restore makes the next sync full", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  auto svcs = small_cluster();
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  svcs[0].endpoints.pop_back();
  s.update_service(svcs[0].port, svcs[0].endpoints);
  b.fail_next_restore();
  CHECK_FALSE(s.sync().ok());
  CHECK(s.full_sync_pending());
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK(r->full);
  CHECK(r->restored);
  // Only what differs is written, even in the full sync.
  CHECK(declared(r->payload).size() == 2);  // svc1's KUBE-SVC and the removed KUBE-SEP
}

TEST_CASE("canaries notice a flushed table and force a full resync", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  for (auto& t : small_cluster()) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  auto ok = s.check_canaries();
  REQUIRE(ok.ok());
  CHECK(*ok);
  CHECK_FALSE(s.full_sync_pending());
  auto before = canonical_state(b.state());

  b.state().flush_table("nat");  // iptables -t nat -F
  auto flushed = s.check_canaries();
  REQUIRE(flushed.ok());
  CHECK_FALSE(*flushed);
  CHECK(s.full_sync_pending());
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK(r->full);
  CHECK_FALSE(contains(r->payload, "*filter"));  // filter was untouched
  CHECK(canonical_state(b.state()) == before);
}

TEST_CASE("shared chains are rewritten when most of them change", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  auto svcs = many_services(200, 1);
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  for (auto& t : svcs) {
    t.endpoints.clear();
    s.update_service(t.port, t.endpoints);
  }
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK(count_lines_starting(r->payload, "-D ") == 0);
  CHECK(declared(r->payload).count("KUBE-SERVICES"));
  FakeBackend fresh;
  IptablesSyncer full(fresh, test_node());
  for (auto& t : svcs) full.update_service(t.port, t.endpoints);
  REQUIRE(full.sync().ok());
  CHECK(canonical_state(b.state()) == canonical_state(fresh.state()));
}

TEST_CASE("crossing the large-cluster threshold resyncs fully", "[netrules][sync]") {
  FakeBackend b;
  NodeSettings n = test_node();
  n.large_cluster_endpoints_threshold = 20;
  IptablesSyncer s(b, n);
  auto svcs = many_services(5, 4);
  for (auto& t : svcs) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  CHECK(contains(b.state().save(), "-> 10.1.0.1:8080"));
  svcs[0].endpoints.push_back({.ip = "10.99.0.1", .port = 8080});
  s.update_service(svcs[0].port, svcs[0].endpoints);
  auto r = s.sync();
  REQUIRE(r.ok());
  CHECK(r->full);
  CHECK_FALSE(contains(b.state().save(), "-> 10.1.0.1:8080"));
}

TEST_CASE("conntrack cleanup is planned for UDP endpoint changes", "[netrules][sync]") {
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  ServicePort udp{.name = spn("ns", "dns", "dns", Protocol::UDP), .cluster_ip = "172.30.5.5", .port = 53,
                  .node_port = 30053, .external_ips = {"192.168.99.5"}};
  s.update_service(udp, {});
  auto r0 = s.sync();
  REQUIRE(r0.ok());
  CHECK(r0->conntrack.empty());
  // First endpoint: flows stuck on the REJECT path are cleared.
  s.update_service(udp, {{.ip = "10.5.0.1", .port = 53}, {.ip = "10.5.0.2", .port = 53}});
  auto r1 = s.sync();
  REQUIRE(r1.ok());
  REQUIRE(r1->conntrack.service_ips.size() == 2);
  CHECK(r1->conntrack.service_ips[0].ip == "172.30.5.5");
  CHECK(r1->conntrack.service_ips[1].ip == "192.168.99.5");
  REQUIRE(r1->conntrack.node_ports.size() == 1);
  CHECK(r1->conntrack.node_ports[0].port == 30053);
  // An endpoint goes away: its DNATed flows are cleared.
  s.update_service(udp, {{.ip = "10.5.0.1", .port = 53}});
  auto r2 = s.sync();
  REQUIRE(r2.ok());
  CHECK(r2->conntrack.service_ips.empty());
  REQUIRE(r2->conntrack.stale_endpoints.size() == 2);
  CHECK(r2->conntrack.stale_endpoints[0].origin == "172.30.5.5");
  CHECK(r2->conntrack.stale_endpoints[0].dest == "10.5.0.2");
  REQUIRE(r2->conntrack.stale_node_port_endpoints.size() == 1);
  CHECK(r2->conntrack.stale_node_port_endpoints[0].dest == "10.5.0.2");
  // TCP services need nothing.
  ServicePort tcp = udp;
  tcp.name.protocol = Protocol::TCP;
  s.update_service(tcp, {{.ip = "10.5.0.1", .port = 53}});
  auto r3 = s.sync();
  REQUIRE(r3.ok());
  CHECK(r3->conntrack.empty());
}

TEST_CASE("after an adopting restart, changed services are rendered from what was programmed", "[netrules][sync]") {
  FakeBackend b;
  auto svcs = small_cluster();
  {
    IptablesSyncer first(b, test_node());
    for (auto& t : svcs) first.update_service(t.port, t.endpoints);
    REQUIRE(first.sync().ok());
  }
  IptablesSyncer second(b, test_node());
  for (auto& t : svcs) second.update_service(t.port, t.endpoints);
  auto r = second.sync();
  REQUIRE(r.ok());
  REQUIRE(r->adopted);
  CHECK_FALSE(r->desired_rules);  // nothing was rendered to count
  // The rule counts (a metric) come from rendering, as a full sync's do.
  const RuleCounts counts = second.count_desired_rules();
  const std::string payload = second.full_payload();
  const size_t filter_at = payload.find("*filter\n"), nat_at = payload.find("*nat\n"),
               mangle_at = payload.find("*mangle\n");
  CHECK(counts.filter == count_lines_starting(payload.substr(filter_at, nat_at - filter_at), "-A "));
  CHECK(counts.nat == count_lines_starting(payload.substr(nat_at, mangle_at - nat_at), "-A "));
  CHECK(counts.nat > 20);

  // svc1 loses an endpoint, svc4 (UDP) loses one and svc5 is deleted: only their chains change.
  const std::string gone = endpoint_chain_name(svcs[0].port.name, svcs[0].endpoints.back());
  svcs[0].endpoints.pop_back();
  second.update_service(svcs[0].port, svcs[0].endpoints);
  svcs[3].endpoints.pop_back();
  second.update_service(svcs[3].port, svcs[3].endpoints);
  second.delete_service(svcs[4].port.name);
  auto p = second.sync();
  REQUIRE(p.ok());
  INFO(p->payload);
  CHECK_FALSE(p->full);
  CHECK(contains(p->payload, "-X " + gone + "\n"));
  CHECK(contains(p->payload, "-X " + service_chain_names(svcs[4].port.name).external + "\n"));
  CHECK_FALSE(declared(p->payload).count(service_chain_names(svcs[1].port.name).cluster));
  // svc4's flows to the endpoint that went away are cleared, as without the restart.
  REQUIRE(p->conntrack.stale_endpoints.size() == 1);
  CHECK(p->conntrack.stale_endpoints[0].origin == "172.30.0.44");
  CHECK(p->conntrack.stale_endpoints[0].dest == "10.180.1.4");
  svcs.erase(svcs.begin() + 4);

  FakeBackend fresh;
  IptablesSyncer full(fresh, test_node());
  for (auto& t : svcs) full.update_service(t.port, t.endpoints);
  REQUIRE(full.sync().ok());
  CHECK(canonical_state(b.state()) == canonical_state(fresh.state()));

  // And the stamp written by that partial sync lets the next restart adopt again.
  IptablesSyncer third(b, test_node());
  for (auto& t : svcs) third.update_service(t.port, t.endpoints);
  auto again = third.sync();
  REQUIRE(again.ok());
  CHECK(again->adopted);
}

TEST_CASE("the ruleset stamp changes with every input the rules are generated from", "[netrules][sync]") {
  auto stamp = [](const std::vector<TestService>& svcs, const NodeSettings& node) {
    FakeBackend b;
    IptablesSyncer s(b, node);
    for (auto& t : svcs) s.update_service(t.port, t.endpoints);
    std::string p = s.full_payload();
    size_t at = p.find("knode ruleset ");
    REQUIRE(at != std::string::npos);
    return p.substr(at + 14, 16);
  };
  const auto base_svcs = small_cluster();
  const std::string base = stamp(base_svcs, test_node());
  CHECK(stamp(small_cluster(), test_node()) == base);

  using Edit = std::function<void(std::vector<TestService>&, NodeSettings&)>;
  const std::vector<std::pair<const char*, Edit>> edits{
      {"namespace", [](auto& s, auto&) { s[0].port.name.namespace_name = "nsX"; }},
      {"name", [](auto& s, auto&) { s[0].port.name.name = "svcX"; }},
      {"port name", [](auto& s, auto&) { s[0].port.name.port = "pX"; }},
      {"protocol", [](auto& s, auto&) { s[0].port.name.protocol = Protocol::SCTP; }},
      {"cluster IP", [](auto& s, auto&) { s[0].port.cluster_ip = "172.30.0.99"; }},
      {"port", [](auto& s, auto&) { s[0].port.port = 81; }},
      {"node port", [](auto& s, auto&) { s[1].port.node_port = 3999; }},
      {"external IPs", [](auto& s, auto&) { s[1].port.external_ips.push_back("192.168.99.23"); }},
      {"LB ingress IP", [](auto& s, auto&) { s[1].port.load_balancer_ingress[0].ip = "1.2.3.5"; }},
      {"LB ingress mode", [](auto& s, auto&) { s[1].port.load_balancer_ingress[1].mode = LoadBalancerIPMode::VIP; }},
      {"LB source ranges", [](auto& s, auto&) { s[1].port.load_balancer_source_ranges = {"203.0.113.0/24"}; }},
      {"affinity", [](auto& s, auto&) { s[0].port.session_affinity_client_ip = true; }},
      {"affinity timeout", [](auto& s, auto&) { s[3].port.sticky_max_age_seconds = 60; }},
      {"external policy", [](auto& s, auto&) { s[1].port.external_traffic_policy = TrafficPolicy::Cluster; }},
      {"internal policy", [](auto& s, auto&) { s[0].port.internal_traffic_policy = TrafficPolicy::Local; }},
      {"health check node port", [](auto& s, auto&) { s[1].port.health_check_node_port = 30001; }},
      {"endpoint IP", [](auto& s, auto&) { s[0].endpoints[1].ip = "10.180.1.9"; }},
      {"endpoint port", [](auto& s, auto&) { s[0].endpoints[1].port = 81; }},
      {"endpoint ready", [](auto& s, auto&) { s[0].endpoints[1].ready = false; }},
      {"endpoint serving", [](auto& s, auto&) { s[0].endpoints[1].serving = false; }},
      {"endpoint terminating", [](auto& s, auto&) { s[0].endpoints[1].terminating = true; }},
      {"endpoint is local", [](auto& s, auto&) { s[0].endpoints[1].is_local = true; }},
      {"endpoint order", [](auto& s, auto&) { std::swap(s[0].endpoints[0], s[0].endpoints[1]); }},
      {"masquerade bit", [](auto&, auto& n) { n.masquerade_bit = 15; }},
      {"masquerade all", [](auto&, auto& n) { n.masquerade_all = true; }},
      {"local detector", [](auto&, auto& n) { n.local_detector.value = "10.0.0.0/9"; }},
      {"node IP", [](auto&, auto& n) { n.node_ip = "203.0.113.7"; }},
      {"nodeport addresses", [](auto&, auto& n) { n.nodeport_all_local = false, n.nodeport_ips = {"192.168.0.2"}; }},
      {"localhost nodeports", [](auto&, auto& n) { n.localhost_nodeports = false; }},
      {"tcp be liberal", [](auto&, auto& n) { n.conntrack_tcp_be_liberal = true; }},
      {"random fully", [](auto&, auto& n) { n.masquerade_random_fully = false; }},
      {"large cluster mode", [](auto&, auto& n) { n.large_cluster_endpoints_threshold = 2; }},
  };
  for (const auto& [what, edit] : edits) {
    auto svcs = small_cluster();
    NodeSettings node = test_node();
    edit(svcs, node);
    INFO(what);
    CHECK(stamp(svcs, node) != base);
  }
}

TEST_CASE("a restart does not adopt rules flushed or edited while the proxy was down", "[netrules][sync]") {
  auto svcs = small_cluster();
  auto fresh_state = [&] {
    FakeBackend fresh;
    IptablesSyncer full(fresh, test_node());
    for (auto& t : svcs) full.update_service(t.port, t.endpoints);
    REQUIRE(full.sync().ok());
    return canonical_state(fresh.state());
  };
  for (const char* damage : {"flush nat", "flush filter", "foreign stamp"}) {
    INFO(damage);
    FakeBackend b;
    {
      IptablesSyncer first(b, test_node());
      for (auto& t : svcs) first.update_service(t.port, t.endpoints);
      REQUIRE(first.sync().ok());
    }
    if (std::string_view(damage) == "flush nat") b.state().flush_table("nat");
    else if (std::string_view(damage) == "flush filter") b.state().flush_table("filter");
    else
      REQUIRE(b.state().apply("*nat\n:KUBE-PROXY-CANARY - [0:0]\n-A KUBE-PROXY-CANARY -m comment --comment "
                              "\"knode ruleset 0123456789abcdef\" -j RETURN\nCOMMIT\n").ok());
    IptablesSyncer second(b, test_node());
    for (auto& t : svcs) second.update_service(t.port, t.endpoints);
    auto r = second.sync();
    REQUIRE(r.ok());
    CHECK_FALSE(r->adopted);
    CHECK(r->restored);
    REQUIRE(r->desired_rules);
    CHECK(canonical_state(b.state()) == fresh_state());
  }
}
