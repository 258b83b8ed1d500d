// kube-proxy's command line: flag definitions (as upstream 1.32 names, types and defaults them),
// and how flags and the --config file combine into the effective configuration.
#include "config/proxy_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "config/flags.h"

namespace knode::config {
namespace {

constexpr int32_t kProxyHealthzPort = 10256;
constexpr int32_t kProxyStatusPort = 10249;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool is_ip(std::string_view s) {
  // Accepts what the configuration validation accepts (dotted IPv4 with optional leading zeros, IPv6).
  KubeProxyConfiguration probe;
  probe.bind_address = std::string(s);
  return !s.empty() && append_port_if_needed(probe.bind_address, 1) != probe.bind_address;
}

Status parse_uint10(std::string_view s, int bits, uint64_t& out) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Error(fmt::format("strconv.ParseUint: parsing {}: invalid syntax", go_quote(s)));
    }
  }
  auto v = parse_go_uint(s, bits);
  if (!v) return v.error();
  out = *v;
  return {};
}

// The flag set and the values flags write into before they are combined with --config.
struct ProxyFlags {
  FlagSet fs{"kube-proxy"};
  KubeProxyConfiguration cfg;  // starts defaulted, as upstream's NewOptions
  ProxyOptions o;
  std::string hostname_override;
  int32_t healthz_port = kProxyHealthzPort;
  int32_t metrics_port = kProxyStatusPort;
  std::chrono::nanoseconds iptables_sync{}, iptables_min_sync{}, ipvs_sync{}, ipvs_min_sync{};
  std::chrono::nanoseconds config_sync{}, ipvs_tcp{}, ipvs_tcpfin{}, ipvs_udp{};
  std::chrono::nanoseconds ct_established{}, ct_close_wait{}, ct_udp{}, ct_udp_stream{}, flush{};
  int32_t masquerade_bit = 14, oom_score_adj = -999, ct_max_per_core = 0, ct_min = 0;
  bool localhost_node_ports = true;
  bool masquerade_all = false;
  std::string cluster_cidr;
  std::string boot_id_file = "/proc/sys/kernel/random/boot_id";
  std::string machine_id_file = "/etc/machine-id,/var/lib/dbus/machine-id";
  // Logging flags, applied over the configuration file when given.
  std::string logging_format;
  uint32_t verbosity = 0;
  std::vector<VModuleItem> vmodule;
  bool json_split = false, text_split = false;
  Quantity json_buffer, text_buffer;

  ProxyFlags() {
    set_proxy_defaults(cfg);
    auto ns = [](Duration d) { return std::chrono::nanoseconds(d.ns); };
    iptables_sync = ns(cfg.iptables.sync_period);
    iptables_min_sync = ns(cfg.iptables.min_sync_period);
    // Upstream's internal configuration has one sync period pair, defaulted from the iptables
    // section; the ipvs flags show it as their default.
    ipvs_sync = iptables_sync;
    ipvs_min_sync = iptables_min_sync;
    config_sync = ns(cfg.config_sync_period);
    ct_established = ns(*cfg.conntrack.tcp_established_timeout);
    ct_close_wait = ns(*cfg.conntrack.tcp_close_wait_timeout);
    flush = ns(cfg.logging.flush_frequency.duration);
    masquerade_bit = *cfg.iptables.masquerade_bit;
    oom_score_adj = *cfg.oom_score_adj;
    ct_max_per_core = *cfg.conntrack.max_per_core;
    ct_min = *cfg.conntrack.min;
    localhost_node_ports = *cfg.iptables.localhost_node_ports;
    logging_format = cfg.logging.format;
    define();
  }

