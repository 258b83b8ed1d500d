// Conntrack housekeeping for the proxy: deleting flows that rule changes leave stale (UDP/SCTP,
// which have no connection teardown), with the same filters upstream's conntrack tool calls use,
// and applying the conntrack sysctls.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/result.h"
#include "netrules/exec.h"
#include "netrules/model.h"

namespace knode::netrules {

struct ConntrackCleanup {
  struct ServiceIP { std::string ip; Protocol protocol; };              // -D --orig-dst IP -p P
  struct Port { int port; Protocol protocol; };                         // -D -p P --dport PORT
  struct Nat { std::string origin, dest; Protocol protocol; };          // -D --orig-dst O --dst-nat D -p P
  struct PortNat { std::string dest; int port; Protocol protocol; };    // -D -p P --dport PORT --dst-nat D
  std::vector<ServiceIP> service_ips;  // a service gained its first endpoint
  std::vector<Port> node_ports;
  std::vector<Nat> stale_endpoints;    // an endpoint went away
  std::vector<PortNat> stale_node_port_endpoints;
  IPFamily family = IPFamily::IPv4;  // of the proxier: node port flows carry no address (-f ipv6)

  bool empty() const {
    return service_ips.empty() && node_ports.empty() && stale_endpoints.empty() &&
           stale_node_port_endpoints.empty();
  }
};

// The conntrack(8) argument lists (without "conntrack") for a cleanup, as upstream runs them.
std::vector<std::vector<std::string>> conntrack_commands(const ConntrackCleanup& c);

using ProgramRunner = std::function<Result<ExecOutput>(const std::vector<std::string>& argv)>;

// Runs the conntrack tool (in netns when given). "0 flow entries have been deleted" is success.
class ConntrackCleaner {
 public:
  explicit ConntrackCleaner(std::string netns = {});
  explicit ConntrackCleaner(ProgramRunner runner) : runner_(std::move(runner)) {}
  // Runs every command; returns the first error after trying all of them.
  Status run(const ConntrackCleanup& cleanup);

 private:
  ProgramRunner runner_;
};

// kube-proxy's conntrack settings (KubeProxyConntrackConfiguration); unset fields are left alone.
struct ConntrackSysctls {
  int max_per_core = 0;  // 0: leave nf_conntrack_max alone
  int min = 0;
  int cpus = 1;
  std::optional<int> tcp_established_timeout_seconds;
  std::optional<int> tcp_close_wait_timeout_seconds;
  std::optional<bool> tcp_be_liberal;
  std::optional<int> udp_timeout_seconds;
  std::optional<int> udp_stream_timeout_seconds;
};

// Writes the sysctls under proc_sys (normally /proc/sys) and the conntrack hash size under
// sys_root (normally /sys) when they differ from the wanted values. Returns the keys it changed.
Result<std::vector<std::string>> apply_conntrack_sysctls(const ConntrackSysctls& s,
                                                         const std::string& proc_sys = "/proc/sys",
                                                         const std::string& sys_root = "/sys");
// Sets net/ipv4/conf/all/route_localnet=1 (localhost NodePorts) under proc_sys if needed.
Status ensure_route_localnet(const std::string& proc_sys = "/proc/sys");

}  // namespace knode::netrules
