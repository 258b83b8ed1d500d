// Real packets through rules written by the real iptables-restore, in network namespaces this
// test creates (and always removes): a "node" namespace, three backend "pods" running busybox
// httpd, a client pod and an "external" host, joined by veth pairs with /32 routes and a
// 169.254.1.1 gateway address on each host-side veth. Needs root.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "netrules/conntrack.h"
#include "netrules/exec.h"
#include "netrules/iptables_backend.h"
#include "netrules/iptables_syncer.h"

using namespace knode::netrules;
namespace fs = std::filesystem;

extern char** environ;

namespace {

int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

struct Topology {
  std::string prefix = "knr" + std::to_string(getpid());
  std::string node = prefix + "-node", client = prefix + "-cli", ext = prefix + "-ext";
  std::vector<std::string> pods;
  std::vector<pid_t> procs;
  fs::path dir = fs::temp_directory_path() / (prefix + "-www");
  static constexpr const char* kNodeIP = "192.168.50.1";
  static constexpr const char* kExtIP = "192.168.50.2";
  static constexpr const char* kClientIP = "10.200.0.50";

  static std::string pod_ip(int i) { return "10.200.0." + std::to_string(10 + i); }

  Topology() {
    for (int i = 1; i <= 3; ++i) pods.push_back(prefix + "-pod" + std::to_string(i));
    cleanup();  // leftovers of an earlier run with the same pid
    REQUIRE(sh("ip netns add " + node) == 0);
    run(node, "ip link set lo up");
    run(node, "sysctl -qw net.ipv4.ip_forward=1");
    for (int i = 0; i < 3; ++i) attach_pod(pods[i], "vp" + std::to_string(i + 1), pod_ip(i + 1));
    attach_pod(client, "vcli", kClientIP);
    REQUIRE(sh("ip netns add " + ext) == 0);
    run(ext, "ip link set lo up");
    REQUIRE(sh("ip link add vext netns " + node + " type veth peer name eth0 netns " + ext) == 0);
    run(node, std::string("ip addr add ") + kNodeIP + "/24 dev vext");
    run(node, "ip link set vext up");
    run(ext, std::string("ip addr add ") + kExtIP + "/24 dev eth0");
    run(ext, "ip link set eth0 up");
    run(ext, std::string("ip route add default via ") + kNodeIP);
    // One httpd per pod answering with the pod's name, and an echo server on pod1.
    for (int i = 0; i < 3; ++i) {
      fs::create_directories(dir / pods[i]);
      std::ofstream(dir / pods[i] / "index.html") << "pod" << (i + 1) << "\n";
      spawn({"ip", "netns", "exec", pods[i], "busybox", "httpd", "-f", "-p", "80", "-h", (dir / pods[i]).string()});
    }
    spawn({"ip", "netns", "exec", pods[0], "busybox", "nc", "-ll", "-p", "9000", "-e", "/bin/cat"});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ~Topology() { cleanup(); }

  void cleanup() {
    for (pid_t p : procs) {
      kill(p, SIGTERM);
      waitpid(p, nullptr, 0);
    }
    procs.clear();
    for (const auto& ns : std::vector<std::string>{node, client, ext, pods.size() ? pods[0] : "", pods.size() > 1 ? pods[1] : "",
                                                   pods.size() > 2 ? pods[2] : ""})
      if (!ns.empty() && fs::exists("/run/netns/" + ns)) sh("ip netns del " + ns + " 2>/dev/null");
    fs::remove_all(dir);
  }

  void run(const std::string& ns, const std::string& cmd) {
    INFO(cmd);
    REQUIRE(sh("ip netns exec " + ns + " " + cmd) == 0);
  }

  void attach_pod(const std::string& ns, const std::string& host_if, const std::string& ip) {
    REQUIRE(sh("ip netns add " + ns) == 0);
    run(ns, "ip link set lo up");
    REQUIRE(sh("ip link add " + host_if + " netns " + node + " type veth peer name eth0 netns " + ns) == 0);
    run(node, "ip addr add 169.254.1.1/32 dev " + host_if);
    run(node, "ip link set " + host_if + " up");
    run(node, "ip route add " + ip + "/32 dev " + host_if);
    run(ns, "ip addr add " + ip + "/32 dev eth0");
    run(ns, "ip link set eth0 up");
    run(ns, "ip route add 169.254.1.1 dev eth0");
    run(ns, "ip route add default via 169.254.1.1 dev eth0");
  }

  void spawn(std::vector<std::string> argv) {
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    REQUIRE(posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    procs.push_back(pid);
  }

  // curl from a namespace; returns {exit code, body}.
  std::pair<int, std::string> curl(const std::string& ns, const std::string& url, double timeout = 2) {
    auto r = run_program({"curl", "-s", "--max-time", std::to_string(timeout), url}, {}, "/run/netns/" + ns);
    REQUIRE(r.ok());
    std::string body = r->out;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    return {r->exit_code, body};
  }

  std::set<std::string> names_seen(const std::string& ns, const std::string& url, int tries) {
    std::set<std::string> seen;
    for (int i = 0; i < tries; ++i) {
      auto [rc, body] = curl(ns, url);
      if (rc == 0) seen.insert(body);
    }
    return seen;
  }

  std::string nsp(const std::string& ns) const { return "/run/netns/" + ns; }
};

// A TCP socket created inside a namespace (a socket stays in the namespace it was made in).
int connect_in(const std::string& netns, const char* ip, int port) {
  int fd = -1;
  std::thread t([&] {
    int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) return;
    close(ns);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip, &a.sin_addr);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      fd = -1;
    }
  });
  t.join();
  return fd;
}