  void define() {
    fs.add_bool("help", &o.help, "Show this help and exit.");
    fs.set_shorthand("help", 'h');
    fs.add_custom("version", [this](std::string_view v) -> Status {
      o.version = v != "false";
      return {};
    }, "Print the Kubernetes version this node agent implements and exit.",
                  true, "version", "false");

    fs.add_string("config", &o.config_file, "KubeProxyConfiguration file; when given, it replaces the configuration flags (the logging flags and "
                  "--hostname-override still apply).");
    fs.add_string("write-config-to", &o.write_config_to, "Write the effective configuration to this file and exit.");
    fs.add_bool("cleanup", &o.cleanup, "Remove the rules any proxy mode installed, then exit.");
    fs.add_bool("init-only", &o.init_only,
                "Apply the node settings that need full root privileges (sysctls and the like), then exit.");
    fs.add_bool("dry-run", &o.dry_run, "Print the ruleset the proxy would install now, and exit (knode extension).");
    fs.add_bool_map("feature-gates", &cfg.feature_gates,
                    "Feature gates to switch on or off, as name=true|false pairs. Ignored when --config is given.");

    fs.add_string("kubeconfig", &cfg.client_connection.kubeconfig,
                  "Path to a kubeconfig file with the API server location and credentials (--master overrides the server).");
    fs.add_string("master", &o.master, "API server URL; takes precedence over the server in --kubeconfig.");
    fs.add_string("kube-api-content-type", &cfg.client_connection.content_type, "Media type in which requests to the API server are encoded.");
    fs.add_int32("kube-api-burst", &cfg.client_connection.burst, "API server requests allowed in a burst above --kube-api-qps.");
    fs.add_float32("kube-api-qps", &cfg.client_connection.qps.v, "API server requests per second.");

    fs.add_string("hostname-override", &hostname_override,
                  "If non-empty, the name of the Node kube-proxy runs on (instead of the hostname). Also applies with --config.");
    fs.add_custom("bind-address", [this](std::string_view s) -> Status {
      if (s.empty()) return {};
      if (!is_ip(s)) return Error(fmt::format("{} is not a valid IP address", go_quote(s)));
      cfg.bind_address = std::string(s);
      return {};
    }, "The node's primary IP, in place of the detected one. Ignored when --config is given.", false, "ip",
                  cfg.bind_address);
    auto ipport = [this](std::string* target) {
      return [target](std::string_view s) -> Status {
        if (s.empty()) return {};
        if (is_ip(s)) {
          *target = std::string(s);
          return {};
        }
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos) {
          return Error(fmt::format("{} is not in a valid format (ip or ip:port): address {}: missing port in address",
                                   go_quote(s), s));
        }
        std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        if (!is_ip(host)) return Error(fmt::format("{} is not a valid IP address", go_quote(host)));
        auto p = parse_go_int(port, 32);
        if (port.empty() || !p || *p < 1 || *p > 65535) return Error(fmt::format("{} is not a valid number", go_quote(port)));
        *target = std::string(s);
        return {};
      };
    };
    fs.add_custom("healthz-bind-address", ipport(&cfg.healthz_bind_address),
                  "Address (ip or ip:port) the health check server listens on. Ignored when --config is given.",
                  false, "ipport", cfg.healthz_bind_address);
    fs.add_custom("metrics-bind-address", ipport(&cfg.metrics_bind_address),
                  "Address (ip or ip:port) the metrics server listens on; 0.0.0.0:10249 or [::]:10249 listens on every "
                  "interface. Ignored when --config is given.",
                  false, "ipport", cfg.metrics_bind_address);
    fs.add_bool("bind-address-hard-fail", &cfg.bind_address_hard_fail,
                "Exit when a server port cannot be bound.");
    fs.add_bool("profiling", &cfg.enable_profiling,
                "Serve profiling data under /debug/pprof. Ignored when --config is given.");
    fs.add_string("show-hidden-metrics-for-version", &cfg.show_hidden_metrics_for_version,
                  "Previous minor version (<major>.<minor>, e.g. '1.31') whose hidden metrics to show. Ignored when "
                  "--config is given.");
    fs.add_custom("proxy-mode", [this](std::string_view s) -> Status {
      cfg.mode = std::string(s);
      return {};
    }, "Proxy backend: 'iptables' (default), 'ipvs' or 'nftables'. Ignored when --config is given.", false,
                  "ProxyMode");

