// The IPv6 ruleset: what ip6tables gets (golden file), what differs from IPv4 (no KUBE-FIREWALL or
// localhost NodePorts, ::1 excluded from NodePorts, /128 masks, icmp6 rejects) and what does not
// (chain names), checked by meaning with the packet tracer.
#include <catch2/catch.hpp>

#include <fmt/format.h>


#include "netrules/chain_names.h"
#include "netrules/fake_backend.h"
#include "netrules/iptables_syncer.h"
#include "netrules/packet_tracer.h"
#include "netrules_test_cluster.h"

using namespace knode::netrules;
using namespace knode::netrules::testing;

namespace {

constexpr const char* kNodeIP6 = "fd00:77::1";

NodeSettings test_node_v6() {
  NodeSettings n;
  n.family = IPFamily::IPv6;
  n.local_detector = {.mode = LocalTrafficDetector::Mode::ClusterCIDR, .value = "fd00:10:180::/48"};
  n.node_ip = kNodeIP6;
  n.localhost_nodeports = false;  // what build_node_settings gives IPv6
  return n;
}

// small_cluster() with every address in IPv6: 172.30.0.4x → fd00:30::4x, 10.180.a.b →
// fd00:10:180:a::b, other IPv4 addresses into 2001:db8::/32.
std::string v6(const std::string& ip) {
  unsigned a, b, c, d;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return ip;
  if (a == 172) return fmt::format("fd00:30::{}", d);
  if (a == 10) return fmt::format("fd00:10:180:{}::{}", c, d);
  return fmt::format("2001:db8:{}:{}::{}", a, b, d);
}

std::vector<TestService> small_cluster_v6() {
  auto svcs = small_cluster();
  for (auto& s : svcs) {
    s.port.cluster_ip = v6(s.port.cluster_ip);
    for (auto& ip : s.port.external_ips) ip = v6(ip);
    for (auto& in : s.port.load_balancer_ingress) in.ip = v6(in.ip);
    for (auto& r : s.port.load_balancer_source_ranges) r = "2001:db8:203::/64";
    for (auto& e : s.endpoints) e.ip = v6(e.ip);
  }
  return svcs;
}

struct Cluster6 {
  FakeBackend backend;
  IptablesSyncer syncer;
  explicit Cluster6(NodeSettings node = test_node_v6(), std::vector<TestService> svcs = small_cluster_v6())
      : syncer(backend, node) {
    for (auto& s : svcs) syncer.update_service(s.port, s.endpoints);
    auto r = syncer.sync();
    REQUIRE(r.ok());
  }
  TraceResult trace(Packet p) { return PacketTracer(backend.state(), {kNodeIP6}).trace(p); }
};

Packet pkt(std::string src, std::string dst, int port, PacketSource from) {
  return {.src_ip = std::move(src), .dst_ip = std::move(dst), .dst_port = port, .source = from};
}
Packet from_pod(std::string dst, int port) { return pkt("fd00:10:180:9::99", std::move(dst), port, PacketSource::Pod); }
Packet from_outside(std::string dst, int port, std::string src = "2001:db8:203::7") {
  return pkt(std::move(src), std::move(dst), port, PacketSource::External);
}

using Set = std::set<std::string>;

}  // namespace

TEST_CASE("IPv6 full payload matches the golden file", "[netrules][ipv6][golden]") {
  FakeBackend backend;
  IptablesSyncer syncer(backend, test_node_v6());
  for (auto& s : small_cluster_v6()) syncer.update_service(s.port, s.endpoints);
  check_golden("small_cluster_v6_full.txt", syncer.full_payload());
}

TEST_CASE("IPv6 rules leave out the IPv4-only parts", "[netrules][ipv6]") {
  FakeBackend backend;
  IptablesSyncer syncer(backend, test_node_v6());
  for (auto& s : small_cluster_v6()) syncer.update_service(s.port, s.endpoints);
  const std::string p = syncer.full_payload();
  CHECK(p.find("KUBE-FIREWALL") == std::string::npos);  // route_localnet protection is IPv4 only
  CHECK(p.find("127.0.0.0/8") == std::string::npos);
  CHECK(p.find("--to-destination [fd00:10:180:0::1]:80") != std::string::npos);
  // No IPv4 address anywhere.
  CHECK(p.find("172.30.") == std::string::npos);
  CHECK(p.find("10.180.") == std::string::npos);
  // NodePorts on every local address except ::1, as upstream.
  CHECK(p.find("-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS") != std::string::npos);
}

