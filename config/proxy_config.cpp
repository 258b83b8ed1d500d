// KubeProxyConfiguration v1alpha1: decoding, defaults, validation, encoding.
#include "config/proxy_config.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "config/flags.h"
#include "config/yaml_decode.h"

namespace knode::config {

// ---- field tables (JSON names as in upstream's types.go) ----

template <class V>
void visit_fields(V& v, ClientConnectionConfiguration& c) {
  v("kubeconfig", c.kubeconfig, kAlways);
  v("acceptContentTypes", c.accept_content_types, kAlways);
  v("contentType", c.content_type, kAlways);
  v("qps", c.qps, kAlways);
  v("burst", c.burst, kAlways);
}

template <class V>
void visit_fields(V& v, KubeProxyIPTablesConfiguration& c) {
  v("masqueradeBit", c.masquerade_bit, kAlways);
  v("masqueradeAll", c.masquerade_all, kAlways);
  v("localhostNodePorts", c.localhost_node_ports, kAlways);
  v("syncPeriod", c.sync_period, kAlways);
  v("minSyncPeriod", c.min_sync_period, kAlways);
}

template <class V>
void visit_fields(V& v, KubeProxyIPVSConfiguration& c) {
  v("syncPeriod", c.sync_period, kAlways);
  v("minSyncPeriod", c.min_sync_period, kAlways);
  v("scheduler", c.scheduler, kAlways);
  v("excludeCIDRs", c.exclude_cidrs, kAlways);
  v("strictARP", c.strict_arp, kAlways);
  v("tcpTimeout", c.tcp_timeout, kAlways);
  v("tcpFinTimeout", c.tcp_fin_timeout, kAlways);
  v("udpTimeout", c.udp_timeout, kAlways);
}

template <class V>
void visit_fields(V& v, KubeProxyNFTablesConfiguration& c) {
  v("masqueradeBit", c.masquerade_bit, kAlways);
  v("masqueradeAll", c.masquerade_all, kAlways);
  v("syncPeriod", c.sync_period, kAlways);
  v("minSyncPeriod", c.min_sync_period, kAlways);
}

template <class V>
void visit_fields(V& v, KubeProxyConntrackConfiguration& c) {
  v("maxPerCore", c.max_per_core, kAlways);
  v("min", c.min, kAlways);
  v("tcpEstablishedTimeout", c.tcp_established_timeout, kAlways);
  v("tcpCloseWaitTimeout", c.tcp_close_wait_timeout, kAlways);
  v("tcpBeLiberal", c.tcp_be_liberal, kAlways);
  v("udpTimeout", c.udp_timeout, kAlways);
  v("udpStreamTimeout", c.udp_stream_timeout, kAlways);
}

template <class V>
void visit_fields(V& v, KubeProxyWinkernelConfiguration& c) {
  v("networkName", c.network_name, kAlways);
  v("sourceVip", c.source_vip, kAlways);
  v("enableDSR", c.enable_dsr, kAlways);
  v("rootHnsEndpointName", c.root_hns_endpoint_name, kAlways);
  v("forwardHealthCheckVip", c.forward_health_check_vip, kAlways);
}

template <class V>
void visit_fields(V& v, DetectLocalConfiguration& c) {
  v("bridgeInterface", c.bridge_interface, kAlways);
  v("interfaceNamePrefix", c.interface_name_prefix, kAlways);
}

template <class V>
void visit_fields(V& v, KubeProxyConfiguration& c) {
  v("featureGates", c.feature_gates);
  v("clientConnection", c.client_connection, kAlways);
  v("logging", c.logging, kAlways);
  v("hostnameOverride", c.hostname_override, kAlways);
  v("bindAddress", c.bind_address, kAlways);
  v("healthzBindAddress", c.healthz_bind_address, kAlways);
  v("metricsBindAddress", c.metrics_bind_address, kAlways);
  v("bindAddressHardFail", c.bind_address_hard_fail, kAlways);
  v("enableProfiling", c.enable_profiling, kAlways);
  v("showHiddenMetricsForVersion", c.show_hidden_metrics_for_version, kAlways);
  v("mode", c.mode, kAlways);
  v("iptables", c.iptables, kAlways);
  v("ipvs", c.ipvs, kAlways);
  v("nftables", c.nftables, kAlways);
  v("winkernel", c.winkernel, kAlways);
  v("detectLocalMode", c.detect_local_mode, kAlways);
  v("detectLocal", c.detect_local, kAlways);
  v("clusterCIDR", c.cluster_cidr, kAlways);
  v("nodePortAddresses", c.node_port_addresses, kAlways);
  v("oomScoreAdj", c.oom_score_adj, kAlways);
  v("conntrack", c.conntrack, kAlways);
  v("configSyncPeriod", c.config_sync_period, kAlways);
  v("portRange", c.port_range, kAlways);
  v("windowsRunAsService", c.windows_run_as_service);
}

// ---- custom scalar types ----

void decode_node(DecodeState& st, const YAML::Node& n, const std::string& path, Float32& out) {
  double d = out.v;
  decode_node(st, n, path, d);
  if (st.failed()) return;
  if (std::isfinite(d) && std::fabs(d) > 3.4028234663852886e38) {
    st.fail(path, "number out of range for float32", n.Scalar());
    return;
  }
  out.v = static_cast<float>(d);
}
Tree encode_node(const Float32& f) {
  // encoding/json prints a float32 with its shortest 32-bit form; sigs.k8s.io/yaml then prints
  // that number again as a float64 (or an integer when it has no fraction).
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f.v);
  double d = std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
  if (d == std::floor(d) && std::fabs(d) < 1e18) return Tree::literal(fmt::format("{}", static_cast<int64_t>(d)));
  return Tree::literal(format_go_float(d, 64));
}
bool is_empty_value(const Float32& f) { return f.v == 0; }

