// Kubelet flag registration (upstream's KubeletFlags.AddFlags, AddKubeletConfigFlags and the
// logging/global flags), with upstream's names, value syntax and defaults.
#include "config/kubelet_flags.h"

#include <memory>

namespace knode::config {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

std::string trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string_view::npos ? std::string() : std::string(s.substr(a, b - a + 1));
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string map_text(const std::map<std::string, std::string>& m, char sep = '=') {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ",") + k + sep + v;
  return out;
}

// Registers flags and records which are deprecated mirrors of config fields.
class Registrar {
 public:
  Registrar(FlagSet& fs, KubeletFlagInfo& info) : fs_(fs), info_(info) {}

  // Subsequent flags mirror KubeletConfiguration fields (deprecated upstream).
  void config_mode(bool on) { config_mode_ = on; }

  void str(const char* name, std::string& v, std::string usage, const char* field = nullptr) {
    fs_.add_custom(name, [&v](std::string_view s) { v = std::string(s); return Status(); }, note(name, usage, field),
                   false, "string", v);
  }
  void opt_str(const char* name, std::optional<std::string>& v, std::string usage, const char* field) {
    fs_.add_custom(name, [&v](std::string_view s) { v = std::string(s); return Status(); }, note(name, usage, field),
                   false, "string", v.value_or(""));
  }
  void boolean(const char* name, bool& v, std::string usage, const char* field = nullptr) {
    fs_.add_custom(name, [&v](std::string_view s) -> Status {
      auto b = parse_go_bool(s);
      if (!b) return b.error();
      v = *b;
      return {};
    }, note(name, usage, field), true, "bool", v ? "true" : "");
  }
  void opt_bool(const char* name, std::optional<bool>& v, std::string usage, const char* field) {
    fs_.add_custom(name, [&v](std::string_view s) -> Status {
      auto b = parse_go_bool(s);
      if (!b) return b.error();
      v = *b;
      return {};
    }, note(name, usage, field), true, "bool", v.value_or(false) ? "true" : "");
  }
  template <class I>
  void integer(const char* name, I& v, std::string usage, const char* field, const char* type) {
    fs_.add_custom(name, [&v](std::string_view s) -> Status {
      auto n = parse_go_int(s, sizeof(I) * 8);
      if (!n) return n.error();
      v = static_cast<I>(*n);
      return {};
    }, note(name, usage, field), false, type, v == 0 ? "" : std::to_string(v));
  }
  template <class I>
  void opt_integer(const char* name, std::optional<I>& v, std::string usage, const char* field, const char* type) {
    fs_.add_custom(name, [&v](std::string_view s) -> Status {
      auto n = parse_go_int(s, sizeof(I) * 8);
      if (!n) return n.error();
      v = static_cast<I>(*n);
      return {};
    }, note(name, usage, field), false, type, v && *v != 0 ? std::to_string(*v) : "");
  }
  void duration(const char* name, Duration& v, std::string usage, const char* field = nullptr) {
    fs_.add_custom(name, [&v](std::string_view s) -> Status {
      auto d = parse_duration(s);
      if (!d) return d.error();
      v = *d;
      return {};
    }, note(name, usage, field), false, "duration", v.ns ? format_duration(v) : "");
  }
  void opt_duration(const char* name, std::optional<Duration>& v, std::string usage, const char* field) {
    fs_.add_custom(name, [&v](std::string_view s) -> Status {
      auto d = parse_duration(s);
      if (!d) return d.error();
      v = *d;
      return {};
    }, note(name, usage, field), false, "duration", v && v->ns ? format_duration(*v) : "");
  }
  // pflag "strings": comma-separated; the first use replaces, repeats append.
  void strings(const char* name, std::vector<std::string>& v, std::string usage, const char* field) {
    auto fresh = std::make_shared<bool>(true);
    fs_.add_custom(name, [&v, fresh](std::string_view s) {
      if (*fresh) v.clear();
      *fresh = false;
      for (auto part : split(s, ',')) v.push_back(trim(part));
      return Status();
    }, note(name, usage, field), false, "strings", "[" + join(v) + "]");
  }
  void opt_strings(const char* name, std::optional<std::vector<std::string>>& v, std::string usage, const char* field) {
    auto fresh = std::make_shared<bool>(true);
    fs_.add_custom(name, [&v, fresh](std::string_view s) {
      if (*fresh || !v) v.emplace();
      *fresh = false;
      for (auto part : split(s, ',')) v->push_back(trim(part));
      return Status();
    }, note(name, usage, field), false, "strings", "[" + (v ? join(*v) : "") + "]");
  }
  // cliflag.MapStringString (sep '=') or LangleSeparatedMapStringString (sep '<').
  void map(const char* name, std::map<std::string, std::string>& v, std::string usage, const char* field,
           char sep = '=') {
    auto fresh = std::make_shared<bool>(true);
    fs_.add_custom(name, [&v, fresh, sep](std::string_view s) -> Status {
      if (*fresh) v.clear();
      *fresh = false;
      for (auto part : split(s, ',')) {
        if (trim(part).empty()) continue;
        const size_t p = part.find(sep);
        if (p == std::string_view::npos)
          return Error(std::string("malformed pair, expect string") + sep + "string");
        v[trim(part.substr(0, p))] = trim(part.substr(p + 1));
      }
      return Status();
    }, note(name, usage, field), false, "<comma-separated 'key" + std::string(1, sep) + "value' pairs>",
                   map_text(v, sep));
  }
  void opt_map(const char* name, std::optional<std::map<std::string, std::string>>& v, std::string usage,
               const char* field, char sep) {
    auto fresh = std::make_shared<bool>(true);
    fs_.add_custom(name, [&v, fresh, sep](std::string_view s) -> Status {
      if (*fresh || !v) v.emplace();
      *fresh = false;
      for (auto part : split(s, ',')) {
        if (trim(part).empty()) continue;
        const size_t p = part.find(sep);
        if (p == std::string_view::npos)
          return Error(std::string("malformed pair, expect string") + sep + "string");
        (*v)[trim(part.substr(0, p))] = trim(part.substr(p + 1));
      }
      return Status();
    }, note(name, usage, field), false, "<comma-separated 'key" + std::string(1, sep) + "value' pairs>",
                   v ? map_text(*v, sep) : "");
  }
  void custom(const char* name, FlagSet::Setter setter, std::string usage, const char* field, const char* type,
              std::string default_text = "", bool is_bool = false) {
    fs_.add_custom(name, std::move(setter), note(name, usage, field), is_bool, type, std::move(default_text));
  }
  void deprecate(const char* name, std::string message) {
    info_.deprecated[name] = message;
    // Shown in usage (appended by note() for config flags); kept visible as upstream does.
  }
  void legacy(const char* name, std::string warning) { info_.legacy[name] = std::move(warning); }

