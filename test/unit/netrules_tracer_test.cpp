// Checks the generated rules by what they do to packets.
#include <catch2/catch.hpp>

#include "netrules/fake_backend.h"
#include "netrules/iptables_syncer.h"
#include "netrules/packet_tracer.h"
#include "netrules_test_cluster.h"

using namespace knode::netrules;
using namespace knode::netrules::testing;

namespace {

struct Cluster {
  FakeBackend backend;
  IptablesSyncer syncer;
  explicit Cluster(NodeSettings node = test_node(), std::vector<TestService> svcs = small_cluster())
      : syncer(backend, node) {
    for (auto& s : svcs) syncer.update_service(s.port, s.endpoints);
    auto r = syncer.sync();
    REQUIRE(r.ok());
  }
  TraceResult trace(Packet p) {
    PacketTracer t(backend.state(), {kNodeIP});
    return t.trace(p);
  }
};

Packet from_pod(std::string dst, int port, Protocol proto = Protocol::TCP) {
  return {.src_ip = "10.180.0.99", .dst_ip = std::move(dst), .protocol = proto, .dst_port = port, .source = PacketSource::Pod};
}
Packet from_node(std::string dst, int port) {
  return {.src_ip = kNodeIP, .dst_ip = std::move(dst), .dst_port = port, .source = PacketSource::Node};
}
Packet from_outside(std::string dst, int port, std::string src = "203.0.113.7") {
  return {.src_ip = std::move(src), .dst_ip = std::move(dst), .dst_port = port, .source = PacketSource::External};
}

using Set = std::set<std::string>;

}  // namespace

TEST_CASE("cluster IP from a pod reaches every endpoint without masquerade", "[netrules][trace]") {
  Cluster c;
  auto r = c.trace(from_pod("172.30.0.41", 80));
  CHECK(r.endpoints() == Set{"10.180.0.1:80", "10.180.1.1:80", "10.180.2.1:80"});
  CHECK(r.verdict() == "ACCEPT");
  CHECK(r.paths.size() == 3);
  CHECK(r.none_masqueraded());
  // A different port of the cluster IP is not captured.
  auto other = c.trace(from_pod("172.30.0.41", 81));
  CHECK(other.endpoints().empty());
}

TEST_CASE("cluster IP from the node or outside the cluster CIDR is masqueraded", "[netrules][trace]") {
  Cluster c;
  auto node = c.trace(from_node("172.30.0.41", 80));
  CHECK(node.endpoints().size() == 3);
  CHECK(node.all_masqueraded());
  auto ext = c.trace(from_outside("172.30.0.41", 80));
  CHECK(ext.endpoints().size() == 3);
  CHECK(ext.all_masqueraded());
}

TEST_CASE("masqueradeAll masquerades pod traffic too; hairpin is masqueraded", "[netrules][trace]") {
  NodeSettings n = test_node();
  n.masquerade_all = true;
  Cluster c(n);
  CHECK(c.trace(from_pod("172.30.0.41", 80)).all_masqueraded());

  Cluster plain;
  // An endpoint that reaches itself through the service: only that path is masqueraded.
  Packet hairpin = from_pod("172.30.0.41", 80);
  hairpin.src_ip = "10.180.0.1";
  auto r = plain.trace(hairpin);
  for (const auto& p : r.paths) CHECK(p.masquerade == (p.dnat == "10.180.0.1:80"));
}

TEST_CASE("a service without endpoints is rejected", "[netrules][trace]") {
  Cluster c;
  auto r = c.trace(from_pod("172.30.0.43", 80));
  CHECK(r.verdict() == "REJECT");
  CHECK(r.endpoints().empty());
  CHECK(c.trace(from_node("172.30.0.43", 80)).verdict() == "REJECT");
}