    fs.add_int32("iptables-masquerade-bit", &masquerade_bit,
                 "fwmark bit (0-31) that marks packets for SNAT in iptables and ipvs modes.");
    fs.add_bool("masquerade-all", &masquerade_all, "Masquerade every packet sent to a Service cluster IP.");
    fs.add_bool("iptables-localhost-nodeports", &localhost_node_ports,
                "Accept NodePort connections on localhost (iptables mode, IPv4 only).");
    fs.add_duration("iptables-sync-period", &iptables_sync,
                    "Interval of full rule resyncs, above 0 (e.g. '30s', '1m').");
    fs.add_duration("iptables-min-sync-period", &iptables_min_sync,
                    "Least time between two rule updates (e.g. '1s'); 0 applies every change at once.");
    fs.add_duration("ipvs-sync-period", &ipvs_sync,
                    "Interval of full IPVS rule resyncs, above 0 (e.g. '30s', '1m').");
    fs.add_duration("ipvs-min-sync-period", &ipvs_min_sync,
                    "Least time between two IPVS rule updates (e.g. '1s'); 0 applies every change at once.");
    fs.add_string("ipvs-scheduler", &cfg.ipvs.scheduler, "IPVS scheduling algorithm in ipvs mode (e.g. rr, wrr, lc).");
    fs.add_string_slice("ipvs-exclude-cidrs", &cfg.ipvs.exclude_cidrs,
                        "Comma-separated CIDRs whose IPVS rules the ipvs mode leaves alone when it cleans up.");
    fs.add_bool("ipvs-strict-arp", &cfg.ipvs.strict_arp, "Strict ARP: set arp_ignore=1 and arp_announce=2.");
    fs.add_duration("ipvs-tcp-timeout", &ipvs_tcp, "IPVS timeout of idle TCP connections; 0 keeps the current value.");
    fs.add_duration("ipvs-tcpfin-timeout", &ipvs_tcpfin,
                    "IPVS timeout of TCP connections after a FIN; 0 keeps the current value.");
    fs.add_duration("ipvs-udp-timeout", &ipvs_udp, "IPVS timeout of UDP packets; 0 keeps the current value.");

    fs.add_custom("detect-local-mode", [this](std::string_view s) -> Status {
      cfg.detect_local_mode = std::string(s);
      return {};
    }, "How traffic from local pods is recognised: ClusterCIDR, NodeCIDR, BridgeInterface or "
      "InterfaceNamePrefix. Ignored when --config is given.", false, "LocalMode");
    fs.add_string("pod-bridge-interface", &cfg.detect_local.bridge_interface,
                  "With --detect-local-mode=BridgeInterface: traffic from this bridge is local.");
    fs.add_string("pod-interface-name-prefix", &cfg.detect_local.interface_name_prefix,
                  "With --detect-local-mode=InterfaceNamePrefix: traffic from interfaces with this name prefix is local.");
    fs.add_string("cluster-cidr", &cluster_cidr,
                  "The pods' CIDR range (or a comma-separated dual-stack pair); with --detect-local-mode=ClusterCIDR, "
                  "traffic from it is local. Ignored when --config is given.");
    fs.add_string_slice("nodeport-addresses", &cfg.node_port_addresses,
                        "CIDR ranges of the node IPs that accept NodePort connections, or the single string 'primary'. "
                        "Unset: all local IPs. Ignored when --config is given.");
    fs.add_int32("oom-score-adj", &oom_score_adj,
                 "OOM score adjustment of the kube-proxy process, -1000 to 1000. Ignored when --config is given.");
    fs.add_int32("conntrack-max-per-core", &ct_max_per_core,
                 "Conntrack entries per CPU core; 0 leaves the kernel's limit alone and --conntrack-min unused.");
    fs.add_int32("conntrack-min", &ct_min,
                 "Lower bound of the conntrack table size, whatever --conntrack-max-per-core gives.");
    fs.add_duration("conntrack-tcp-timeout-established", &ct_established,
                    "Conntrack timeout of idle established TCP connections; 0 keeps the current value.");
    fs.add_duration("conntrack-tcp-timeout-close-wait", &ct_close_wait,
                    "Conntrack timeout of TCP connections in CLOSE_WAIT.");
    fs.add_bool("conntrack-tcp-be-liberal", &cfg.conntrack.tcp_be_liberal,
                "Set nf_conntrack_tcp_be_liberal to 1, so out-of-window TCP packets are not marked invalid.");
    fs.add_duration("conntrack-udp-timeout", &ct_udp, "Conntrack timeout of UNREPLIED UDP flows; 0 keeps the current value.");
    fs.add_duration("conntrack-udp-timeout-stream", &ct_udp_stream,
                    "Conntrack timeout of ASSURED UDP flows; 0 keeps the current value.");
    fs.add_duration("config-sync-period", &config_sync,
                    "Resync interval of the API server watches; above 0.");
    fs.add_int32("healthz-port", &healthz_port, "Port of the health check server; 0 disables it.");
    fs.mark_deprecated("healthz-port", "use --healthz-bind-address; slated for removal.");
    fs.add_int32("metrics-port", &metrics_port, "Port of the metrics server; 0 disables it.");
    fs.mark_deprecated("metrics-port", "use --metrics-bind-address; slated for removal.");
    fs.add_string("boot-id-file", &boot_id_file, "Comma-separated files to read the boot ID from; the first that exists is used.");
    fs.add_string("machine-id-file", &machine_id_file,
                  "Comma-separated files to read the machine ID from; the first that exists is used.");