 private:
  std::string note(const char* name, std::string usage, const char* field) {
    if (field) info_.field_of_flag[field] = name;
    if (config_mode_) {
      std::string message = config_flag_deprecation(field ? field : "");
      usage += " (DEPRECATED: " + message + ")";
      info_.deprecated[name] = std::move(message);
    }
    return usage;
  }

  FlagSet& fs_;
  KubeletFlagInfo& info_;
  bool config_mode_ = false;
};

Result<Taint> parse_taint(std::string_view spec) {
  // key=value:effect | key:effect
  const size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos)
    return Error("invalid taint spec: " + std::string(spec));
  Taint t;
  t.effect = std::string(spec.substr(colon + 1));
  std::string_view kv = spec.substr(0, colon);
  const size_t eq = kv.find('=');
  t.key = std::string(kv.substr(0, eq));
  if (eq != std::string_view::npos) t.value = std::string(kv.substr(eq + 1));
  if (t.key.empty()) return Error("invalid taint spec: " + std::string(spec));
  if (t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute")
    return Error("invalid taint effect: " + t.effect + ", unsupported taint effect");
  return t;
}

// --reserved-memory "0:memory=1Gi,hugepages-1M=2Gi"; repeatable.
Status parse_reserved_memory(std::string_view s, std::vector<MemoryReservation>& out) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos) return Error("the reserved memory has incorrect format, expected numaNodeID:type=quantity[,type=quantity...], got " + std::string(s));
  auto node = parse_go_int(trim(s.substr(0, colon)), 32);
  if (!node) return Error("failed to parse the NUMA node ID: " + node.error().message());
  MemoryReservation r;
  r.numa_node = static_cast<int32_t>(*node);
  for (auto part : split(s.substr(colon + 1), ',')) {
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) return Error("the reserved limits has incorrect value, expected type=quantity, got " + std::string(part));
    auto qty = Quantity::parse(trim(part.substr(eq + 1)));
    if (!qty) return Error("failed to parse the type quantity: " + qty.error().message());
    r.limits[trim(part.substr(0, eq))] = *qty;
  }
  out.push_back(std::move(r));
  return {};
}

}  // namespace

Result<std::vector<Taint>> parse_taints(std::string_view s) {
  std::vector<Taint> out;
  for (auto part : split(s, ',')) {
    if (trim(part).empty()) continue;
    auto t = parse_taint(trim(part));
    if (!t) return t.error();
    out.push_back(*t);
  }
  return out;
}