// ---- network helpers (Go's net / k8s.io/utils/net semantics) ----
namespace {

// netutils.ParseIPSloppy: IPv4 dotted quad (leading zeros allowed) or IPv6. Returns 4 or 16 bytes.
std::optional<std::vector<uint8_t>> parse_ip(std::string_view s) {
  if (s.find(':') == std::string_view::npos) {
    std::vector<uint8_t> out;
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
      if (part > 0) {
        if (i >= s.size() || s[i] != '.') return std::nullopt;
        ++i;
      }
      size_t start = i;
      unsigned v = 0;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - start < 3) v = v * 10 + (s[i++] - '0');
      if (i == start || v > 255) return std::nullopt;
      out.push_back(static_cast<uint8_t>(v));
    }
    if (i != s.size()) return std::nullopt;
    return out;
  }
  if (s.find('%') != std::string_view::npos) return std::nullopt;
  in6_addr a{};
  if (inet_pton(AF_INET6, std::string(s).c_str(), &a) != 1) return std::nullopt;
  return std::vector<uint8_t>(a.s6_addr, a.s6_addr + 16);
}

// Go's To4() != nil: IPv4, or IPv4-mapped IPv6.
bool is_ipv4(const std::vector<uint8_t>& ip) {
  if (ip.size() == 4) return true;
  for (int i = 0; i < 10; ++i)
    if (ip[i] != 0) return false;
  return ip[10] == 0xff && ip[11] == 0xff;
}

struct Cidr {
  bool v4;
};
std::optional<Cidr> parse_cidr(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(s.substr(0, slash));
  if (!ip) return std::nullopt;
  std::string_view bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : bits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  const bool v4 = ip->size() == 4;
  if (n > (v4 ? 32 : 128)) return std::nullopt;
  return Cidr{v4};
}

// Go's net.SplitHostPort.
std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host, port = s.substr(colon + 1);
  if (!s.empty() && s[0] == '[') {
    auto end = s.find(']');
    if (end == std::string_view::npos || end + 1 != colon) return std::nullopt;
    host = s.substr(1, end - 1);
  } else {
    host = s.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // too many colons
  }
  if (host.find('[') != std::string_view::npos || host.find(']') != std::string_view::npos) return std::nullopt;
  if (port.find('[') != std::string_view::npos || port.find(']') != std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(host), std::string(port));
}

}  // namespace

std::string append_port_if_needed(const std::string& addr, int32_t port) {
  if (split_host_port(addr)) return addr;
  auto ip = parse_ip(addr);
  if (!ip) return addr;
  if (is_ipv4(*ip)) return fmt::format("{}:{}", addr, port);
  return fmt::format("[{}]:{}", addr, port);
}

