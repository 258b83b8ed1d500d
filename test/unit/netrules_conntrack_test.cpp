#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "netrules/conntrack.h"
#include "netrules/iptables_backend.h"

using namespace knode::netrules;
namespace fs = std::filesystem;

TEST_CASE("conntrack commands use upstream's filters", "[netrules][conntrack]") {
  ConntrackCleanup c;
  c.service_ips.push_back({"172.30.0.10", Protocol::UDP});
  c.node_ports.push_back({30053, Protocol::SCTP});
  c.stale_endpoints.push_back({"172.30.0.10", "10.1.0.5", Protocol::UDP});
  c.stale_node_port_endpoints.push_back({"10.1.0.5", 30053, Protocol::UDP});
  c.stale_endpoints.push_back({"fd00::10", "fd00::5", Protocol::UDP});
  auto cmds = conntrack_commands(c);
  REQUIRE(cmds.size() == 5);
  CHECK(cmds[0] == std::vector<std::string>{"-D", "--orig-dst", "172.30.0.10", "-p", "udp"});
  CHECK(cmds[1] == std::vector<std::string>{"-D", "-p", "sctp", "--dport", "30053"});
  CHECK(cmds[2] == std::vector<std::string>{"-D", "--orig-dst", "172.30.0.10", "--dst-nat", "10.1.0.5", "-p", "udp"});
  CHECK(cmds[3] == std::vector<std::string>{"-D", "--orig-dst", "fd00::10", "--dst-nat", "fd00::5", "-p", "udp", "-f", "ipv6"});
  CHECK(cmds[4] == std::vector<std::string>{"-D", "-p", "udp", "--dport", "30053", "--dst-nat", "10.1.0.5"});
}

TEST_CASE("an IPv6 proxier's node port flows are deleted with -f ipv6", "[netrules][conntrack][ipv6]") {
  ConntrackCleanup c;
  c.family = IPFamily::IPv6;
  c.node_ports.push_back({30053, Protocol::UDP});
  c.stale_node_port_endpoints.push_back({"fd00::5", 30053, Protocol::UDP});
  auto cmds = conntrack_commands(c);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0] == std::vector<std::string>{"-D", "-p", "udp", "--dport", "30053", "-f", "ipv6"});
  CHECK(cmds[1] == std::vector<std::string>{"-D", "-p", "udp", "--dport", "30053", "--dst-nat", "fd00::5", "-f", "ipv6"});
}

TEST_CASE("conntrack cleaner treats 'nothing deleted' as success", "[netrules][conntrack]") {
  std::vector<std::vector<std::string>> ran;
  ConntrackCleaner cleaner([&](const std::vector<std::string>& argv) -> knode::Result<ExecOutput> {
    ran.push_back(argv);
    return ExecOutput{.exit_code = 1, .out = "", .err = "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n"};
  });
  ConntrackCleanup c;
  c.service_ips.push_back({"172.30.0.10", Protocol::UDP});
  CHECK(cleaner.run(c).ok());
  REQUIRE(ran.size() == 1);
  CHECK(ran[0][0] == "conntrack");

  ConntrackCleaner failing([&](const std::vector<std::string>&) -> knode::Result<ExecOutput> {
    return ExecOutput{.exit_code = 2, .out = "", .err = "bad"};
  });
  CHECK_FALSE(failing.run(c).ok());
}

TEST_CASE("conntrack sysctls are written under a fake /proc/sys only when they differ", "[netrules][conntrack]") {
  fs::path root = fs::temp_directory_path() / ("knr-sysctl-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "proc/net/netfilter");
  fs::create_directories(root / "proc/net/ipv4/conf/all");
  fs::create_directories(root / "sys/module/nf_conntrack/parameters");
  auto put = [&](const fs::path& p, const std::string& v) { std::ofstream(p) << v << "\n"; };
  auto get = [&](const fs::path& p) { std::ifstream f(p); long v = -1; f >> v; return v; };
  put(root / "proc/net/netfilter/nf_conntrack_max", "65536");
  put(root / "sys/module/nf_conntrack/parameters/hashsize", "16384");
  put(root / "proc/net/netfilter/nf_conntrack_tcp_timeout_established", "432000");
  put(root / "proc/net/netfilter/nf_conntrack_tcp_timeout_close_wait", "3600");
  put(root / "proc/net/netfilter/nf_conntrack_tcp_be_liberal", "0");
  put(root / "proc/net/netfilter/nf_conntrack_udp_timeout", "30");
  put(root / "proc/net/ipv4/conf/all/route_localnet", "0");

  ConntrackSysctls s{.max_per_core = 32768, .min = 131072, .cpus = 2,
                     .tcp_established_timeout_seconds = 86400, .tcp_close_wait_timeout_seconds = 3600,
                     .tcp_be_liberal = true, .udp_timeout_seconds = 30};
  auto changed = apply_conntrack_sysctls(s, (root / "proc").string(), (root / "sys").string());
  REQUIRE(changed.ok());
  CHECK(get(root / "proc/net/netfilter/nf_conntrack_max") == 131072);
  CHECK(get(root / "sys/module/nf_conntrack/parameters/hashsize") == 32768);
  CHECK(get(root / "proc/net/netfilter/nf_conntrack_tcp_timeout_established") == 86400);
  CHECK(get(root / "proc/net/netfilter/nf_conntrack_tcp_be_liberal") == 1);
  // close_wait and udp_timeout already had the wanted values.
  CHECK(changed->size() == 4);
  auto again = apply_conntrack_sysctls(s, (root / "proc").string(), (root / "sys").string());
  REQUIRE(again.ok());
  CHECK(again->empty());

  REQUIRE(ensure_route_localnet((root / "proc").string()).ok());
  CHECK(get(root / "proc/net/ipv4/conf/all/route_localnet") == 1);
  fs::remove_all(root);
}

TEST_CASE("iptables flavour detection follows upstream's order", "[netrules][backend]") {
  const char* nft_hint = "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n";
  const char* legacy_canary = "*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n";
  const char* legacy_rules = "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n";
  const char* nft_rules = "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n";
  CHECK(choose_iptables_mode(nft_hint, legacy_canary) == IptablesMode::Nft);
  CHECK(choose_iptables_mode("", legacy_canary) == IptablesMode::Legacy);
  CHECK(choose_iptables_mode(nft_rules, legacy_rules) == IptablesMode::Legacy);
  CHECK(choose_iptables_mode(legacy_rules, nft_rules) == IptablesMode::Nft);
  CHECK(choose_iptables_mode("", "") == IptablesMode::Nft);
}