    // Logging (component-base logs/api/v1).
    fs.add_string("logging-format", &logging_format, "Log output format: \"text\" or \"json\".");
    fs.add_duration("log-flush-frequency", &flush, "Longest time between two log flushes.");
    fs.add_custom("v", [this](std::string_view s) -> Status {
      uint64_t v = 0;
      if (auto st = parse_uint10(s, 32, v); !st) return st;
      verbosity = static_cast<uint32_t>(v);
      return {};
    }, "Log verbosity level.", false, "Level", "0");
    fs.set_shorthand("v", 'v');
    fs.add_custom("vmodule", [this](std::string_view value) -> Status {
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string_view pat = value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        start = comma == std::string_view::npos ? value.size() + 1 : comma + 1;
        if (pat.empty()) continue;
        auto eq = pat.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == pat.size() || pat.find('=', eq + 1) != std::string_view::npos) {
          return Error(fmt::format("{} does not have the pattern=N format", go_quote(pat)));
        }
        uint64_t level = 0;
        if (auto st = parse_uint10(pat.substr(eq + 1), 31, level); !st) {
          return Error(fmt::format("parsing verbosity in {}: {}", go_quote(pat), st.message()));
        }
        vmodule.push_back({std::string(pat.substr(0, eq)), static_cast<uint32_t>(level)});
      }
      return {};
    }, "Per-file log verbosity as comma-separated pattern=N (text format only).", false,
                  "pattern=N,...");
    fs.add_bool("log-json-split-stream", &json_split,
                "(alpha) In json format, write errors to stderr and info messages to stdout instead of both to "
                "stdout; needs the LoggingAlphaOptions feature gate.");
    fs.add_bool("log-text-split-stream", &text_split,
                "(alpha) In text format, write errors to stderr and info messages to stdout instead of both to "
                "stdout; needs the LoggingAlphaOptions feature gate.");
    auto quantity = [](Quantity* q) {
      return [q](std::string_view s) -> Status {
        auto v = Quantity::parse(s);
        if (!v) return v.error();
        *q = *v;
        return {};
      };
    };
    fs.add_custom("log-json-info-buffer-size", quantity(&json_buffer),
                  "(alpha) In json format with split streams, how much of the info messages to buffer before "
                  "writing; 0 writes at once. Needs the LoggingAlphaOptions feature gate.",
                  false, "quantity");
    fs.add_custom("log-text-info-buffer-size", quantity(&text_buffer),
                  "(alpha) In text format with split streams, how much of the info messages to buffer before "
                  "writing; 0 writes at once. Needs the LoggingAlphaOptions feature gate.",
                  false, "quantity");
  }

  // Applies the logging flags that were given over `to` (upstream's copyLogsFromFlags).
  void copy_logging_flags(LoggingConfiguration& to) const {
    if (fs.changed("logging-format")) to.format = logging_format;
    if (fs.changed("log-flush-frequency")) to.flush_frequency.duration = Duration::nanoseconds(flush.count());
    if (fs.changed("v")) to.verbosity = verbosity;
    if (fs.changed("vmodule")) {
      std::vector<VModuleItem> merged = vmodule;
      merged.insert(merged.end(), to.vmodule.begin(), to.vmodule.end());
      to.vmodule = std::move(merged);
    }
    if (fs.changed("log-json-split-stream")) to.options.json.split_stream = json_split;
    if (fs.changed("log-text-split-stream")) to.options.text.split_stream = text_split;
    if (fs.changed("log-json-info-buffer-size")) to.options.json.info_buffer_size = json_buffer;
    if (fs.changed("log-text-info-buffer-size")) to.options.text.info_buffer_size = text_buffer;
  }

  // Flags that are not bound directly: written into the configuration after parsing, as
  // upstream's flag-only path (processV1Alpha1Flags and the internal→v1alpha1 conversion) does.
  void apply_flag_only_values() {
    auto d = [](std::chrono::nanoseconds n) { return Duration::nanoseconds(n.count()); };
    cfg.iptables.masquerade_bit = masquerade_bit;
    cfg.iptables.localhost_node_ports = localhost_node_ports;
    cfg.oom_score_adj = oom_score_adj;
    cfg.conntrack.max_per_core = ct_max_per_core;
    cfg.conntrack.min = ct_min;
    cfg.conntrack.tcp_established_timeout = d(ct_established);
    cfg.conntrack.tcp_close_wait_timeout = d(ct_close_wait);
    cfg.conntrack.udp_timeout = d(ct_udp);
    cfg.conntrack.udp_stream_timeout = d(ct_udp_stream);
    cfg.config_sync_period = d(config_sync);
    cfg.ipvs.tcp_timeout = d(ipvs_tcp);
    cfg.ipvs.tcp_fin_timeout = d(ipvs_tcpfin);
    cfg.ipvs.udp_timeout = d(ipvs_udp);
    if (fs.changed("cluster-cidr")) cfg.cluster_cidr = cluster_cidr;

    // One sync period pair, taken from the flags of the mode in use, lands in that mode's section.
    const bool ipvs = cfg.mode == "ipvs";
    Duration sync = cfg.iptables.sync_period, min_sync = cfg.iptables.min_sync_period;
    if (!ipvs && fs.changed("iptables-sync-period")) sync = d(iptables_sync);
    if (!ipvs && fs.changed("iptables-min-sync-period")) min_sync = d(iptables_min_sync);
    if (ipvs && fs.changed("ipvs-sync-period")) sync = d(ipvs_sync);
    if (ipvs && fs.changed("ipvs-min-sync-period")) min_sync = d(ipvs_min_sync);
    if (ipvs) {
      cfg.ipvs.sync_period = sync;
      cfg.ipvs.min_sync_period = min_sync;
    } else if (cfg.mode == "nftables") {
      cfg.nftables.sync_period = sync;
      cfg.nftables.min_sync_period = min_sync;
      cfg.nftables.masquerade_all = masquerade_all;
    } else {
      cfg.iptables.sync_period = sync;
      cfg.iptables.min_sync_period = min_sync;
    }
    if (cfg.mode != "nftables") cfg.iptables.masquerade_all = masquerade_all;

    LoggingConfiguration& l = cfg.logging;
    l.format = logging_format;
    l.flush_frequency.duration = d(flush);
    l.verbosity = verbosity;
    l.vmodule = vmodule;
    l.options.json.split_stream = json_split;
    l.options.text.split_stream = text_split;
    l.options.json.info_buffer_size = json_buffer;
    l.options.text.info_buffer_size = text_buffer;
  }
};

}  // namespace