TEST_CASE("NodePort from outside, with eTP=Local, goes to the local endpoint only", "[netrules][trace]") {
  Cluster c;
  auto r = c.trace(from_outside(kNodeIP, 3001));
  CHECK(r.endpoints() == Set{"10.180.0.2:8080"});
  CHECK(r.none_masqueraded());  // source IP preserved
  // From a pod, short-circuited to all cluster endpoints.
  auto pod = c.trace(from_pod(kNodeIP, 3001));
  CHECK(pod.endpoints() == Set{"10.180.0.2:8080", "10.180.1.2:8080"});
  // From the node itself: cluster endpoints, masqueraded.
  auto node = c.trace(from_node(kNodeIP, 3001));
  CHECK(node.endpoints() == Set{"10.180.0.2:8080", "10.180.1.2:8080"});
  CHECK(node.all_masqueraded());
}

TEST_CASE("NodePort with eTP=Local and no local endpoint drops outside traffic", "[netrules][trace]") {
  Cluster c;
  auto r = c.trace(from_outside(kNodeIP, 3002));
  CHECK(r.verdict() == "DROP");
  // Pods still reach the remote endpoint through the cluster chain.
  CHECK(c.trace(from_pod(kNodeIP, 3002)).endpoints() == Set{"10.180.1.5:80"});
}

TEST_CASE("NodePort with eTP=Cluster from outside is masqueraded", "[netrules][trace]") {
  auto svcs = small_cluster();
  svcs[4].port.external_traffic_policy = TrafficPolicy::Cluster;
  Cluster c(test_node(), svcs);
  auto r = c.trace(from_outside(kNodeIP, 3002));
  CHECK(r.endpoints() == Set{"10.180.1.5:80"});
  CHECK(r.all_masqueraded());
}

TEST_CASE("localhost NodePorts follow localhostNodePorts", "[netrules][trace]") {
  auto svcs = small_cluster();
  svcs[4].port.external_traffic_policy = TrafficPolicy::Cluster;
  Cluster on(test_node(), svcs);
  auto r = on.trace(from_node("127.0.0.1", 3002));
  CHECK(r.endpoints() == Set{"10.180.1.5:80"});
  CHECK(r.all_masqueraded());
  NodeSettings n = test_node();
  n.localhost_nodeports = false;
  Cluster off(n, svcs);
  CHECK(off.trace(from_node("127.0.0.1", 3002)).endpoints().empty());
  CHECK(off.trace(from_node(kNodeIP, 3002)).endpoints() == Set{"10.180.1.5:80"});
}

TEST_CASE("nodePortAddresses limits NodePorts to the given IPs", "[netrules][trace]") {
  auto svcs = small_cluster();
  svcs[4].port.external_traffic_policy = TrafficPolicy::Cluster;
  NodeSettings n = test_node();
  n.nodeport_all_local = false;
  n.nodeport_ips = {kNodeIP};
  Cluster c(n, svcs);
  CHECK(c.trace(from_outside(kNodeIP, 3002)).endpoints() == Set{"10.180.1.5:80"});
  FakeBackend& b = c.backend;
  PacketTracer t(b.state(), {kNodeIP, "192.168.1.2"});
  CHECK(t.trace(from_outside("192.168.1.2", 3002)).endpoints().empty());
}

TEST_CASE("external IPs are captured like the service's external destinations", "[netrules][trace]") {
  Cluster c;
  auto r = c.trace(from_outside("192.168.99.22", 80));
  CHECK(r.endpoints() == Set{"10.180.0.2:8080"});
  CHECK(c.trace(from_pod("192.168.99.22", 80)).endpoints().size() == 2);
}

TEST_CASE("load balancer source ranges admit listed clients and drop the rest", "[netrules][trace]") {
  Cluster c;
  auto allowed = c.trace(from_outside("1.2.3.4", 80, "203.0.113.9"));
  CHECK(allowed.endpoints() == Set{"10.180.0.2:8080"});
  auto denied = c.trace(from_outside("1.2.3.4", 80, "198.51.100.1"));
  CHECK(denied.verdict() == "DROP");
  // Proxy-mode ingress IPs are not programmed.
  CHECK(c.trace(from_outside("5.6.7.8", 80, "203.0.113.9")).endpoints().empty());
}