TEST_CASE("service chain names do not depend on the family; endpoint chains hash the endpoint", "[netrules][ipv6]") {
  auto v4 = small_cluster();
  auto v6s = small_cluster_v6();
  CHECK(service_chain_names(v4[0].port.name).cluster == service_chain_names(v6s[0].port.name).cluster);
  CHECK(endpoint_chain_name(v4[0].port.name, v4[0].endpoints[0]) !=
        endpoint_chain_name(v6s[0].port.name, v6s[0].endpoints[0]));
  // The same chain names appear in both families' payloads.
  FakeBackend b4, b6;
  IptablesSyncer s4(b4, test_node()), s6(b6, test_node_v6());
  s4.update_service(v4[0].port, v4[0].endpoints);
  s6.update_service(v6s[0].port, v6s[0].endpoints);
  const std::string svc = service_chain_names(v4[0].port.name).cluster;
  CHECK(s4.full_payload().find(":" + svc + " ") != std::string::npos);
  CHECK(s6.full_payload().find(":" + svc + " ") != std::string::npos);
}

TEST_CASE("ip6tables-save's spelling of our IPv6 rules compares equal", "[netrules][ipv6][state]") {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {R"(-m comment --comment "ns3/svc3:p80 has no endpoints" -m tcp -p tcp -d fd00:30::43 --dport 80 -j REJECT)",
       R"(-d fd00:30::43/128 -p tcp -m comment --comment "ns3/svc3:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp6-port-unreachable)"},
      {R"(-m comment --comment ns4/svc4:dns -m recent --name KUBE-SEP-Y --set -m udp -p udp -j DNAT --to-destination [fd00:10:180:0::4]:53)",
       R"(-p udp -m comment --comment "ns4/svc4:dns" -m recent --set --name KUBE-SEP-Y --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -m udp -j DNAT --to-destination [fd00:10:180:0::4]:53)"},
      {R"(-m comment --comment ns1/svc1:p80 -s fd00:10:180:0::1 -j KUBE-MARK-MASQ)",
       R"(-s fd00:10:180:0::1/128 -m comment --comment "ns1/svc1:p80" -j KUBE-MARK-MASQ)"},
  };
  for (const auto& [ours, saved] : pairs) {
    INFO(ours);
    CHECK(canonical_rule_text(ours) == canonical_rule_text(saved));
  }
  // A different ICMP type is a different rule.
  CHECK(canonical_rule_text("-d fd00::1 -j REJECT") != canonical_rule_text("-d fd00::1/128 -j REJECT --reject-with icmp6-adm-prohibited"));
}

TEST_CASE("IPv6 cluster IP reaches every endpoint; none rejects with icmp6", "[netrules][ipv6][trace]") {
  Cluster6 c;
  auto r = c.trace(from_pod("fd00:30::41", 80));
  CHECK(r.endpoints() == Set{"[fd00:10:180:0::1]:80", "[fd00:10:180:1::1]:80", "[fd00:10:180:2::1]:80"});
  CHECK(r.none_masqueraded());
  CHECK(c.trace(from_outside("fd00:30::41", 80)).all_masqueraded());  // not from the cluster CIDR
  auto none = c.trace(from_pod("fd00:30::43", 80));
  CHECK(none.verdict() == "REJECT");
  REQUIRE(!none.paths.empty());
  CHECK(none.paths[0].reject_with == "icmp6-port-unreachable");
  // And IPv4's type for the IPv4 rules.
  FakeBackend b;
  IptablesSyncer s(b, test_node());
  for (auto& t : small_cluster()) s.update_service(t.port, t.endpoints);
  REQUIRE(s.sync().ok());
  auto v4 = PacketTracer(b.state(), {kNodeIP}).trace(pkt("10.180.0.99", "172.30.0.43", 80, PacketSource::Pod));
  REQUIRE(!v4.paths.empty());
  CHECK(v4.paths[0].reject_with == "icmp-port-unreachable");
}

TEST_CASE("IPv6 NodePort, external IP and load balancer source ranges", "[netrules][ipv6][trace]") {
  Cluster6 c;
  // eTP=Local: only the local endpoint, source kept.
  auto np = c.trace(from_outside(kNodeIP6, 3001));
  CHECK(np.endpoints() == Set{"[fd00:10:180:0::2]:8080"});
  CHECK(np.none_masqueraded());
  CHECK(c.trace(from_outside(kNodeIP6, 3002)).verdict() == "DROP");  // no local endpoint
  // ::1 is no NodePort address in IPv6.
  CHECK(c.trace(pkt("::1", "::1", 3001, PacketSource::Node)).endpoints().empty());
  CHECK(c.trace(from_outside(v6("192.168.99.22"), 80)).endpoints() == Set{"[fd00:10:180:0::2]:8080"});
  const std::string lb = v6("1.2.3.4");
  CHECK(c.trace(from_outside(lb, 80, "2001:db8:203::9")).endpoints() == Set{"[fd00:10:180:0::2]:8080"});
  CHECK(c.trace(from_outside(lb, 80, "2001:db8:198::1")).verdict() == "DROP");
}