// ---- accessors ----

Duration KubeProxyConfiguration::sync_period() const {
  if (mode == "ipvs") return ipvs.sync_period;
  if (mode == "nftables") return nftables.sync_period;
  return iptables.sync_period;
}
Duration KubeProxyConfiguration::min_sync_period() const {
  if (mode == "ipvs") return ipvs.min_sync_period;
  if (mode == "nftables") return nftables.min_sync_period;
  return iptables.min_sync_period;
}
bool KubeProxyConfiguration::masquerade_all() const {
  return mode == "nftables" ? nftables.masquerade_all : iptables.masquerade_all;
}
int32_t KubeProxyConfiguration::masquerade_bit() const {
  if (mode == "nftables") return nftables.masquerade_bit.value_or(14);
  return iptables.masquerade_bit.value_or(14);
}

// ---- defaults ----

void set_proxy_defaults(KubeProxyConfiguration& c) {
  constexpr int32_t kProxyHealthzPort = 10256;
  constexpr int32_t kProxyStatusPort = 10249;
  if (c.bind_address.empty()) c.bind_address = "0.0.0.0";
  auto bind = parse_ip(c.bind_address);
  const bool v4 = bind && is_ipv4(*bind);
  const std::string healthz_host = v4 ? "0.0.0.0" : "[::]";
  const std::string metrics_host = v4 ? "127.0.0.1" : "[::1]";
  if (c.healthz_bind_address.empty()) c.healthz_bind_address = fmt::format("{}:{}", healthz_host, kProxyHealthzPort);
  else c.healthz_bind_address = append_port_if_needed(c.healthz_bind_address, kProxyHealthzPort);
  if (c.metrics_bind_address.empty()) c.metrics_bind_address = fmt::format("{}:{}", metrics_host, kProxyStatusPort);
  else c.metrics_bind_address = append_port_if_needed(c.metrics_bind_address, kProxyStatusPort);

  if (!c.oom_score_adj) c.oom_score_adj = -999;
  if (c.iptables.sync_period.is_zero()) c.iptables.sync_period = Duration::seconds(30);
  if (c.iptables.min_sync_period.is_zero()) c.iptables.min_sync_period = Duration::seconds(1);
  if (!c.iptables.localhost_node_ports) c.iptables.localhost_node_ports = true;
  if (c.ipvs.sync_period.is_zero()) c.ipvs.sync_period = Duration::seconds(30);
  if (c.nftables.sync_period.is_zero()) c.nftables.sync_period = Duration::seconds(30);
  if (c.nftables.min_sync_period.is_zero()) c.nftables.min_sync_period = Duration::seconds(1);
  if (!c.conntrack.max_per_core) c.conntrack.max_per_core = 32 * 1024;
  if (!c.conntrack.min) c.conntrack.min = 128 * 1024;
  if (!c.iptables.masquerade_bit) c.iptables.masquerade_bit = 14;
  if (!c.nftables.masquerade_bit) c.nftables.masquerade_bit = 14;
  if (!c.conntrack.tcp_established_timeout) c.conntrack.tcp_established_timeout = Duration::hours(24);
  if (!c.conntrack.tcp_close_wait_timeout) c.conntrack.tcp_close_wait_timeout = Duration::hours(1);
  if (c.config_sync_period.is_zero()) c.config_sync_period = Duration::minutes(15);
  if (c.client_connection.content_type.empty()) c.client_connection.content_type = "application/vnd.kubernetes.protobuf";
  if (c.client_connection.qps.v == 0) c.client_connection.qps.v = 5;
  if (c.client_connection.burst == 0) c.client_connection.burst = 10;
  set_logging_defaults(c.logging);
}

void apply_proxy_platform_defaults(KubeProxyConfiguration& c) {
  if (c.mode.empty()) c.mode = "iptables";
  if (c.mode == "nftables" && c.node_port_addresses.empty()) c.node_port_addresses = {"primary"};
  if (c.detect_local_mode.empty()) c.detect_local_mode = "ClusterCIDR";
}