bool echo(int fd, const std::string& msg) {
  if (write(fd, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) return false;
  std::string got;
  char buf[256];
  while (got.size() < msg.size()) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return got == msg;
}

ServicePortName name(const std::string& n, const std::string& port = "http") {
  return {.namespace_name = "default", .name = n, .port = port, .protocol = Protocol::TCP};
}

void scenario(IptablesMode mode) {
  Topology topo;
  NodeSettings node;
  node.local_detector = {.mode = LocalTrafficDetector::Mode::ClusterCIDR, .value = "10.200.0.0/16"};
  node.node_ip = Topology::kNodeIP;
  node.localhost_nodeports = false;
  IptablesRestoreBackend backend({.mode = mode, .netns = topo.nsp(topo.node)});

  ServicePort web{.name = name("web"), .cluster_ip = "172.30.0.10", .port = 80, .node_port = 30080};
  std::vector<Endpoint> web_eps;
  for (int i = 1; i <= 3; ++i) web_eps.push_back({.ip = Topology::pod_ip(i), .port = 80});
  ServicePort empty{.name = name("empty"), .cluster_ip = "172.30.0.11", .port = 80};
  ServicePort echo_svc{.name = name("echo", "tcp"), .cluster_ip = "172.30.0.12", .port = 9000};
  std::vector<Endpoint> echo_eps{{.ip = Topology::pod_ip(1), .port = 9000}};

  auto syncer = std::make_unique<IptablesSyncer>(backend, node);
  syncer->update_service(web, web_eps);
  syncer->update_service(empty, {});
  syncer->update_service(echo_svc, echo_eps);
  auto first = syncer->sync();
  INFO((first.ok() ? std::string() : first.error().message()));
  REQUIRE(first.ok());
  CHECK(first->full);
  CHECK(first->restored);

  {
    INFO("ClusterIP from a pod reaches all three backends");
    CHECK(topo.names_seen(topo.client, "http://172.30.0.10/", 40) == std::set<std::string>{"pod1", "pod2", "pod3"});
  }
  {
    INFO("NodePort from outside the node");
    auto [rc, body] = topo.curl(topo.ext, std::string("http://") + Topology::kNodeIP + ":30080/");
    CHECK(rc == 0);
    CHECK(body.starts_with("pod"));
  }
  {
    INFO("no endpoints: connection refused at once (REJECT), not a timeout");
    auto t0 = std::chrono::steady_clock::now();
    auto [rc, body] = topo.curl(topo.client, "http://172.30.0.11/", 5);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(rc == 7);  // curl: couldn't connect
    CHECK(secs < 1.0);
  }

  int conn = connect_in(topo.nsp(topo.client), "172.30.0.12", 9000);
  REQUIRE(conn >= 0);
  CHECK(echo(conn, "before restart\n"));

  {
    INFO("a restarted syncer finds its rules in place and writes nothing");
    syncer = std::make_unique<IptablesSyncer>(backend, node);
    syncer->update_service(web, web_eps);
    syncer->update_service(empty, {});
    syncer->update_service(echo_svc, echo_eps);
    auto r = syncer->sync();
    REQUIRE(r.ok());
    CHECK(r->full);
    INFO(r->payload);
    CHECK(r->adopted);
    CHECK_FALSE(r->restored);
    CHECK(echo(conn, "after restart\n"));
    // Partial syncs right after the adoption: a service's chains are rendered from what it had
    // programmed when it first changes, so only its own chains change.
    auto fewer = web_eps;
    fewer.pop_back();
    syncer->update_service(web, fewer);
    auto p = syncer->sync();
    REQUIRE(p.ok());
    CHECK_FALSE(p->full);
    CHECK(p->chains_deleted == 1);
    CHECK(topo.names_seen(topo.client, "http://172.30.0.10/", 30) == std::set<std::string>{"pod1", "pod2"});
    syncer->update_service(web, web_eps);
    REQUIRE(syncer->sync().ok());
    // A full resync compares every chain with the real iptables-save rendering: still nothing.
    syncer->request_full_sync();
    auto v = syncer->sync();
    REQUIRE(v.ok());
    CHECK_FALSE(v->adopted);
    INFO(v->payload);
    CHECK_FALSE(v->restored);
    CHECK(echo(conn, "after full resync\n"));
  }
  close(conn);

  {
    INFO("partial sync: a new service is added line by line into KUBE-SERVICES");
    ServicePort web2{.name = name("aaa-web2"), .cluster_ip = "172.30.0.13", .port = 8080};
    syncer->update_service(web2, {{.ip = Topology::pod_ip(2), .port = 80}});
    auto r = syncer->sync();
    REQUIRE(r.ok());
    CHECK_FALSE(r->full);
    CHECK(r->payload.find("-I KUBE-SERVICES 1 ") != std::string::npos);
    CHECK(topo.curl(topo.client, "http://172.30.0.13:8080/").second == "pod2");
    CHECK(topo.names_seen(topo.client, "http://172.30.0.10/", 20).size() == 3);
  }
  {
    INFO("a removed endpoint gets no more traffic");
    web_eps.pop_back();
    syncer->update_service(web, web_eps);
    auto r = syncer->sync();
    REQUIRE(r.ok());
    CHECK_FALSE(r->full);
    CHECK(r->chains_deleted == 1);
    CHECK(topo.names_seen(topo.client, "http://172.30.0.10/", 30) == std::set<std::string>{"pod1", "pod2"});
  }
  {
    INFO("empty gets an endpoint: its REJECT line is deleted and the service answers");
    syncer->update_service(empty, {{.ip = Topology::pod_ip(3), .port = 80}});
    auto r = syncer->sync();
    REQUIRE(r.ok());
    CHECK(topo.curl(topo.client, "http://172.30.0.11/").second == "pod3");
  }
  {
    INFO("iptables -t nat -F: the canary notices, a full resync restores the rules");
    topo.run(topo.node, std::string("iptables-") + iptables_mode_name(mode) + " -t nat -F");
    CHECK(topo.curl(topo.client, "http://172.30.0.10/", 1).first != 0);
    auto c = syncer->check_canaries();
    REQUIRE(c.ok());
    CHECK_FALSE(*c);
    auto r = syncer->sync();
    REQUIRE(r.ok());
    CHECK(r->full);
    CHECK(r->restored);
    CHECK(r->payload.find("*filter") == std::string::npos);  // filter was intact
    CHECK(topo.names_seen(topo.client, "http://172.30.0.10/", 20) == std::set<std::string>{"pod1", "pod2"});
    auto again = syncer->check_canaries();
    REQUIRE(again.ok());
    CHECK(*again);
  }
  {
    INFO("conntrack cleanup runs inside the node namespace");
    ConntrackCleanup cl;
    cl.stale_endpoints.push_back({"172.30.0.10", Topology::pod_ip(3), Protocol::UDP});
    CHECK(ConntrackCleaner(topo.nsp(topo.node)).run(cl).ok());
  }
  {
    INFO("deleting every service leaves no service chains behind");
    syncer->delete_service(web.name);
    syncer->delete_service(empty.name);
    syncer->delete_service(echo_svc.name);
    syncer->delete_service(name("aaa-web2"));
    REQUIRE(syncer->sync().ok());
    auto saved = backend.save();
    REQUIRE(saved.ok());
    CHECK(saved->find("KUBE-SVC-") == std::string::npos);
    CHECK(saved->find("KUBE-SEP-") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("iptables-nft rules carry real packets", "[netrules][integration]") {
  if (geteuid() != 0) { WARN("needs root; skipped"); return; }
  scenario(IptablesMode::Nft);
}

TEST_CASE("iptables-legacy rules carry real packets", "[netrules][integration]") {
  if (geteuid() != 0) { WARN("needs root; skipped"); return; }
  scenario(IptablesMode::Legacy);
}

TEST_CASE("detecting the iptables flavour in a fresh namespace", "[netrules][integration]") {
  if (geteuid() != 0) { WARN("needs root; skipped"); return; }
  std::string ns = "knr" + std::to_string(getpid()) + "-detect";
  REQUIRE(sh("ip netns add " + ns) == 0);
  struct Del {
    std::string ns;
    ~Del() { sh("ip netns del " + ns); }
  } del{ns};
  CHECK(detect_iptables_mode(IPFamily::IPv4, "/run/netns/" + ns) == IptablesMode::Nft);
  REQUIRE(sh("ip netns exec " + ns + " iptables-legacy -t filter -A INPUT -j ACCEPT") == 0);
  CHECK(detect_iptables_mode(IPFamily::IPv4, "/run/netns/" + ns) == IptablesMode::Legacy);
}

namespace {
// IPv6 rules through the real ip6tables-restore, then a requested full resync: ip6tables-save's
// spelling (/128 masks, icmp6 REJECT, recent's IPv6 mask) compares equal, so nothing is rewritten.
void ipv6_scenario(IptablesMode mode) {
  if (geteuid() != 0) { WARN("needs root; skipped"); return; }
  std::string ns = "knr" + std::to_string(getpid()) + "-v6" + iptables_mode_name(mode);
  REQUIRE(sh("ip netns add " + ns) == 0);
  struct Del {
    std::string ns;
    ~Del() { sh("ip netns del " + ns); }
  } del{ns};
  IptablesRestoreBackend backend({.mode = mode, .family = IPFamily::IPv6, .netns = "/run/netns/" + ns});
  REQUIRE(backend.present());
  NodeSettings node;
  node.family = IPFamily::IPv6;
  node.local_detector = {.mode = LocalTrafficDetector::Mode::ClusterCIDR, .value = "fd00:10:244::/56"};
  node.node_ip = "fd00::77:1";
  node.localhost_nodeports = false;
  IptablesSyncer syncer(backend, node);
  auto spn = [](const char* name, Protocol p = Protocol::TCP) {
    return ServicePortName{.namespace_name = "ns", .name = name, .port = "p", .protocol = p};
  };
  syncer.update_service(ServicePort{.name = spn("web"), .cluster_ip = "fd00:10:96::a", .port = 80, .node_port = 30080,
                                    .external_ips = {"2001:db8::5"},
                                    .load_balancer_ingress = {{.ip = "2001:db8::6"}},
                                    .load_balancer_source_ranges = {"2001:db8:1::/64"}},
                        {{.ip = "fd00:10:244::11", .port = 8080}, {.ip = "fd00:10:244::12", .port = 8080}});
  syncer.update_service(ServicePort{.name = spn("dns", Protocol::UDP), .cluster_ip = "fd00:10:96::b", .port = 53,
                                    .session_affinity_client_ip = true},
                        {{.ip = "fd00:10:244::13", .port = 53}});
  syncer.update_service(ServicePort{.name = spn("empty"), .cluster_ip = "fd00:10:96::c", .port = 80}, {});
  auto first = syncer.sync();
  REQUIRE(first.ok());
  CHECK(first->chains_written > 0);
  auto saved = backend.save();
  REQUIRE(saved.ok());
  CHECK(saved->find("-d fd00:10:96::c/128") != std::string::npos);
  CHECK(saved->find("--reject-with icmp6-port-unreachable") != std::string::npos);
  CHECK(saved->find("KUBE-FIREWALL") == std::string::npos);
  syncer.request_full_sync();
  auto again = syncer.sync();
  REQUIRE(again.ok());
  CHECK(again->full);
  CHECK(again->chains_written == 0);
  CHECK(detect_iptables_mode(IPFamily::IPv6, "/run/netns/" + ns) == mode);
}
}  // namespace

TEST_CASE("ip6tables-nft: IPv6 rules are read back as written", "[netrules][integration][ipv6]") {
  ipv6_scenario(IptablesMode::Nft);
}

TEST_CASE("ip6tables-legacy: IPv6 rules are read back as written", "[netrules][integration][ipv6]") {
  ipv6_scenario(IptablesMode::Legacy);
}
