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
      info_.deprecated[name] = kConfigFlagDeprecation;
      usage += std::string(" (DEPRECATED: ") + kConfigFlagDeprecation + ")";
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
        "The Kubelet will load its initial configuration from this file. The path may be absolute or relative; "
        "relative paths start at the Kubelet's current working directory. Omit this flag to use the built-in "
        "default configuration values. Command-line flags override configuration from this file.");
  r.str("config-dir", f.config_dir,
        "Path to a directory to specify drop-ins, allows the user to optionally specify additional configs to "
        "overwrite what is provided by default and in the KubeletConfigFile flag. [default='']");
  r.str("kubeconfig", f.kubeconfig,
        "Path to a kubeconfig file, specifying how to connect to the API server. Providing --kubeconfig enables "
        "API server mode, omitting --kubeconfig enables standalone mode.");
  r.str("bootstrap-kubeconfig", f.bootstrap_kubeconfig,
        "Path to a kubeconfig file that will be used to get client certificate for kubelet. If the file "
        "specified by --kubeconfig does not exist, the bootstrap kubeconfig is used to request a client "
        "certificate from the API server. On success, a kubeconfig file referencing the generated client "
        "certificate and key is written to the path specified by --kubeconfig. The client certificate and key "
        "file will be stored in the directory pointed by --cert-dir.");
  r.str("cert-dir", f.cert_dir,
        "The directory where the TLS certs are located. If --tls-cert-file and --tls-private-key-file are "
        "provided, this flag will be ignored.");
  r.str("root-dir", f.root_dir, "Directory path for managing kubelet files (volume mounts,etc).");
  r.str("hostname-override", f.hostname_override,
        "If non-empty, will use this string as identification instead of the actual hostname.");
  r.str("node-ip", f.node_ip,
        "IP address (or comma-separated dual-stack IP addresses) of the node. If unset, kubelet will use the "
        "node's default IPv4 address, if any, or its default IPv6 address if it has no IPv4 addresses. You can "
        "pass '::' to make it prefer the default IPv6 address rather than the default IPv4 address.");
  r.map("node-labels", f.node_labels,
        "Labels to add when registering the node in the cluster.  Labels must be key=value pairs separated by "
        "','.", nullptr);
  r.str("cloud-provider", f.cloud_provider,
        "The provider for cloud services. Set to empty string for running with no cloud provider. Set to "
        "'external' for running with an external cloud provider.");
  r.str("cloud-config", f.cloud_config,
        "The path to the cloud provider configuration file. Empty string for no configuration file.");
  r.deprecate("cloud-config", "will be removed in 1.25 or later, in favor of removing cloud provider code from Kubelet.");
  r.str("lock-file", f.lock_file, "<Warning: Alpha feature> The path to file for kubelet to use as a lock file.");
  r.boolean("exit-on-lock-contention", f.exit_on_lock_contention,
            "Whether kubelet should exit upon lock-file contention.");
  r.str("runtime-cgroups", f.runtime_cgroups, "Optional absolute name of cgroups to create and run the runtime in.");
  r.str("image-credential-provider-config", f.image_credential_provider_config,
        "The path to the credential provider plugin config file.");
  r.str("image-credential-provider-bin-dir", f.image_credential_provider_bin_dir,
        "The path to the directory where credential provider plugin binaries are located.");
  r.str("pod-infra-container-image", f.pod_infra_container_image,
        "Specified image will not be pruned by the image garbage collector. CRI implementations have their own "
        "configuration to set this image.");
  r.deprecate("pod-infra-container-image",
              "will be removed in 1.35. Image garbage collector will get sandbox image information from CRI.");
  r.duration("minimum-container-ttl-duration", f.minimum_container_ttl_duration,
             "Minimum age for a finished container before it is garbage collected.  Examples: '300ms', '10s' or "
             "'2h45m'");
  r.deprecate("minimum-container-ttl-duration", "Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.");
  r.integer("maximum-dead-containers-per-container", f.max_per_pod_container_count,
            "Maximum number of old instances to retain per container.  Each container takes up some disk space.",
            nullptr, "int32");
  r.deprecate("maximum-dead-containers-per-container", "Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.");
  r.integer("maximum-dead-containers", f.max_container_count,
            "Maximum number of old instances of containers to retain globally.  Each container takes up some disk "
            "space. To disable, set to a negative number.", nullptr, "int32");
  r.deprecate("maximum-dead-containers", "Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.");
  r.boolean("experimental-allocatable-ignore-eviction", f.experimental_allocatable_ignore_eviction,
            "When set to 'true', Hard Eviction Thresholds will be ignored while calculating Node Allocatable. "
            "[default=false]");
  r.deprecate("experimental-allocatable-ignore-eviction", "will be removed in 1.25 or later.");
  r.str("experimental-mounter-path", f.experimental_mounter_path,
        "[Experimental] Path of mounter binary. Leave empty to use the default mount.");
  r.deprecate("experimental-mounter-path", "will be removed in 1.25 or later. in favor of using CSI.");
  r.str("seccomp-profile-root", f.seccomp_profile_root, "Directory path for seccomp profiles.");
  r.deprecate("seccomp-profile-root", "will be removed in 1.23, in favor of using the `<root-dir>/seccomp` directory");

  // Removed upstream with the in-tree network plugins and dockershim; accepted so that old unit
  // files keep working.
  r.str("container-runtime", f.container_runtime, "The container runtime to use. Only 'remote' is supported.");
  r.str("network-plugin", f.network_plugin, "The name of the network plugin (removed upstream; CNI is configured in the runtime).");
  r.str("cni-bin-dir", f.cni_bin_dir, "A comma-separated list of full paths of directories in which to search for CNI plugin binaries.");
  r.str("cni-conf-dir", f.cni_conf_dir, "The full path of the directory in which to search for CNI config files.");
  r.str("cni-cache-dir", f.cni_cache_dir, "The full path of the directory in which CNI should store cache files.");
  r.integer("network-plugin-mtu", f.network_plugin_mtu, "The MTU to be passed to the network plugin.", nullptr, "int32");
  for (const char* name : {"container-runtime", "network-plugin", "cni-bin-dir", "cni-conf-dir", "cni-cache-dir",
                           "network-plugin-mtu"}) {
    fs.mark_hidden(name);
    r.legacy(name, std::string("flag --") + name +
                       " was removed from the upstream kubelet (1.24); accepted for compatibility and kept, "
                       "but the container runtime configures pod networking");
  }

  // ---- KubeletConfiguration mirrors (all deprecated upstream) ----
  r.config_mode(true);
  r.opt_bool("fail-swap-on", c.fail_swap_on, "Makes the Kubelet fail to start if swap is enabled on the node. ", "failSwapOn");
  r.opt_bool("fail-cgroupv1", c.fail_cgroup_v1, "Prevent the kubelet from starting on the host using cgroup v1.", "failCgroupV1");
  r.opt_bool("enable-server", c.enable_server, "Enable the Kubelet's server", "enableServer");
  r.str("pod-manifest-path", c.static_pod_path,
        "Path to the directory containing static pod files to run, or the path to a single static pod file. "
        "Files starting with dots will be ignored.", "staticPodPath");
  r.str("pod-logs-dir", c.pod_logs_dir, "Custom root directory path kubelet will use to place pod's log files.", "podLogsDir");
  r.duration("sync-frequency", c.sync_frequency, "Max period between synchronizing running containers and config", "syncFrequency");
  r.duration("file-check-frequency", c.file_check_frequency, "Duration between checking config files for new data", "fileCheckFrequency");
  r.duration("http-check-frequency", c.http_check_frequency, "Duration between checking http for new data", "httpCheckFrequency");
  r.str("manifest-url", c.static_pod_url, "URL for accessing additional Pod specifications to run", "staticPodURL");
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
    }, "Comma-separated list of HTTP headers to use when accessing the url provided to --manifest-url. Multiple "
       "headers with the same name will be added in the same order provided. This flag can be repeatedly invoked. "
       "For example: --manifest-url-header 'a:hello,b:again,c:world' --manifest-url-header 'b:beautiful'",
             "staticPodURLHeader", "colonSeparatedMultimapStringString");
  }
  r.str("address", c.address,
        "The IP address for the Kubelet to serve on (set to '0.0.0.0' or '::' for listening on all interfaces and "
        "IP address families)", "address");
  r.integer("port", c.port, "The port for the Kubelet to serve on.", "port", "int32");
  r.integer("read-only-port", c.read_only_port,
            "The read-only port for the Kubelet to serve on with no authentication/authorization (set to 0 to "
            "disable)", "readOnlyPort", "int32");
  r.opt_bool("anonymous-auth", c.authentication.anonymous.enabled,
             "Enables anonymous requests to the Kubelet server. Requests that are not rejected by another "
             "authentication method are treated as anonymous requests. Anonymous requests have a username of "
             "system:anonymous, and a group name of system:unauthenticated.", "authentication.anonymous.enabled");
  r.opt_bool("authentication-token-webhook", c.authentication.webhook.enabled,
             "Use the TokenReview API to determine authentication for bearer tokens.", "authentication.webhook.enabled");
  r.duration("authentication-token-webhook-cache-ttl", c.authentication.webhook.cache_ttl,
             "The duration to cache responses from the webhook token authenticator.", "authentication.webhook.cacheTTL");
  r.str("client-ca-file", c.authentication.x509.client_ca_file,
        "If set, any request presenting a client certificate signed by one of the authorities in the "
        "client-ca-file is authenticated with an identity corresponding to the CommonName of the client "
        "certificate.", "authentication.x509.clientCAFile");
  r.str("authorization-mode", c.authorization.mode,
        "Authorization mode for Kubelet server. Valid options are AlwaysAllow or Webhook. Webhook mode uses the "
        "SubjectAccessReview API to determine authorization.", "authorization.mode");
  r.duration("authorization-webhook-cache-authorized-ttl", c.authorization.webhook.cache_authorized_ttl,
             "The duration to cache 'authorized' responses from the webhook authorizer.",
             "authorization.webhook.cacheAuthorizedTTL");
  r.duration("authorization-webhook-cache-unauthorized-ttl", c.authorization.webhook.cache_unauthorized_ttl,
             "The duration to cache 'unauthorized' responses from the webhook authorizer.",
             "authorization.webhook.cacheUnauthorizedTTL");
  r.str("tls-cert-file", c.tls_cert_file,
        "File containing x509 Certificate used for serving HTTPS (with intermediate certs, if any, concatenated "
        "after server cert). If --tls-cert-file and --tls-private-key-file are not provided, a self-signed "
        "certificate and key are generated for the public address and saved to the directory passed to "
        "--cert-dir.", "tlsCertFile");
  r.str("tls-private-key-file", c.tls_private_key_file, "File containing x509 private key matching --tls-cert-file.", "tlsPrivateKeyFile");
  r.strings("tls-cipher-suites", c.tls_cipher_suites,
            "Comma-separated list of cipher suites for the server. If omitted, the default Go cipher suites will "
            "be used.", "tlsCipherSuites");
  r.str("tls-min-version", c.tls_min_version,
        "Minimum TLS version supported. Possible values: VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13",
        "tlsMinVersion");
  r.boolean("rotate-certificates", c.rotate_certificates,
            "Auto rotate the kubelet client certificates by requesting new certificates from the kube-apiserver "
            "when the certificate expiration approaches.", "rotateCertificates");
  r.boolean("rotate-server-certificates", c.server_tls_bootstrap,
            "Auto-request and rotate the kubelet serving certificates by requesting new certificates from the "
            "kube-apiserver when the certificate expiration approaches. Requires the RotateKubeletServerCertificate "
            "feature gate to be enabled, and approval of the submitted CertificateSigningRequest objects.",
            "serverTLSBootstrap");
  r.opt_integer("registry-qps", c.registry_pull_qps, "If > 0, limit registry pull QPS to this value.  If 0, unlimited.", "registryPullQPS", "int32");
  r.integer("registry-burst", c.registry_burst,
            "Maximum size of a bursty pulls, temporarily allows pulls to burst to this number, while still not "
            "exceeding registry-qps. Only used if --registry-qps > 0", "registryBurst", "int32");
  r.opt_integer("event-qps", c.event_record_qps, "QPS to limit event creations. The number must be >= 0. If 0 will use DefaultQPS: 5.", "eventRecordQPS", "int32");
  r.integer("event-burst", c.event_burst,
            "Maximum size of a bursty event records, temporarily allows event records to burst to this number, "
            "while still not exceeding event-qps. The number must be >= 0. If 0 will use DefaultBurst: 10.",
            "eventBurst", "int32");
  r.opt_bool("enable-debugging-handlers", c.enable_debugging_handlers,
             "Enables server endpoints for log collection and local running of containers and commands",
             "enableDebuggingHandlers");
  r.boolean("contention-profiling", c.enable_contention_profiling, "Enable block profiling, if profiling is enabled", "enableContentionProfiling");
  r.opt_integer("healthz-port", c.healthz_port, "The port of the localhost healthz endpoint (set to 0 to disable)", "healthzPort", "int32");
  r.str("healthz-bind-address", c.healthz_bind_address,
        "The IP address for the healthz server to serve on (set to '0.0.0.0' or '::' for listening on all "
        "interfaces and IP address families)", "healthzBindAddress");
  r.opt_integer("oom-score-adj", c.oom_score_adj,
                "The oom-score-adj value for kubelet process. Values must be within the range [-1000, 1000]",
                "oomScoreAdj", "int32");
  r.str("cluster-domain", c.cluster_domain,
        "Domain for this cluster.  If set, kubelet will configure all containers to search this domain in "
        "addition to the host's search domains", "clusterDomain");
  r.strings("cluster-dns", c.cluster_dns,
            "Comma-separated list of DNS server IP address.  This value is used for containers DNS server in case "
            "of Pods with \"dnsPolicy=ClusterFirst\".", "clusterDNS");
  r.duration("streaming-connection-idle-timeout", c.streaming_connection_idle_timeout,
             "Maximum time a streaming connection can be idle before the connection is automatically closed. 0 "
             "indicates no timeout. Example: '5m'.", "streamingConnectionIdleTimeout");
  r.duration("node-status-update-frequency", c.node_status_update_frequency,
             "Specifies how often kubelet posts node status to master. Note: be cautious when changing the "
             "constant, it must work with nodeMonitorGracePeriod in nodecontroller.", "nodeStatusUpdateFrequency");
  r.duration("minimum-image-ttl-duration", c.image_minimum_gc_age,
             "Minimum age for an unused image before it is garbage collected.  Examples: '300ms', '10s' or "
             "'2h45m'.", "imageMinimumGCAge");
  r.duration("image-maximum-gc-age", c.image_maximum_gc_age,
             "Maximum age an image can be unused before it is garbage collected.", "imageMaximumGCAge");
  r.opt_integer("image-gc-high-threshold", c.image_gc_high_threshold_percent,
                "The percent of disk usage after which image garbage collection is always run. Values must be "
                "within the range [0, 100], To disable image garbage collection, set to 100. ",
                "imageGCHighThresholdPercent", "int32");
  r.opt_integer("image-gc-low-threshold", c.image_gc_low_threshold_percent,
                "The percent of disk usage before which image garbage collection is never run. Lowest disk usage "
                "to garbage collect to. Values must be within the range [0, 100] and must be less than that of "
                "--image-gc-high-threshold.", "imageGCLowThresholdPercent", "int32");
  r.duration("volume-stats-agg-period", c.volume_stats_agg_period,
             "Specifies interval for kubelet to calculate and cache the volume disk usage for all pods and volumes. "
             " To disable volume calculations, set to a negative number.", "volumeStatsAggPeriod");
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
    }, "A set of key=value pairs that describe feature gates for alpha/experimental features.", "featureGates",
             "<comma-separated 'key=True|False' pairs>");
  }
  r.str("kubelet-cgroups", c.kubelet_cgroups, "Optional absolute name of cgroups to create and run the Kubelet in.", "kubeletCgroups");
  r.str("system-cgroups", c.system_cgroups,
        "Optional absolute name of cgroups in which to place all non-kernel processes that are not already inside "
        "a cgroup under '/'. Empty for no container. Rolling back the flag requires a reboot.", "systemCgroups");
  r.str("provider-id", c.provider_id, "Unique identifier for identifying the node in a machine database, i.e cloudprovider", "providerID");
  r.opt_bool("cgroups-per-qos", c.cgroups_per_qos,
             "Enable creation of QoS cgroup hierarchy, if true top level QoS and pod cgroups are created.", "cgroupsPerQOS");
  r.str("cgroup-driver", c.cgroup_driver,
        "Driver that the kubelet uses to manipulate cgroups on the host.  Possible values: 'cgroupfs', 'systemd'",
        "cgroupDriver");
  r.str("cgroup-root", c.cgroup_root,
        "Optional root cgroup to use for pods. This is handled by the container runtime on a best effort basis. "
        "Default: '', which means use the container runtime default.", "cgroupRoot");
  r.str("cpu-manager-policy", c.cpu_manager_policy, "CPU Manager policy to use. Possible values: 'none', 'static'.", "cpuManagerPolicy");
  r.map("cpu-manager-policy-options", c.cpu_manager_policy_options,
        "A set of key=value CPU Manager policy options to use, to fine tune their behaviour. If not supplied, keep "
        "the default behaviour.", "cpuManagerPolicyOptions");
  r.duration("cpu-manager-reconcile-period", c.cpu_manager_reconcile_period,
             "<Warning: Alpha feature> CPU Manager reconciliation period. Examples: '10s', or '1m'. If not "
             "supplied, defaults to 'NodeStatusUpdateFrequency'", "cpuManagerReconcilePeriod");
  r.map("qos-reserved", c.qos_reserved,
        "<Warning: Alpha feature> A set of ResourceName=Percentage (e.g. memory=50%) pairs that describe how pod "
        "resource requests are reserved at the QoS level. Currently only memory is supported. Requires the "
        "QOSReserved feature gate to be enabled.", "qosReserved");
  r.str("topology-manager-policy", c.topology_manager_policy,
        "Topology Manager policy to use. Possible values: 'none', 'best-effort', 'restricted', 'single-numa-node'.",
        "topologyManagerPolicy");
  r.map("topology-manager-policy-options", c.topology_manager_policy_options,
        "A set of key=value Topology Manager policy options to use, to fine tune their behaviour. If not supplied, "
        "keep the default behaviour.", "topologyManagerPolicyOptions");
  r.str("topology-manager-scope", c.topology_manager_scope,
        "Scope to which topology hints applied. Topology Manager collects hints from Hint Providers and applies "
        "them to defined scope to ensure the pod admission. Possible values: 'container', 'pod'.",
        "topologyManagerScope");
  r.duration("runtime-request-timeout", c.runtime_request_timeout,
             "Timeout of all runtime requests except long running request - pull, logs, exec and attach. When "
             "timeout exceeded, kubelet will cancel the request, throw out an error and retry later.",
             "runtimeRequestTimeout");
  r.str("hairpin-mode", c.hairpin_mode,
        "How should the kubelet setup hairpin NAT. This allows endpoints of a Service to loadbalance back to "
        "themselves if they should try to access their own Service. Valid values are \"promiscuous-bridge\", "
        "\"hairpin-veth\" and \"none\".", "hairpinMode");
  r.integer("max-pods", c.max_pods, "Number of Pods that can run on this Kubelet.", "maxPods", "int32");
  r.str("pod-cidr", c.pod_cidr,
        "The CIDR to use for pod IP addresses, only used in standalone mode.  In cluster mode, this is obtained "
        "from the master. For IPv6, the maximum number of IP's allocated is 65536", "podCIDR");
  r.opt_integer("pod-max-pids", c.pod_pids_limit,
                "Set the maximum number of processes per pod.  If -1, the kubelet defaults to the node allocatable "
                "pid capacity.", "podPidsLimit", "int");
  r.opt_str("resolv-conf", c.resolv_conf,
            "Resolver configuration file used as the basis for the container DNS resolution configuration.", "resolvConf");
  r.boolean("runonce", c.run_once,
            "If true, exit after spawning pods from static pod files or remote urls. Exclusive with --enable-server",
            "runOnce");
  r.opt_bool("cpu-cfs-quota", c.cpu_cfs_quota, "Enable CPU CFS quota enforcement for containers that specify CPU limits", "cpuCFSQuota");
  r.opt_duration("cpu-cfs-quota-period", c.cpu_cfs_quota_period,
                 "Sets CPU CFS quota period value, cpu.cfs_period_us, defaults to Linux Kernel default", "cpuCFSQuotaPeriod");
  r.opt_bool("enable-controller-attach-detach", c.enable_controller_attach_detach,
             "Enables the Attach/Detach controller to manage attachment/detachment of volumes scheduled to this "
             "node, and disables kubelet from executing any attach/detach operations", "enableControllerAttachDetach");
  r.opt_bool("make-iptables-util-chains", c.make_iptables_util_chains,
             "If true, kubelet will ensure iptables utility rules are present on host.", "makeIPTablesUtilChains");
  r.opt_integer("iptables-masquerade-bit", c.iptables_masquerade_bit,
                "The bit of the fwmark space to mark packets for SNAT. Must be within the range [0, 31].",
                "iptablesMasqueradeBit", "int32");
  r.opt_integer("iptables-drop-bit", c.iptables_drop_bit,
                "The bit of the fwmark space to mark packets for dropping. Must be within the range [0, 31].",
                "iptablesDropBit", "int32");
  r.str("container-log-max-size", c.container_log_max_size,
        "<Warning: Beta feature> Set the maximum size (e.g. 10Mi) of container log file before it is rotated.",
        "containerLogMaxSize");
  r.opt_integer("container-log-max-files", c.container_log_max_files,
                "<Warning: Beta feature> Set the maximum number of container log files that can be present for a "
                "container. The number must be >= 2.", "containerLogMaxFiles", "int32");
  r.opt_integer("container-log-max-workers", c.container_log_max_workers,
                "Set the maximum number of workers to spawn for log rotation.", "containerLogMaxWorkers", "int32");
  r.opt_duration("container-log-monitor-interval", c.container_log_monitor_interval,
                 "Set the duration for monitoring container logs to perform log rotate operation.",
                 "containerLogMonitorInterval");
  r.strings("allowed-unsafe-sysctls", c.allowed_unsafe_sysctls,
            "Comma-separated whitelist of unsafe sysctls or unsafe sysctl patterns (ending in *). Use these at your "
            "own risk.", "allowedUnsafeSysctls");
  r.opt_integer("node-status-max-images", c.node_status_max_images,
                "The maximum number of images to report in Node.Status.Images. If -1 is specified, no cap will be "
                "applied.", "nodeStatusMaxImages", "int32");
  r.boolean("kernel-memcg-notification", c.kernel_memcg_notification,
            "If enabled, the kubelet will integrate with the kernel memcg notification to determine if memory "
            "eviction thresholds are crossed rather than polling.", "kernelMemcgNotification");
  r.opt_bool("local-storage-capacity-isolation", c.local_storage_capacity_isolation,
             "If true, local ephemeral storage isolation is enabled. Otherwise, local storage isolation feature "
             "will be disabled", "localStorageCapacityIsolation");
  r.integer("max-open-files", c.max_open_files, "Number of files that can be opened by Kubelet process.", "maxOpenFiles", "int");
  r.str("kube-api-content-type", c.content_type, "Content type of requests sent to apiserver.", "contentType");
  r.opt_integer("kube-api-qps", c.kube_api_qps,
                "QPS to use while talking with kubernetes apiserver. The number must be >= 0. If 0 will use "
                "DefaultQPS: 50.", "kubeAPIQPS", "int32");
  r.integer("kube-api-burst", c.kube_api_burst,
            "Burst to use while talking with kubernetes apiserver. The number must be >= 0. If 0 will use "
            "DefaultBurst: 100.", "kubeAPIBurst", "int32");
  r.opt_bool("serialize-image-pulls", c.serialize_image_pulls,
             "Pull images one at a time. We recommend *not* changing the default value on nodes that run docker "
             "daemon with version < 1.9 or an Aufs storage backend. Issue #10959 has more details.",
             "serializeImagePulls");
  r.opt_integer("max-parallel-image-pulls", c.max_parallel_image_pulls,
                "Maximum number of image pulls in parallel. This field cannot be set if SerializeImagePulls "
                "(--serialize-image-pulls) is true. Setting it to nil means no limit.", "maxParallelImagePulls", "int32");
  r.opt_map("eviction-hard", c.eviction_hard,
            "A set of eviction thresholds (e.g. memory.available<1Gi) that if met would trigger a pod eviction.",
            "evictionHard", '<');
  r.map("eviction-soft", c.eviction_soft,
        "A set of eviction thresholds (e.g. memory.available<1.5Gi) that if met over a corresponding grace period "
        "would trigger a pod eviction.", "evictionSoft", '<');
  r.map("eviction-soft-grace-period", c.eviction_soft_grace_period,
        "A set of eviction grace periods (e.g. memory.available=1m30s) that correspond to how long a soft eviction "
        "threshold must hold before triggering a pod eviction.", "evictionSoftGracePeriod");
  r.duration("eviction-pressure-transition-period", c.eviction_pressure_transition_period,
             "Duration for which the kubelet has to wait before transitioning out of an eviction pressure "
             "condition.", "evictionPressureTransitionPeriod");
  r.integer("eviction-max-pod-grace-period", c.eviction_max_pod_grace_period,
            "Maximum allowed grace period (in seconds) to use when terminating pods in response to a soft eviction "
            "threshold being met.  If negative, defer to pod specified value.", "evictionMaxPodGracePeriod", "int32");
  r.map("eviction-minimum-reclaim", c.eviction_minimum_reclaim,
        "A set of minimum reclaims (e.g. imagefs.available=2Gi) that describes the minimum amount of resource the "
        "kubelet will reclaim when performing a pod eviction if that resource is under pressure.",
        "evictionMinimumReclaim");
  r.integer("pods-per-core", c.pods_per_core,
            "Number of Pods per core that can run on this Kubelet. The total number of Pods on this Kubelet cannot "
            "exceed max-pods, so max-pods will be used if this calculation results in a larger number of Pods "
            "allowed on the Kubelet. A value of 0 disables this limit.", "podsPerCore", "int32");
  r.boolean("protect-kernel-defaults", c.protect_kernel_defaults,
            "Default kubelet behaviour for kernel tuning. If set, kubelet errors if any of kernel tunables is "
            "different than kubelet defaults.", "protectKernelDefaults");
  r.str("reserved-cpus", c.reserved_system_cpus,
        "A comma-separated list of CPUs or CPU ranges that are reserved for system and kubernetes usage. This "
        "specific list will supersede cpu counts in --system-reserved and --kube-reserved.", "reservedSystemCPUs");
  r.map("system-reserved", c.system_reserved,
        "A set of ResourceName=ResourceQuantity (e.g. cpu=200m,memory=500Mi,ephemeral-storage=1Gi,pid=1000) pairs "
        "that describe resources reserved for non-kubernetes components. [default=none]", "systemReserved");
  r.map("kube-reserved", c.kube_reserved,
        "A set of ResourceName=ResourceQuantity (e.g. cpu=200m,memory=500Mi,ephemeral-storage=1Gi,pid=1000) pairs "
        "that describe resources reserved for kubernetes system components. [default=none]", "kubeReserved");
  r.str("system-reserved-cgroup", c.system_reserved_cgroup,
        "Absolute name of the top level cgroup that is used to manage non-kubernetes components for which compute "
        "resources were reserved via '--system-reserved' flag. Ex. '/system-reserved'. [default='']",
        "systemReservedCgroup");
  r.str("kube-reserved-cgroup", c.kube_reserved_cgroup,
        "Absolute name of the top level cgroup that is used to manage kubernetes components for which compute "
        "resources were reserved via '--kube-reserved' flag. Ex. '/kube-reserved'. [default='']",
        "kubeReservedCgroup");
  r.opt_strings("enforce-node-allocatable", c.enforce_node_allocatable,
                "A comma separated list of levels of node allocatable enforcement to be enforced by kubelet. "
                "Acceptable options are 'none', 'pods', 'system-reserved', 'system-reserved-compressible', "
                "'kube-reserved' and 'kube-reserved-compressible'.", "enforceNodeAllocatable");
  r.str("volume-plugin-dir", c.volume_plugin_dir,
        "The full path of the directory in which to search for additional third party volume plugins",
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
    }, "Register the node with the given list of taints (comma separated \"<key>=<value>:<effect>\"). No-op if "
       "register-node is false.", "registerWithTaints", "[]v1.Taint");
  }
  r.opt_bool("register-node", c.register_node,
             "Register the node with the apiserver. If --kubeconfig is not provided, this flag is irrelevant, as "
             "the Kubelet won't have an apiserver to register with.", "registerNode");
  r.str("memory-manager-policy", c.memory_manager_policy, "Memory Manager policy to use. Possible values: 'None', 'Static'.", "memoryManagerPolicy");
  {
    auto fresh = std::make_shared<bool>(true);
    auto& reserved = c.reserved_memory;
    r.custom("reserved-memory", [&reserved, fresh](std::string_view s) -> Status {
      if (*fresh) reserved.clear();
      *fresh = false;
      return parse_reserved_memory(s, reserved);
    }, "A comma separated list of memory reservations for NUMA nodes. (e.g. --reserved-memory "
       "0:memory=1Gi,hugepages-1M=2Gi --reserved-memory 1:memory=2Gi).", "reservedMemory", "reserved-memory");
  }
  r.str("show-hidden-metrics-for-version", c.show_hidden_metrics_for_version,
        "The previous version for which you want to show hidden metrics. Only the previous minor version is "
        "meaningful, other values will not be allowed. The format is <major>.<minor>, e.g.: '1.16'.",
        "showHiddenMetricsForVersion");
  r.str("container-runtime-endpoint", c.container_runtime_endpoint,
        "The endpoint of container runtime service. Unix Domain Sockets are supported on Linux, while npipe and "
        "tcp endpoints are supported on Windows. Examples:'unix:///path/to/runtime.sock', "
        "'npipe:////./pipe/runtime'", "containerRuntimeEndpoint");
  r.str("image-service-endpoint", c.image_service_endpoint,
        "The endpoint of container image service. If not specified, it will be the same with "
        "--container-runtime-endpoint by default.", "imageServiceEndpoint");
  r.opt_bool("seccomp-default", c.seccomp_default,
             "Enable the use of `RuntimeDefault` as the default seccomp profile for all workloads.", "seccompDefault");
  // Logging (component-base logsapi.AddFlags) — also deprecated mirrors of `logging`.
  r.custom("logging-format", [&c](std::string_view s) { c.logging.format = std::string(s); return Status(); },
           "Sets the log format. Permitted formats: \"json\" (gated by LoggingBetaOptions), \"text\".",
           "logging.format", "string", c.logging.format);
  r.custom("log-flush-frequency", [&c](std::string_view s) -> Status {
    auto d = parse_duration(s);
    if (!d) return d.error();
    c.logging.flush_frequency = {*d, true};
    return {};
  }, "Maximum number of seconds between log flushes", "logging.flushFrequency", "duration",
           format_duration(c.logging.flush_frequency.duration));
  r.boolean("log-json-split-stream", c.logging.options.json.split_stream,
            "[Alpha] In JSON format, write error messages to stderr and info messages to stdout. The default is to "
            "write a single stream to stdout. Enable the LoggingAlphaOptions feature gate to use this.",
            "logging.options.json.splitStream");
  r.boolean("log-text-split-stream", c.logging.options.text.split_stream,
            "[Alpha] In text format, write error messages to stderr and info messages to stdout. The default is to "
            "write a single stream to stdout. Enable the LoggingAlphaOptions feature gate to use this.",
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
    }, "[Alpha] With split output streams, the info messages can be buffered for a while to increase "
       "performance. The default value of zero bytes disables buffering.", field, "quantity");
  }
  r.config_mode(false);
  // -v and --vmodule are global klog flags upstream (not deprecated), stored in the configuration.
  r.custom("v", [&c](std::string_view s) -> Status {
    auto n = parse_go_int(s, 32);
    if (!n) return n.error();
    if (*n < 0) return Error("verbosity must be >= 0");
    c.logging.verbosity = static_cast<uint32_t>(*n);
    return {};
  }, "number for the log level verbosity", "logging.verbosity", "int");
  fs.set_shorthand("v", 'v');
  r.custom("vmodule", [&c](std::string_view s) -> Status {
    auto items = parse_vmodule(s);
    if (!items) return items.error();
    c.logging.vmodule = *items;
    return {};
  }, "comma-separated list of pattern=N settings for file-filtered logging (only works for text log format)",
           "logging.vmodule", "pattern=N,...");
  r.custom("version", [&f](std::string_view s) { f.version = std::string(s); return Status(); },
           "--version, --version=raw prints version information and quits; --version=vX.Y.Z... sets the reported "
           "version", nullptr, "version", "", true);
  r.boolean("help", f.help, "help for kubelet");
  fs.set_shorthand("help", 'h');
  return info;
}

}  // namespace knode::config
