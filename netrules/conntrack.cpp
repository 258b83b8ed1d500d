#include "netrules/conntrack.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace knode::netrules {

namespace {
std::vector<std::string> with_family(const std::string& ip, std::vector<std::string> args) {
  if (is_ipv6(ip)) {
    args.push_back("-f");
    args.push_back("ipv6");
  }
  return args;
}
}  // namespace

std::vector<std::vector<std::string>> conntrack_commands(const ConntrackCleanup& c) {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : c.service_ips)
    out.push_back(with_family(s.ip, {"-D", "--orig-dst", s.ip, "-p", protocol_lower(s.protocol)}));
  for (const auto& p : c.node_ports)
    out.push_back(with_family(c.family == IPFamily::IPv6 ? "::" : "",
                              {"-D", "-p", protocol_lower(p.protocol), "--dport", std::to_string(p.port)}));
  for (const auto& n : c.stale_endpoints)
    out.push_back(with_family(n.origin, {"-D", "--orig-dst", n.origin, "--dst-nat", n.dest, "-p",
                                         protocol_lower(n.protocol)}));
  for (const auto& n : c.stale_node_port_endpoints)
    out.push_back(with_family(n.dest, {"-D", "-p", protocol_lower(n.protocol), "--dport",
                                       std::to_string(n.port), "--dst-nat", n.dest}));
  return out;
}

ConntrackCleaner::ConntrackCleaner(std::string netns)
    : runner_([netns](const std::vector<std::string>& argv) { return run_program(argv, {}, netns); }) {}

Status ConntrackCleaner::run(const ConntrackCleanup& cleanup) {
  Status first;
  for (auto& args : conntrack_commands(cleanup)) {
    std::vector<std::string> argv{"conntrack"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = runner_(argv);
    Status st;
    if (!r) {
      st = r.error().wrap("conntrack");
    } else if (r->exit_code != 0 && r->err.find("0 flow entries have been deleted") == std::string::npos &&
               r->out.find("0 flow entries have been deleted") == std::string::npos) {
      st = Error(fmt::format("conntrack {} exited with {}: {}", fmt::join(args, " "), r->exit_code, r->err));
    }
    if (!st && first) first = st;
  }
  return first;
}

namespace {

std::optional<long> read_long(const std::string& path) {
  std::ifstream f(path);
  long v;
  if (!(f >> v)) return std::nullopt;
  return v;
}

Status write_long(const std::string& path, long v) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return Error(fmt::format("open {} for writing failed", path));
  f << v << "\n";
  f.flush();
  if (!f) return Error(fmt::format("write {} failed", path));
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> apply_conntrack_sysctls(const ConntrackSysctls& s, const std::string& proc_sys,
                                                         const std::string& sys_root) {
  std::vector<std::string> changed;
  auto set = [&](const std::string& key, long v) -> Status {
    std::string path = proc_sys + "/" + key;
    if (auto cur = read_long(path); cur && *cur == v) return Status::Ok();
    if (Status st = write_long(path, v); !st) return st;
    changed.push_back(key);
    return Status::Ok();
  };
  if (s.max_per_core > 0) {
    long max = std::max<long>(static_cast<long>(s.max_per_core) * std::max(1, s.cpus), s.min);
    // The hash table should hold max/4 buckets; the kernel only lets it grow from here.
    std::string hashsize = sys_root + "/module/nf_conntrack/parameters/hashsize";
    if (auto cur = read_long(hashsize); cur && *cur < max / 4) {
      if (Status st = write_long(hashsize, max / 4); !st) return st.error();
      changed.push_back("module/nf_conntrack/parameters/hashsize");
    }
    if (Status st = set("net/netfilter/nf_conntrack_max", max); !st) return st.error();
  }
  struct Item { const char* key; std::optional<long> v; };
  const Item items[] = {
      {"net/netfilter/nf_conntrack_tcp_timeout_established", s.tcp_established_timeout_seconds},
      {"net/netfilter/nf_conntrack_tcp_timeout_close_wait", s.tcp_close_wait_timeout_seconds},
      {"net/netfilter/nf_conntrack_tcp_be_liberal",
       s.tcp_be_liberal ? std::optional<long>(*s.tcp_be_liberal ? 1 : 0) : std::nullopt},
      {"net/netfilter/nf_conntrack_udp_timeout", s.udp_timeout_seconds},
      {"net/netfilter/nf_conntrack_udp_timeout_stream", s.udp_stream_timeout_seconds},
  };
  for (const auto& it : items) {
    if (!it.v) continue;
    if (*it.v <= 0 && !std::string_view(it.key).ends_with("be_liberal")) continue;  // 0: leave alone
    if (Status st = set(it.key, *it.v); !st) return st.error();
  }
  return changed;
}

Status ensure_route_localnet(const std::string& proc_sys) {
  std::string path = proc_sys + "/net/ipv4/conf/all/route_localnet";
  if (auto cur = read_long(path); cur && *cur == 1) return Status::Ok();
  return write_long(path, 1);
}

}  // namespace knode::netrules