KubeletFlagInfo add_kubelet_flags(FlagSet& fs, KubeletFlags& f, KubeletConfiguration& c) {
  KubeletFlagInfo info;
  Registrar r(fs, info);

  // ---- KubeletFlags (not in the configuration file) ----
  r.str("config", f.config_file,
        "KubeletConfiguration file to load (relative paths start at the working directory); flags given on the "
        "command line win over it, and without it the built-in defaults apply.");
  r.str("config-dir", f.config_dir,
        "Directory of *.conf drop-in files, merged in name order over the --config file.");
  r.str("kubeconfig", f.kubeconfig,
        "kubeconfig with the API server address and credentials; without it the kubelet runs standalone.");
  r.str("bootstrap-kubeconfig", f.bootstrap_kubeconfig,
        "kubeconfig used to obtain a client certificate when the --kubeconfig file does not exist yet; the "
        "issued certificate and key are kept in --cert-dir and a kubeconfig using them is written to "
        "--kubeconfig.");
  r.str("cert-dir", f.cert_dir,
        "Directory of the kubelet's TLS certificates and keys; not used when --tls-cert-file and "
        "--tls-private-key-file are given.");
  r.str("root-dir", f.root_dir, "Directory of the kubelet's state: pod volumes, plugins and checkpoints.");
  r.str("hostname-override", f.hostname_override, "Node name to use in place of the machine's hostname.");
  r.str("node-ip", f.node_ip,
        "Node IP address, or two comma-separated addresses for dual-stack; unset picks the host's default IPv4 "
        "address (IPv6 when it has none), and '::' prefers IPv6.");
  r.map("node-labels", f.node_labels, "Labels (comma-separated key=value) the node registers with.", nullptr);
  r.str("cloud-provider", f.cloud_provider,
        "Cloud provider: empty for none, or 'external' when an external cloud controller manages the node.");
  r.str("cloud-config", f.cloud_config, "Cloud provider configuration file, if any.");
  r.deprecate("cloud-config", "slated for removal (1.25 or later) together with in-tree cloud provider support.");
  r.str("lock-file", f.lock_file, "(alpha) File the kubelet holds a lock on while it runs.");
  r.boolean("exit-on-lock-contention", f.exit_on_lock_contention,
            "Exit when another process contends for the --lock-file.");
  r.str("runtime-cgroups", f.runtime_cgroups, "Absolute cgroup in which to create and run the container runtime (optional).");
  r.str("image-credential-provider-config", f.image_credential_provider_config,
        "Configuration file of the image credential provider plugins.");
  r.str("image-credential-provider-bin-dir", f.image_credential_provider_bin_dir,
        "Directory holding the image credential provider plugin executables.");
  r.str("pod-infra-container-image", f.pod_infra_container_image,
        "Sandbox (pause) image that image garbage collection keeps; which image sandboxes use is the CRI "
        "runtime's own setting.");
  r.deprecate("pod-infra-container-image",
              "slated for removal in 1.35; image garbage collection learns the sandbox image from the CRI runtime.");
  r.duration("minimum-container-ttl-duration", f.minimum_container_ttl_duration,
             "Age an exited container must reach before garbage collection may remove it (e.g. '10s', '2h45m').");
  r.deprecate("minimum-container-ttl-duration", "use --eviction-hard or --eviction-soft; slated for removal.");
  r.integer("maximum-dead-containers-per-container", f.max_per_pod_container_count,
            "Exited instances kept per container.", nullptr, "int32");
  r.deprecate("maximum-dead-containers-per-container", "use --eviction-hard or --eviction-soft; slated for removal.");
  r.integer("maximum-dead-containers", f.max_container_count,
            "Exited containers kept on the whole node; negative means no limit.", nullptr, "int32");
  r.deprecate("maximum-dead-containers", "use --eviction-hard or --eviction-soft; slated for removal.");
  r.boolean("experimental-allocatable-ignore-eviction", f.experimental_allocatable_ignore_eviction,
            "Leave the hard eviction thresholds out of the Node Allocatable calculation.");
  r.deprecate("experimental-allocatable-ignore-eviction", "slated for removal (1.25 or later).");
  r.str("experimental-mounter-path", f.experimental_mounter_path,
        "(experimental) Mount helper binary to use; empty uses the system's mount.");
  r.deprecate("experimental-mounter-path", "slated for removal (1.25 or later); use CSI drivers.");
  r.str("seccomp-profile-root", f.seccomp_profile_root, "Directory of seccomp profiles.");
  r.deprecate("seccomp-profile-root", "slated for removal (1.23); profiles live in <root-dir>/seccomp.");

  // Removed upstream with the in-tree network plugins and dockershim; accepted so that old unit
  // files keep working.
  r.str("container-runtime", f.container_runtime, "Legacy runtime selector; only 'remote' (a CRI endpoint) is accepted.");
  r.str("network-plugin", f.network_plugin,
        "Legacy network plugin name. 'cni': pods without a runtimeClassName run on the container runtime's "
        "'knode' handler, whose knode-cni plugin runs the network in --cni-conf-dir.");
  r.str("cni-bin-dir", f.cni_bin_dir,
        "Legacy: comma-separated directories holding CNI plugin binaries (with --network-plugin=cni; "
        "default /opt/cni/bin).");
  r.str("cni-conf-dir", f.cni_conf_dir,
        "Legacy: directory holding CNI network configuration files (with --network-plugin=cni; default "
        "/etc/cni/net.d).");
  r.str("cni-cache-dir", f.cni_cache_dir,
        "Legacy: directory for CNI cache files (with --network-plugin=cni; default /var/lib/cni/cache).");
  r.integer("network-plugin-mtu", f.network_plugin_mtu, "Legacy: MTU handed to the network plugin.", nullptr, "int32");
  for (const char* name : {"container-runtime", "network-plugin", "cni-bin-dir", "cni-conf-dir", "cni-cache-dir",
                           "network-plugin-mtu"}) {
    fs.mark_hidden(name);
    std::string flag = name;
    bool mapped = flag == "network-plugin" || flag.rfind("cni-", 0) == 0;
    r.legacy(name, "flag --" + flag + " was removed from the upstream kubelet (1.24); accepted for compatibility" +
                       (mapped ? std::string(": --network-plugin=cni and --cni-conf-dir, --cni-bin-dir, --cni-cache-dir "
                                             "select knode's CNI runtime handler \"knode\" (see cni/README.md)")
                               : std::string(" and kept, but the container runtime configures pod networking")));
  }

  // ---- KubeletConfiguration mirrors (all deprecated upstream) ----
  r.config_mode(true);
  r.opt_bool("fail-swap-on", c.fail_swap_on, "Refuse to start when swap is enabled on the node.", "failSwapOn");
  r.opt_bool("fail-cgroupv1", c.fail_cgroup_v1, "Refuse to start on a host that uses cgroup v1.", "failCgroupV1");
  r.opt_bool("enable-server", c.enable_server, "Run the kubelet's HTTPS server.", "enableServer");
  r.str("pod-manifest-path", c.static_pod_path,
        "Static pod manifest directory (or single file) to run; names starting with a dot are skipped.",
        "staticPodPath");
  r.str("pod-logs-dir", c.pod_logs_dir, "Root directory for pod log files.", "podLogsDir");
  r.duration("sync-frequency", c.sync_frequency,
             "Longest interval between two syncs of the running containers with their desired state.", "syncFrequency");
  r.duration("file-check-frequency", c.file_check_frequency, "How often the static pod path is read again.", "fileCheckFrequency");
  r.duration("http-check-frequency", c.http_check_frequency, "How often --manifest-url is fetched again.", "httpCheckFrequency");
  r.str("manifest-url", c.static_pod_url, "URL serving more static pod manifests.", "staticPodURL");
  {
    auto fresh = std::make_shared<bool>(true);
    auto& m = c.static_pod_url_header;
    r.custom("manifest-url-header", [&m, fresh](std::string_view s) -> Status {
      if (*fresh) m.clear();
      *fresh = false;
      for (auto part : split(s, ',')) {
        const size_t p = part.find(':');
        if (p == std::string_view::npos) return Error("malformed pair, expect string:string");
        m[trim(part.substr(0, p))].push_back(trim(part.substr(p + 1)));
      }
      return Status();
    }, "HTTP headers sent when fetching --manifest-url, as comma-separated name:value (e.g. 'a:x,b:y'); "
       "repeatable, and values of one name keep their order.",
             "staticPodURLHeader", "colonSeparatedMultimapStringString");
  }
  r.str("address", c.address, "Address the kubelet server listens on ('0.0.0.0' or '::' for every interface).", "address");
  r.integer("port", c.port, "Port of the kubelet's authenticated server.", "port", "int32");
  r.integer("read-only-port", c.read_only_port,
            "Port of the unauthenticated read-only server; 0 turns it off.", "readOnlyPort", "int32");
  r.opt_bool("anonymous-auth", c.authentication.anonymous.enabled,
             "Let requests that no authenticator rejects through as user system:anonymous in group "
             "system:unauthenticated.", "authentication.anonymous.enabled");
  r.opt_bool("authentication-token-webhook", c.authentication.webhook.enabled,
             "Check bearer tokens with the TokenReview API.", "authentication.webhook.enabled");
  r.duration("authentication-token-webhook-cache-ttl", c.authentication.webhook.cache_ttl,
             "How long TokenReview results are cached.", "authentication.webhook.cacheTTL");
  r.str("client-ca-file", c.authentication.x509.client_ca_file,
        "CA bundle for client certificates; a client whose certificate it signed is authenticated as the "
        "certificate's CommonName.", "authentication.x509.clientCAFile");
  r.str("authorization-mode", c.authorization.mode,
        "How the kubelet server authorizes requests: AlwaysAllow, or Webhook (asks the SubjectAccessReview API).",
        "authorization.mode");
  r.duration("authorization-webhook-cache-authorized-ttl", c.authorization.webhook.cache_authorized_ttl,
             "How long allowing SubjectAccessReview answers are cached.", "authorization.webhook.cacheAuthorizedTTL");
  r.duration("authorization-webhook-cache-unauthorized-ttl", c.authorization.webhook.cache_unauthorized_ttl,
             "How long denying SubjectAccessReview answers are cached.", "authorization.webhook.cacheUnauthorizedTTL");
  r.str("tls-cert-file", c.tls_cert_file,
        "Serving certificate, followed by any intermediates; without it and --tls-private-key-file a self-signed "
        "pair is generated in --cert-dir.", "tlsCertFile");
  r.str("tls-private-key-file", c.tls_private_key_file, "Private key of --tls-cert-file.", "tlsPrivateKeyFile");
  r.strings("tls-cipher-suites", c.tls_cipher_suites,
            "Comma-separated TLS cipher suites the server allows; unset uses Go's defaults.", "tlsCipherSuites");
  r.str("tls-min-version", c.tls_min_version,
        "Lowest TLS version the server accepts: VersionTLS10, VersionTLS11, VersionTLS12 or VersionTLS13.",
        "tlsMinVersion");
  r.boolean("rotate-certificates", c.rotate_certificates,
            "Request a new client certificate from the API server as the current one nears expiry.",
            "rotateCertificates");
  r.boolean("rotate-server-certificates", c.server_tls_bootstrap,
            "Get the serving certificate through an (approved) CertificateSigningRequest and renew it before it "
            "expires; needs the RotateKubeletServerCertificate feature gate.", "serverTLSBootstrap");
  r.opt_integer("registry-qps", c.registry_pull_qps, "Image pulls per second; 0 means no limit.", "registryPullQPS", "int32");
  r.integer("registry-burst", c.registry_burst,
            "Image pulls allowed in a burst above --registry-qps (only when that is above 0).", "registryBurst", "int32");
  r.opt_integer("event-qps", c.event_record_qps, "Events created per second (at least 0; 0 uses 5).", "eventRecordQPS", "int32");
  r.integer("event-burst", c.event_burst,
            "Events allowed in a burst above --event-qps (at least 0; 0 uses 10).", "eventBurst", "int32");
  r.opt_bool("enable-debugging-handlers", c.enable_debugging_handlers,
             "Serve the endpoints for container logs and for exec, attach, run and port-forward.",
             "enableDebuggingHandlers");
  r.boolean("contention-profiling", c.enable_contention_profiling,
            "Also record block (contention) profiles when profiling is on.", "enableContentionProfiling");
  r.opt_integer("healthz-port", c.healthz_port, "Port of the local healthz endpoint; 0 turns it off.", "healthzPort", "int32");
  r.str("healthz-bind-address", c.healthz_bind_address,
        "Address of the healthz server ('0.0.0.0' or '::' for every interface).", "healthzBindAddress");
  r.opt_integer("oom-score-adj", c.oom_score_adj, "OOM score adjustment of the kubelet process, -1000 to 1000.",
                "oomScoreAdj", "int32");
  r.str("cluster-domain", c.cluster_domain,
        "Cluster DNS domain, added to the containers' DNS search domains alongside the host's.", "clusterDomain");
  r.strings("cluster-dns", c.cluster_dns,
            "Comma-separated DNS server addresses given to pods with dnsPolicy ClusterFirst.", "clusterDNS");
  r.duration("streaming-connection-idle-timeout", c.streaming_connection_idle_timeout,
             "Idle time after which an exec, attach or port-forward stream is closed; 0 never closes it.",
             "streamingConnectionIdleTimeout");
  r.duration("node-status-update-frequency", c.node_status_update_frequency,
             "How often the node's status is posted to the API server; keep it in step with the node "
             "controller's grace period.", "nodeStatusUpdateFrequency");
  r.duration("minimum-image-ttl-duration", c.image_minimum_gc_age,
             "Least time an image must be unused before garbage collection may remove it.", "imageMinimumGCAge");
  r.duration("image-maximum-gc-age", c.image_maximum_gc_age,
             "Longest time an image may stay unused before garbage collection removes it.", "imageMaximumGCAge");
  r.opt_integer("image-gc-high-threshold", c.image_gc_high_threshold_percent,
                "Disk usage percent (0-100) at which image garbage collection always runs; 100 disables it.",
                "imageGCHighThresholdPercent", "int32");
  r.opt_integer("image-gc-low-threshold", c.image_gc_low_threshold_percent,
                "Disk usage percent (0-100) that image garbage collection frees down to; below "
                "--image-gc-high-threshold.", "imageGCLowThresholdPercent", "int32");
  r.duration("volume-stats-agg-period", c.volume_stats_agg_period,
             "How often the disk usage of pod volumes is measured and cached; negative disables it.",
             "volumeStatsAggPeriod");
  {
    auto fresh = std::make_shared<bool>(true);
    auto& gates = c.feature_gates;
    r.custom("feature-gates", [&gates, fresh](std::string_view s) -> Status {
      if (*fresh) gates.clear();
      *fresh = false;
      for (auto part : split(s, ',')) {
        if (trim(part).empty()) continue;
        const size_t p = part.find('=');
        if (p == std::string_view::npos) return Error("missing bool value for " + trim(part));
        auto b = parse_go_bool(trim(part.substr(p + 1)));
        if (!b) return Error("invalid value of " + trim(part.substr(0, p)) + "=" + trim(part.substr(p + 1)) + ", err: " + b.error().message());
        gates[trim(part.substr(0, p))] = *b;
      }
      return Status();
    }, "Feature gates to switch on or off, as name=true|false pairs.", "featureGates",
             "<comma-separated 'key=True|False' pairs>");
  }
  r.str("kubelet-cgroups", c.kubelet_cgroups, "Absolute cgroup in which to create and run the kubelet (optional).", "kubeletCgroups");
  r.str("system-cgroups", c.system_cgroups,
        "Absolute cgroup for the non-kernel processes not yet in a cgroup below '/'; needs --cgroup-root, and "
        "undoing it needs a reboot.", "systemCgroups");
  r.str("provider-id", c.provider_id, "Provider-specific ID of this machine, set as the Node's spec.providerID.", "providerID");
  r.opt_bool("cgroups-per-qos", c.cgroups_per_qos,
             "Create the cgroup hierarchy of QoS classes and pods.", "cgroupsPerQOS");
  r.str("cgroup-driver", c.cgroup_driver, "How cgroups are managed on the host: 'cgroupfs' or 'systemd'.", "cgroupDriver");
  r.str("cgroup-root", c.cgroup_root,
        "Parent cgroup of the pods, applied by the runtime as far as it can; empty uses the runtime's own.",
        "cgroupRoot");
  r.str("cpu-manager-policy", c.cpu_manager_policy, "CPU manager policy: 'none' or 'static'.", "cpuManagerPolicy");
  r.map("cpu-manager-policy-options", c.cpu_manager_policy_options,
        "key=value options that tune the CPU manager policy.", "cpuManagerPolicyOptions");
  r.duration("cpu-manager-reconcile-period", c.cpu_manager_reconcile_period,
             "(alpha) How often the CPU manager reconciles its assignments; unset follows "
             "--node-status-update-frequency.", "cpuManagerReconcilePeriod");
  r.map("qos-reserved", c.qos_reserved,
        "(alpha) Share of pod requests reserved per QoS class, as resource=percent (memory only, e.g. "
        "memory=50%); needs the QOSReserved feature gate.", "qosReserved");
  r.str("topology-manager-policy", c.topology_manager_policy,
        "Topology manager policy: 'none', 'best-effort', 'restricted' or 'single-numa-node'.",
        "topologyManagerPolicy");
  r.map("topology-manager-policy-options", c.topology_manager_policy_options,
        "key=value options that tune the topology manager policy.", "topologyManagerPolicyOptions");
  r.str("topology-manager-scope", c.topology_manager_scope,
        "Unit whose resources the topology manager aligns: 'container' or 'pod'.", "topologyManagerScope");
  r.duration("runtime-request-timeout", c.runtime_request_timeout,
             "Deadline of CRI calls other than the long-running ones (pull, logs, exec, attach); a call past it "
             "is cancelled and retried later.", "runtimeRequestTimeout");
  r.str("hairpin-mode", c.hairpin_mode,
        "How a pod can reach itself through its own Service: \"promiscuous-bridge\", \"hairpin-veth\" or "
        "\"none\".", "hairpinMode");
  r.integer("max-pods", c.max_pods, "Most pods this node runs.", "maxPods", "int32");
  r.str("pod-cidr", c.pod_cidr,
        "Pod IP range for standalone mode; with an API server the range comes from the Node object.", "podCIDR");
  r.opt_integer("pod-max-pids", c.pod_pids_limit,
                "Process limit per pod; -1 uses the node's allocatable PID count.", "podPidsLimit", "int");
  r.opt_str("resolv-conf", c.resolv_conf, "resolv.conf file that the containers' DNS settings start from.", "resolvConf");
  r.boolean("runonce", c.run_once,
            "Start the static pods (from files or URLs) once and exit; not together with --enable-server.",
            "runOnce");
  r.opt_bool("cpu-cfs-quota", c.cpu_cfs_quota, "Enforce container CPU limits with CFS quota.", "cpuCFSQuota");
  r.opt_duration("cpu-cfs-quota-period", c.cpu_cfs_quota_period,
                 "CFS quota period (cpu.cfs_period_us); unset keeps the kernel's.", "cpuCFSQuotaPeriod");
  r.opt_bool("enable-controller-attach-detach", c.enable_controller_attach_detach,
             "Leave attaching and detaching this node's volumes to the attach/detach controller rather than the "
             "kubelet.", "enableControllerAttachDetach");
  r.opt_bool("make-iptables-util-chains", c.make_iptables_util_chains,
             "Keep the iptables utility chains in place on the host.", "makeIPTablesUtilChains");
  r.opt_integer("iptables-masquerade-bit", c.iptables_masquerade_bit,
                "fwmark bit (0-31) that marks packets for SNAT.", "iptablesMasqueradeBit", "int32");
  r.opt_integer("iptables-drop-bit", c.iptables_drop_bit,
                "fwmark bit (0-31) that marks packets to drop.", "iptablesDropBit", "int32");
  r.str("container-log-max-size", c.container_log_max_size,
        "(beta) Size (e.g. 10Mi) at which a container's log file is rotated.", "containerLogMaxSize");
  r.opt_integer("container-log-max-files", c.container_log_max_files,
                "(beta) Log files kept per container; at least 2.", "containerLogMaxFiles", "int32");
  r.opt_integer("container-log-max-workers", c.container_log_max_workers,
                "Workers that rotate container logs concurrently.", "containerLogMaxWorkers", "int32");
  r.opt_duration("container-log-monitor-interval", c.container_log_monitor_interval,
                 "How often container logs are checked for rotation.", "containerLogMonitorInterval");
  r.strings("allowed-unsafe-sysctls", c.allowed_unsafe_sysctls,
            "Comma-separated unsafe sysctls, or patterns ending in '*', that pods may set.", "allowedUnsafeSysctls");
  r.opt_integer("node-status-max-images", c.node_status_max_images,
                "Most images listed in Node.Status.Images; -1 lists all.", "nodeStatusMaxImages", "int32");
  r.boolean("kernel-memcg-notification", c.kernel_memcg_notification,
            "Learn of crossed memory eviction thresholds from kernel memcg notifications instead of polling.",
            "kernelMemcgNotification");
  r.opt_bool("local-storage-capacity-isolation", c.local_storage_capacity_isolation,
             "Account for and limit the pods' local ephemeral storage.", "localStorageCapacityIsolation");
  r.integer("max-open-files", c.max_open_files, "Open-file limit of the kubelet process.", "maxOpenFiles", "int");
  r.str("kube-api-content-type", c.content_type, "Media type in which requests to the API server are encoded.", "contentType");
  r.opt_integer("kube-api-qps", c.kube_api_qps, "API server requests per second (at least 0; 0 uses 50).",
                "kubeAPIQPS", "int32");
  r.integer("kube-api-burst", c.kube_api_burst,
            "API server requests allowed in a burst above --kube-api-qps (at least 0; 0 uses 100).", "kubeAPIBurst",
            "int32");
  r.opt_bool("serialize-image-pulls", c.serialize_image_pulls, "Pull one image at a time.", "serializeImagePulls");
  r.opt_integer("max-parallel-image-pulls", c.max_parallel_image_pulls,
                "Cap on concurrent image pulls, only with --serialize-image-pulls=false; unset means no cap.",
                "maxParallelImagePulls", "int32");
  r.opt_map("eviction-hard", c.eviction_hard,
            "signal<threshold pairs (e.g. memory.available<1Gi) that evict pods as soon as they are met.",
            "evictionHard", '<');
  r.map("eviction-soft", c.eviction_soft,
        "signal<threshold pairs (e.g. memory.available<1.5Gi) that evict pods once met for their grace period.",
        "evictionSoft", '<');
  r.map("eviction-soft-grace-period", c.eviction_soft_grace_period,
        "signal=duration pairs (e.g. memory.available=1m30s): how long a soft threshold must hold before pods are "
        "evicted.", "evictionSoftGracePeriod");
  r.duration("eviction-pressure-transition-period", c.eviction_pressure_transition_period,
             "How long a pressure condition stays after its threshold is no longer met.",
             "evictionPressureTransitionPeriod");
  r.integer("eviction-max-pod-grace-period", c.eviction_max_pod_grace_period,
            "Longest termination grace period, in seconds, of pods evicted for a soft threshold; negative uses the "
            "pod's own.", "evictionMaxPodGracePeriod", "int32");
  r.map("eviction-minimum-reclaim", c.eviction_minimum_reclaim,
        "signal=quantity pairs (e.g. imagefs.available=2Gi): the least that evicting for a resource frees.",
        "evictionMinimumReclaim");
  r.integer("pods-per-core", c.pods_per_core,
            "Pods per CPU core, never above --max-pods; 0 means no per-core limit.", "podsPerCore", "int32");
  r.boolean("protect-kernel-defaults", c.protect_kernel_defaults,
            "Fail rather than change kernel tunables that differ from the values the kubelet needs.",
            "protectKernelDefaults");
  r.str("reserved-cpus", c.reserved_system_cpus,
        "CPUs or CPU ranges (e.g. 0-3,8) kept for system and Kubernetes daemons; replaces the CPU amounts of "
        "--system-reserved and --kube-reserved.", "reservedSystemCPUs");
  r.map("system-reserved", c.system_reserved,
        "Resources held back for OS daemons, as name=quantity pairs (e.g. "
        "cpu=200m,memory=500Mi,ephemeral-storage=1Gi,pid=1000).", "systemReserved");
  r.map("kube-reserved", c.kube_reserved,
        "Resources held back for Kubernetes daemons, as name=quantity pairs (e.g. "
        "cpu=200m,memory=500Mi,ephemeral-storage=1Gi,pid=1000).", "kubeReserved");
  r.str("system-reserved-cgroup", c.system_reserved_cgroup,
        "Absolute top-level cgroup of the OS daemons that --system-reserved covers (e.g. /system-reserved).",
        "systemReservedCgroup");
  r.str("kube-reserved-cgroup", c.kube_reserved_cgroup,
        "Absolute top-level cgroup of the Kubernetes daemons that --kube-reserved covers (e.g. /kube-reserved).",
        "kubeReservedCgroup");
  r.opt_strings("enforce-node-allocatable", c.enforce_node_allocatable,
                "Comma-separated allocatable limits to enforce: 'none', 'pods', 'system-reserved', "
                "'system-reserved-compressible', 'kube-reserved', 'kube-reserved-compressible'.",
                "enforceNodeAllocatable");
  r.str("volume-plugin-dir", c.volume_plugin_dir, "Directory searched for third-party volume plugins.",
        "volumePluginDir");
  {
    auto fresh = std::make_shared<bool>(true);
    auto& taints = c.register_with_taints;
    r.custom("register-with-taints", [&taints, fresh](std::string_view s) -> Status {
      auto t = parse_taints(s);
      if (!t) return t.error();
      if (*fresh) taints.clear();
      *fresh = false;
      taints.insert(taints.end(), t->begin(), t->end());
      return Status();
    }, "Taints the node registers with, comma-separated \"<key>=<value>:<effect>\"; only with --register-node.",
             "registerWithTaints", "[]v1.Taint");
  }
  r.opt_bool("register-node", c.register_node,
             "Create this node's Node object on the API server (only with --kubeconfig).", "registerNode");
  r.str("memory-manager-policy", c.memory_manager_policy, "Memory manager policy: 'None' or 'Static'.", "memoryManagerPolicy");
  {
    auto fresh = std::make_shared<bool>(true);
    auto& reserved = c.reserved_memory;
    r.custom("reserved-memory", [&reserved, fresh](std::string_view s) -> Status {
      if (*fresh) reserved.clear();
      *fresh = false;
      return parse_reserved_memory(s, reserved);
    }, "Memory reserved on one NUMA node, as node:type=quantity[,type=quantity] (e.g. "
       "0:memory=1Gi,hugepages-1M=2Gi); repeat for more nodes.", "reservedMemory", "reserved-memory");
  }
  r.str("show-hidden-metrics-for-version", c.show_hidden_metrics_for_version,
        "Previous minor version (<major>.<minor>, e.g. '1.31') whose hidden metrics to show.",
        "showHiddenMetricsForVersion");
  r.str("container-runtime-endpoint", c.container_runtime_endpoint,
        "CRI runtime endpoint, e.g. 'unix:///run/containerd/containerd.sock' (npipe and tcp endpoints on "
        "Windows).", "containerRuntimeEndpoint");
  r.str("image-service-endpoint", c.image_service_endpoint,
        "CRI image service endpoint; unset uses --container-runtime-endpoint.", "imageServiceEndpoint");
  r.opt_bool("seccomp-default", c.seccomp_default,
             "Give workloads the `RuntimeDefault` seccomp profile unless they ask for another.", "seccompDefault");
  // Logging (component-base logsapi.AddFlags) — also deprecated mirrors of `logging`.
  r.custom("logging-format", [&c](std::string_view s) { c.logging.format = std::string(s); return Status(); },
           "Log output format: \"text\", or \"json\" (needs LoggingBetaOptions).",
           "logging.format", "string", c.logging.format);
  r.custom("log-flush-frequency", [&c](std::string_view s) -> Status {
    auto d = parse_duration(s);
    if (!d) return d.error();
    c.logging.flush_frequency = {*d, true};
    return {};
  }, "Longest time between two log flushes.", "logging.flushFrequency", "duration",
           format_duration(c.logging.flush_frequency.duration));
  r.boolean("log-json-split-stream", c.logging.options.json.split_stream,
            "(alpha) In json format, write errors to stderr and info messages to stdout instead of both to "
            "stdout; needs the LoggingAlphaOptions feature gate.",
            "logging.options.json.splitStream");
  r.boolean("log-text-split-stream", c.logging.options.text.split_stream,
            "(alpha) In text format, write errors to stderr and info messages to stdout instead of both to "
            "stdout; needs the LoggingAlphaOptions feature gate.",
            "logging.options.text.splitStream");
  for (auto [name, field, target] : {std::tuple{"log-json-info-buffer-size", "logging.options.json.infoBufferSize",
                                                &c.logging.options.json.info_buffer_size},
                                     std::tuple{"log-text-info-buffer-size", "logging.options.text.infoBufferSize",
                                                &c.logging.options.text.info_buffer_size}}) {
    Quantity* q = target;
    r.custom(name, [q](std::string_view s) -> Status {
      auto v = Quantity::parse(s);
      if (!v) return v.error();
      *q = *v;
      return {};
    }, "(alpha) With split streams, how much of the info messages to buffer before writing; 0 writes at "
       "once.", field, "quantity");
  }
  r.config_mode(false);
  // -v and --vmodule are global klog flags upstream (not deprecated), stored in the configuration.
  r.custom("v", [&c](std::string_view s) -> Status {
    auto n = parse_go_int(s, 32);
    if (!n) return n.error();
    if (*n < 0) return Error("verbosity must be >= 0");
    c.logging.verbosity = static_cast<uint32_t>(*n);
    return {};
  }, "Log verbosity level.", "logging.verbosity", "int");
  fs.set_shorthand("v", 'v');
  r.custom("vmodule", [&c](std::string_view s) -> Status {
    auto items = parse_vmodule(s);
    if (!items) return items.error();
    c.logging.vmodule = *items;
    return {};
  }, "Per-file log verbosity as comma-separated pattern=N (text format only).",
           "logging.vmodule", "pattern=N,...");
  r.custom("version", [&f](std::string_view s) { f.version = std::string(s); return Status(); },
           "Print the Kubernetes version this node agent implements and exit.", nullptr, "version", "", true);
  r.boolean("help", f.help, "Show this help and exit.");
  fs.set_shorthand("help", 'h');
  return info;
}

}  // namespace knode::config