TEST_CASE("client IP affinity sticks to the remembered endpoint", "[netrules][trace]") {
  Cluster c;
  auto fresh = c.trace(from_pod("172.30.0.44", 53, Protocol::UDP));
  CHECK(fresh.endpoints() == Set{"10.180.0.4:53", "10.180.1.4:53"});
  for (const auto& p : fresh.paths) {
    REQUIRE(p.recent_set.size() == 1);
    CHECK(p.recent_set[0].starts_with("KUBE-SEP-"));
  }
  // The client is in the second endpoint's list: every path goes there.
  std::string second;
  for (const auto& p : fresh.paths)
    if (p.dnat == "10.180.1.4:53") second = p.recent_set[0];
  Packet sticky = from_pod("172.30.0.44", 53, Protocol::UDP);
  sticky.recent_lists = {second};
  CHECK(c.trace(sticky).endpoints() == Set{"10.180.1.4:53"});
  // TCP to the UDP service's port is not captured.
  CHECK(c.trace(from_pod("172.30.0.44", 53, Protocol::TCP)).endpoints().empty());
}

TEST_CASE("internalTrafficPolicy=Local uses local endpoints or drops", "[netrules][trace]") {
  auto svcs = small_cluster();
  svcs[0].port.internal_traffic_policy = TrafficPolicy::Local;
  svcs[4].port.internal_traffic_policy = TrafficPolicy::Local;
  Cluster c(test_node(), svcs);
  CHECK(c.trace(from_pod("172.30.0.41", 80)).endpoints() == Set{"10.180.0.1:80"});
  CHECK(c.trace(from_pod("172.30.0.45", 80)).verdict() == "DROP");
}

TEST_CASE("terminating endpoints are used only when nothing is ready", "[netrules][trace]") {
  std::vector<TestService> svcs{{ServicePort{.name = spn("ns", "t", "p"), .cluster_ip = "172.30.1.1", .port = 80},
                                 {{.ip = "10.1.0.1", .port = 80, .ready = false, .serving = true, .terminating = true},
                                  {.ip = "10.1.0.2", .port = 80}}}};
  Cluster c(test_node(), svcs);
  CHECK(c.trace(from_pod("172.30.1.1", 80)).endpoints() == Set{"10.1.0.2:80"});
  svcs[0].endpoints[1].ready = false;
  svcs[0].endpoints[1].serving = false;
  Cluster t(test_node(), svcs);
  CHECK(t.trace(from_pod("172.30.1.1", 80)).endpoints() == Set{"10.1.0.1:80"});
}

TEST_CASE("SCTP services are programmed with sctp matches", "[netrules][trace]") {
  std::vector<TestService> svcs{{ServicePort{.name = spn("ns", "s", "p", Protocol::SCTP), .cluster_ip = "172.30.1.2", .port = 9},
                                 {{.ip = "10.1.0.3", .port = 9}}}};
  Cluster c(test_node(), svcs);
  CHECK(c.trace(from_pod("172.30.1.2", 9, Protocol::SCTP)).endpoints() == Set{"10.1.0.3:9"});
  CHECK(c.trace(from_pod("172.30.1.2", 9, Protocol::TCP)).endpoints().empty());
}

TEST_CASE("detect-local by interface prefix", "[netrules][trace]") {
  NodeSettings n = test_node();
  n.local_detector = {.mode = LocalTrafficDetector::Mode::InterfaceNamePrefix, .value = "veth"};
  Cluster c(n);
  Packet p = from_pod("172.30.0.41", 80);
  p.in_interface = "veth1234";
  CHECK(c.trace(p).none_masqueraded());
  p.in_interface = "eth0";
  CHECK(c.trace(p).all_masqueraded());
}