Result<ProxyOptions> load_proxy_options(const std::vector<std::string>& args) {
  auto f = std::make_unique<ProxyFlags>();
  if (auto st = f->fs.parse(args); !st) return st.error();
  ProxyOptions& o = f->o;
  o.warnings = f->fs.warnings();
  o.changed_flags = f->fs.changed_flags();
  if (o.help || o.version) return std::move(o);
  for (const auto& a : f->fs.args()) {
    if (!a.empty()) {
      std::string list;
      for (const auto& x : f->fs.args()) list += (list.empty() ? "" : " ") + x;
      return Error(fmt::format("\"kube-proxy\" does not take any arguments, got [{}]", list));
    }
  }

  KubeProxyConfiguration cfg;
  if (!o.config_file.empty()) {
    auto loaded = load_proxy_config_file(o.config_file);
    if (!loaded) return loaded.error();
    for (auto& w : loaded->warnings) o.warnings.push_back(std::move(w));
    cfg = std::move(loaded->config);
    f->copy_logging_flags(cfg.logging);
  } else {
    f->apply_flag_only_values();
    cfg = f->cfg;
    if (o.write_config_to.empty()) {
      auto from_port = [](const std::string& addr, int32_t port) {
        return port == 0 ? std::string() : append_port_if_needed(addr, port);
      };
      cfg.healthz_bind_address = from_port(cfg.healthz_bind_address, f->healthz_port);
      cfg.metrics_bind_address = from_port(cfg.metrics_bind_address, f->metrics_port);
    }
  }
  apply_proxy_platform_defaults(cfg);
  if (!f->hostname_override.empty()) {
    std::string name = trim(f->hostname_override);
    if (name.empty()) return Error("--hostname-override: empty hostname-override is invalid");
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    cfg.hostname_override = name;
  }
  if (auto st = validate_proxy_config(cfg, o.config_file.empty() ? "kube-proxy flags" : o.config_file); !st) {
    return st.error();
  }
  o.logging = to_log_options(cfg.logging);
  o.effective_yaml = encode_proxy_config(cfg);
  o.config = std::move(cfg);
  return std::move(o);
}

std::string proxy_usage() {
  ProxyFlags f;
  return "kube-proxy implements Services on this node: it follows Services and EndpointSlices in the API\n"
         "server and programs iptables, IPVS or nftables rules that send Service traffic to the endpoints.\n"
         "\n"
         "Usage:\n"
         "  kube-proxy [flags]\n"
         "\n"
         "Flags:\n" +
         f.fs.usage();
}

}  // namespace knode::config