// ---- validation ----
namespace {

class Errors {
 public:
  void invalid(std::string_view field, std::string_view value_text, std::string_view reason) {
    list_.push_back(fmt::format("{}: Invalid value: {}: {}", field, value_text, reason));
  }
  void invalid_str(std::string_view field, std::string_view value, std::string_view reason) {
    invalid(field, go_quote(value), reason);
  }
  void raw(std::string msg) { list_.push_back(std::move(msg)); }
  Status status(std::string_view file) const {
    if (list_.empty()) return {};
    std::string out = file.empty() ? "" : std::string(file) + ": ";
    for (size_t i = 0; i < list_.size(); ++i) out += (i ? "; " : "") + list_[i];
    return Error(out);
  }

 private:
  std::vector<std::string> list_;
};

std::string dur_text(Duration d) { return go_quote(format_duration(d)); }

void validate_sync(Errors& e, std::string_view section, Duration sync, Duration min_sync) {
  if (sync.ns <= 0) e.invalid(fmt::format("{}.syncPeriod", section), dur_text(sync), "must be greater than 0");
  if (min_sync.ns < 0) {
    e.invalid(fmt::format("{}.minSyncPeriod", section), dur_text(min_sync), "must be greater than or equal to 0");
  } else if (min_sync > sync) {
    e.invalid(fmt::format("{}.syncPeriod", section), dur_text(sync),
              fmt::format("must be greater than or equal to {}.minSyncPeriod ({})", section, format_duration(min_sync)));
  }
}

void validate_masquerade_bit(Errors& e, std::string_view field, const std::optional<int32_t>& bit) {
  if (bit && (*bit < 0 || *bit > 31)) e.invalid(field, std::to_string(*bit), "must be within the range [0, 31]");
}

void validate_host_port(Errors& e, std::string_view field, const std::string& input) {
  auto hp = split_host_port(input);
  if (!hp) {
    e.invalid_str(field, input, "must be IP:port");
    return;
  }
  if (!parse_ip(hp->first)) e.invalid_str(field, hp->first, "must be a valid IP");
  int p = 0;
  auto [ptr, ec] = std::from_chars(hp->second.data(), hp->second.data() + hp->second.size(), p);
  if (ec != std::errc() || ptr != hp->second.data() + hp->second.size() || p < 1 || p > 65535) {
    e.invalid_str(field, hp->second, "must be a valid port");
  }
}

bool feature_enabled(const KubeProxyConfiguration& c, const std::string& name, bool def) {
  auto it = c.feature_gates.find(name);
  return it == c.feature_gates.end() ? def : it->second;
}

}  // namespace

