#include "cri/convert_dns.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace knode::cri {
namespace {

constexpr size_t kMaxNameservers = 3;
constexpr size_t kMaxSearchPaths = 32;
constexpr size_t kMaxSearchListChars = 2048;
constexpr size_t kMaxSearchLength = 253;
constexpr size_t kMaxHostnameLength = 63;

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

std::vector<std::string> omit_duplicates(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in)
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  return out;
}

std::string option_name(std::string_view opt) { return std::string(opt.substr(0, opt.find(':'))); }

// Options are keyed by name; a later option replaces an earlier one in place.
void merge_option(std::vector<std::string>& options, const std::string& opt) {
  std::string name = option_name(opt);
  for (auto& o : options) {
    if (option_name(o) == name) { o = opt; return; }
  }
  options.push_back(opt);
}

bool is_ipv6(std::string_view ip) { return ip.find(':') != std::string_view::npos; }

std::vector<std::string> fit_searches(std::vector<std::string> s) {
  if (s.size() > kMaxSearchPaths) s.resize(kMaxSearchPaths);
  s.erase(std::remove_if(s.begin(), s.end(), [](const std::string& x) { return x.size() > kMaxSearchLength; }),
          s.end());
  size_t line = 0;
  for (size_t i = 0; i < s.size(); ++i) line += s[i].size() + (i ? 1 : 0);
  if (line > kMaxSearchListChars) {
    size_t cut = 0, cut_len = 0;
    for (size_t i = s.size(); i-- > 0;) {
      cut_len += s[i].size() + 1;
      ++cut;
      if (line - cut_len <= kMaxSearchListChars) break;
    }
    s.resize(s.size() - cut);
  }
  return s;
}

enum class DnsType { Cluster, Host, None };

Result<DnsType> dns_type(const kube::Pod& pod) {
  const std::string& p = pod.spec.dns_policy;
  if (p == "None") return DnsType::None;
  if (p == "ClusterFirstWithHostNet") return DnsType::Cluster;
  if (p == "ClusterFirst" || p.empty()) return pod.spec.host_network ? DnsType::Host : DnsType::Cluster;
  if (p == "Default") return DnsType::Host;
  return Error(fmt::format("invalid DNSPolicy={}", p));
}

}  // namespace

DnsConfig parse_resolv_conf(std::string_view content) {
  DnsConfig c;
  size_t start = 0;
  while (start <= content.size()) {
    size_t end = content.find('\n', start);
    std::string_view line = content.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? content.size() + 1 : end + 1;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    if (line[first] == '#' || line[first] == ';') continue;
    auto f = split_fields(line);
    if (f.empty()) continue;
    if (f[0] == "nameserver" && f.size() >= 2) c.servers.push_back(f[1]);
    if (f[0] == "search") {
      c.searches.clear();
      for (size_t i = 1; i < f.size(); ++i) {
        if (f[i] == ".") continue;
        std::string s = f[i];
        if (!s.empty() && s.back() == '.') s.pop_back();
        c.searches.push_back(s);
      }
    }
    if (f[0] == "options")
      for (size_t i = 1; i < f.size(); ++i) merge_option(c.options, f[i]);
  }
  return c;
}

Result<DnsConfig> pod_dns_config(const kube::Pod& pod, const DnsSettings& s) {
  auto type = dns_type(pod);
  if (!type.ok()) return type.error();
  DnsConfig host;
  if (!s.resolv_conf_path.empty()) host = parse_resolv_conf(s.resolv_conf);
  DnsConfig out = host;
  DnsType t = *type;
  if (t == DnsType::None) out = DnsConfig{};
  if (t == DnsType::Cluster) {
    if (!s.cluster_dns.empty()) {
      out.servers = s.cluster_dns;
      if (!s.cluster_domain.empty()) {
        std::vector<std::string> search = {fmt::format("{}.svc.{}", pod.metadata.namespace_, s.cluster_domain),
                                           "svc." + s.cluster_domain, s.cluster_domain};
        search.insert(search.end(), host.searches.begin(), host.searches.end());
        out.searches = omit_duplicates(search);
      }
      out.options = {"ndots:5"};
    } else {
      t = DnsType::Host;  // no cluster DNS configured: the host's settings
    }
  }
  if (t == DnsType::Host && s.resolv_conf_path.empty()) {
    // With --resolv-conf="" pods resolve through the local machine, as bind does with no servers.
    out.servers.clear();
    for (const auto& ip : s.node_ips) out.servers.push_back(is_ipv6(ip) ? "::1" : "127.0.0.1");
    if (out.servers.empty()) out.servers.push_back("127.0.0.1");
    out.searches = {"."};
  }
  if (pod.spec.dns_config) {
    const auto& pc = *pod.spec.dns_config;
    std::vector<std::string> servers = out.servers;
    servers.insert(servers.end(), pc.nameservers.begin(), pc.nameservers.end());
    out.servers = omit_duplicates(servers);
    std::vector<std::string> searches = out.searches;
    searches.insert(searches.end(), pc.searches.begin(), pc.searches.end());
    out.searches = omit_duplicates(searches);
    for (const auto& o : pc.options) {
      std::string v = o.value && !o.value->empty() ? o.name + ":" + *o.value : o.name;
      merge_option(out.options, v);
    }
  }
  if (out.servers.size() > kMaxNameservers) out.servers.resize(kMaxNameservers);
  out.searches = fit_searches(std::move(out.searches));
  return out;
}

namespace {
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch == '-' && i && i + 1 < s.size());
    if (!ok) return false;
  }
  return true;
}
}  // namespace

Result<HostnameDomain> pod_hostname_and_domain(const kube::Pod& pod, std::string_view cluster_domain) {
  HostnameDomain out;
  out.hostname = pod.metadata.name;
  if (!pod.spec.hostname.empty()) {
    if (!is_dns_label(pod.spec.hostname))
      return Error(fmt::format("pod Hostname \"{}\" is not a valid DNS label", pod.spec.hostname));
    out.hostname = pod.spec.hostname;
  }
  if (out.hostname.size() > kMaxHostnameLength) {
    out.hostname.resize(kMaxHostnameLength);
    while (!out.hostname.empty() && (out.hostname.back() == '-' || out.hostname.back() == '.')) out.hostname.pop_back();
    if (out.hostname.empty()) return Error(fmt::format("hostname for pod \"{}\" was invalid", pod.metadata.name));
  }
  if (!pod.spec.subdomain.empty()) {
    if (!is_dns_label(pod.spec.subdomain))
      return Error(fmt::format("pod Subdomain \"{}\" is not a valid DNS label", pod.spec.subdomain));
    out.domain = fmt::format("{}.{}.svc.{}", pod.spec.subdomain, pod.metadata.namespace_, cluster_domain);
  }
  return out;
}

Result<std::string> sandbox_hostname(const kube::Pod& pod, std::string_view cluster_domain) {
  auto hd = pod_hostname_and_domain(pod, cluster_domain);
  if (!hd.ok()) return hd.error();
  if (pod.spec.set_hostname_as_fqdn.value_or(false) && !hd->domain.empty()) {
    std::string fqdn = hd->hostname + "." + hd->domain;
    if (fqdn.size() > 64)
      return Error(fmt::format("failed to construct FQDN from pod hostname and cluster domain, FQDN {} is too long (64 characters is the max, {} characters requested)", fqdn, fqdn.size()));
    return fqdn;
  }
  return hd->hostname;
}

}  // namespace knode::cri