Status validate_proxy_config(const KubeProxyConfiguration& c, std::string_view file) {
  Errors e;
  validate_masquerade_bit(e, "iptables.masqueradeBit", c.iptables.masquerade_bit);
  validate_masquerade_bit(e, "nftables.masqueradeBit", c.nftables.masquerade_bit);
  // The sync periods of the mode in use (upstream validates the section its internal config takes).
  if (c.mode == "ipvs") validate_sync(e, "ipvs", c.ipvs.sync_period, c.ipvs.min_sync_period);
  else if (c.mode == "nftables") validate_sync(e, "nftables", c.nftables.sync_period, c.nftables.min_sync_period);
  else validate_sync(e, "iptables", c.iptables.sync_period, c.iptables.min_sync_period);

  if (c.mode == "ipvs") {
    static const std::vector<std::string> kSchedulers = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr",
                                                         "sh", "dh", "sed", "nq", "mh", ""};
    if (std::find(kSchedulers.begin(), kSchedulers.end(), c.ipvs.scheduler) == kSchedulers.end()) {
      e.invalid_str("ipvs.scheduler", c.ipvs.scheduler,
                    "must be in [rr wrr lc wlc lblc lblcr sh dh sed nq mh ], blank means the default algorithm "
                    "method (currently rr)");
    }
    for (size_t i = 0; i < c.ipvs.exclude_cidrs.size(); ++i) {
      if (!parse_cidr(c.ipvs.exclude_cidrs[i])) {
        e.invalid_str(fmt::format("ipvs.excludeCIDRs[{}]", i), c.ipvs.exclude_cidrs[i], "must be a valid CIDR");
      }
    }
    const std::pair<const char*, Duration> timeouts[] = {{"ipvs.tcpTimeout", c.ipvs.tcp_timeout},
                                                         {"ipvs.tcpFinTimeout", c.ipvs.tcp_fin_timeout},
                                                         {"ipvs.udpTimeout", c.ipvs.udp_timeout}};
    for (const auto& [name, d] : timeouts) {
      if (d.ns < 0) e.invalid(name, dur_text(d), "must be greater than or equal to 0");
    }
  }

  // Conntrack.
  if (c.conntrack.max_per_core && *c.conntrack.max_per_core < 0) {
    e.invalid("conntrack.maxPerCore", std::to_string(*c.conntrack.max_per_core), "must be greater than or equal to 0");
  }
  if (c.conntrack.min && *c.conntrack.min < 0) {
    e.invalid("conntrack.min", std::to_string(*c.conntrack.min), "must be greater than or equal to 0");
  }
  const std::pair<const char*, Duration> ct[] = {
      {"conntrack.tcpEstablishedTimeout", c.conntrack.tcp_established_timeout.value_or(Duration{})},
      {"conntrack.tcpCloseWaitTimeout", c.conntrack.tcp_close_wait_timeout.value_or(Duration{})},
      {"conntrack.udpTimeout", c.conntrack.udp_timeout},
      {"conntrack.udpStreamTimeout", c.conntrack.udp_stream_timeout}};
  for (const auto& [name, d] : ct) {
    if (d.ns < 0) e.invalid(name, dur_text(d), "must be greater than or equal to 0");
  }

  // Mode.
  {
    std::vector<std::string> modes = {"iptables", "ipvs"};
    if (feature_enabled(c, "NFTablesProxyMode", true)) modes.push_back("nftables");
    if (!c.mode.empty() && std::find(modes.begin(), modes.end(), c.mode) == modes.end()) {
      std::string list;
      for (size_t i = 0; i < modes.size(); ++i) list += (i ? "," : "") + modes[i];
      e.invalid_str("mode", c.mode,
                    fmt::format("must be {} or blank (blank means the best-available proxy [currently iptables])", list));
    }
  }

  if (c.client_connection.burst < 0) {
    e.invalid("clientConnection.burst", std::to_string(c.client_connection.burst), "must be greater than or equal to 0");
  }
  if (c.oom_score_adj && (*c.oom_score_adj < -1000 || *c.oom_score_adj > 1000)) {
    e.invalid("oomScoreAdj", std::to_string(*c.oom_score_adj), "must be within the range [-1000, 1000]");
  }
  if (c.config_sync_period.ns <= 0) e.invalid("configSyncPeriod", dur_text(c.config_sync_period), "must be greater than 0");
  if (!parse_ip(c.bind_address)) {
    e.invalid_str("bindAddress", c.bind_address, "not a valid textual representation of an IP address");
  }
  if (!c.healthz_bind_address.empty()) validate_host_port(e, "healthzBindAddress", c.healthz_bind_address);
  if (!c.metrics_bind_address.empty()) validate_host_port(e, "metricsBindAddress", c.metrics_bind_address);

  if (!c.cluster_cidr.empty()) {
    std::vector<std::string> cidrs;
    size_t start = 0;
    while (true) {
      auto p = c.cluster_cidr.find(',', start);
      cidrs.push_back(c.cluster_cidr.substr(start, p == std::string::npos ? std::string::npos : p - start));
      if (p == std::string::npos) break;
      start = p + 1;
    }
    if (cidrs.size() > 2) {
      e.invalid_str("clusterCIDR", c.cluster_cidr,
                    "only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)");
    } else if (cidrs.size() == 2) {
      auto a = parse_cidr(cidrs[0]), b = parse_cidr(cidrs[1]);
      if (!a || !b || a->v4 == b->v4) {
        e.invalid_str("clusterCIDR", c.cluster_cidr, "must be a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)");
      }
    } else if (!parse_cidr(cidrs[0])) {
      e.invalid_str("clusterCIDR", c.cluster_cidr, "must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)");
    }
  }

  for (size_t i = 0; i < c.node_port_addresses.size(); ++i) {
    const std::string& a = c.node_port_addresses[i];
    if (a == "primary") {
      if (i != 0 || c.node_port_addresses.size() != 1) {
        e.invalid_str(fmt::format("nodePortAddresses[{}]", i), a, "can't use both 'primary' and CIDRs");
      }
      break;
    }
    if (!parse_cidr(a)) e.invalid_str(fmt::format("nodePortAddresses[{}]", i), a, "must be a valid CIDR");
  }

  if (!c.show_hidden_metrics_for_version.empty() && c.show_hidden_metrics_for_version != "1.31") {
    e.invalid_str("showHiddenMetricsForVersion", c.show_hidden_metrics_for_version,
                  "--show-hidden-metrics-for-version must be omitted or have the value '1.31'. Only the previous "
                  "minor version is allowed");
  }

  static const std::vector<std::string> kLocalModes = {"ClusterCIDR", "NodeCIDR", "BridgeInterface",
                                                       "InterfaceNamePrefix", ""};
  if (std::find(kLocalModes.begin(), kLocalModes.end(), c.detect_local_mode) == kLocalModes.end()) {
    e.raw(fmt::format("detectLocalMode: Unsupported value: {}: supported values: \"ClusterCIDR\", \"NodeCIDR\", "
                      "\"BridgeInterface\", \"InterfaceNamePrefix\", \"\"",
                      go_quote(c.detect_local_mode)));
  }
  if (c.detect_local_mode == "BridgeInterface" && c.detect_local.bridge_interface.empty()) {
    e.invalid_str("detectLocal.bridgeInterface", "", "must not be empty");
  }
  if (c.detect_local_mode == "InterfaceNamePrefix" && c.detect_local.interface_name_prefix.empty()) {
    e.invalid_str("detectLocal.interfaceNamePrefix", "", "must not be empty");
  }

  // Logging (logsapi.ValidateLoggingConfiguration).
  const auto& l = c.logging;
  if (auto st = validate_logging(l, "logging"); !st) e.raw(st.message());
  if (!feature_enabled(c, "LoggingAlphaOptions", false)) {
    const std::pair<const char*, const OutputRoutingOptions*> routes[] = {{"json", &l.options.json}, {"text", &l.options.text}};
    for (const auto& [name, o] : routes) {
      if (o->split_stream) e.raw(fmt::format("logging.options.{}.splitStream: Forbidden: Feature LoggingAlphaOptions is disabled", name));
      if (!o->info_buffer_size.is_zero()) {
        e.raw(fmt::format("logging.options.{}.infoBufferSize: Forbidden: Feature LoggingAlphaOptions is disabled", name));
      }
    }
  }
  return e.status(file);
}

// ---- documents ----

Result<DecodedProxyConfig> decode_proxy_config(std::string_view text, std::string_view file) {
  auto doc = load_yaml(text, file);
  if (!doc) return doc.error();
  if (auto st = check_type_meta(*doc, file, kKubeProxyConfigAPIVersion, kKubeProxyConfigKind); !st) return st.error();
  DecodedProxyConfig out;
  DecodeState st = decode_document(*doc, file, out.config);
  if (st.failed()) return *st.error;
  if (!st.unknown.empty() || !st.duplicate.empty()) {
    // Upstream decodes strictly first and falls back to lenient decoding with a warning.
    std::string fields;
    for (const auto& u : st.unknown) fields += (fields.empty() ? "" : ", ") + fmt::format("unknown field {}", go_quote(u));
    for (const auto& d : st.duplicate) fields += (fields.empty() ? "" : ", ") + fmt::format("duplicate field {}", go_quote(d));
    out.warnings.push_back(fmt::format("{}: using lenient decoding as strict decoding failed: {}", file, fields));
  }
  set_proxy_defaults(out.config);
  return out;
}

Result<DecodedProxyConfig> load_proxy_config_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return decode_proxy_config(*text, path);
}

std::string encode_proxy_config(const KubeProxyConfiguration& c) {
  Tree t = encode_node(c);
  // Nil lists print as null upstream.
  auto null_if_empty = [](Tree& map, std::string_view key) {
    for (auto& [k, v] : map.map) {
      if (k == key && v.kind == Tree::Kind::Seq && v.seq.empty()) v = Tree{};
    }
  };
  null_if_empty(t, "nodePortAddresses");
  for (auto& [k, v] : t.map) {
    if (k == "ipvs") null_if_empty(v, "excludeCIDRs");
  }
  t.map.emplace_back("apiVersion", Tree::string(std::string(kKubeProxyConfigAPIVersion)));
  t.map.emplace_back("kind", Tree::string(std::string(kKubeProxyConfigKind)));
  return to_yaml(t);
}

}  // namespace knode::config
