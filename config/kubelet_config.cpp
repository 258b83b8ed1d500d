// KubeletConfiguration: schema (visit_fields), defaults, validation, decoding, drop-ins, encoding.
#include "config/kubelet_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <set>

#include "config/yaml_decode.h"

namespace knode::config {

// ---- schema: YAML names and upstream's omitempty tags ----

template <class V>
void visit_fields(V& v, KubeletX509Authentication& x) {
  v("clientCAFile", x.client_ca_file);
}
template <class V>
void visit_fields(V& v, KubeletWebhookAuthentication& x) {
  v("enabled", x.enabled);
  v("cacheTTL", x.cache_ttl);
}
template <class V>
void visit_fields(V& v, KubeletAnonymousAuthentication& x) {
  v("enabled", x.enabled);
}
template <class V>
void visit_fields(V& v, KubeletAuthentication& x) {
  v("x509", x.x509);
  v("webhook", x.webhook);
  v("anonymous", x.anonymous);
}
template <class V>
void visit_fields(V& v, KubeletWebhookAuthorization& x) {
  v("cacheAuthorizedTTL", x.cache_authorized_ttl);
  v("cacheUnauthorizedTTL", x.cache_unauthorized_ttl);
}
template <class V>
void visit_fields(V& v, KubeletAuthorization& x) {
  v("mode", x.mode);
  v("webhook", x.webhook);
}
template <class V>
void visit_fields(V& v, MemorySwapConfiguration& x) {
  v("swapBehavior", x.swap_behavior);
}
template <class V>
void visit_fields(V& v, ShutdownGracePeriodByPodPriority& x) {
  v("priority", x.priority, kAlways);
  v("shutdownGracePeriodSeconds", x.shutdown_grace_period_seconds, kAlways);
}
template <class V>
void visit_fields(V& v, CrashLoopBackOffConfig& x) {
  v("maxContainerRestartPeriod", x.max_container_restart_period);
}
template <class V>
void visit_fields(V& v, MemoryReservation& x) {
  v("numaNode", x.numa_node, kAlways);
  v("limits", x.limits, kAlways);
}
template <class V>
void visit_fields(V& v, Taint& x) {
  v("key", x.key, kAlways);
  v("value", x.value);
  v("effect", x.effect, kAlways);
  v("timeAdded", x.time_added);
}
template <class V>
void visit_fields(V& v, TracingConfiguration& x) {
  v("endpoint", x.endpoint);
  v("samplingRatePerMillion", x.sampling_rate_per_million);
}
template <class V>
void visit_fields(V& v, UserNamespaces& x) {
  v("idsPerPod", x.ids_per_pod);
}

template <class V>
void visit_fields(V& v, KubeletConfiguration& c) {
  v("enableServer", c.enable_server);
  v("staticPodPath", c.static_pod_path);
  v("podLogsDir", c.pod_logs_dir);
  v("syncFrequency", c.sync_frequency);
  v("fileCheckFrequency", c.file_check_frequency);
  v("httpCheckFrequency", c.http_check_frequency);
  v("staticPodURL", c.static_pod_url);
  v("staticPodURLHeader", c.static_pod_url_header);
  v("address", c.address);
  v("port", c.port);
  v("readOnlyPort", c.read_only_port);
  v("tlsCertFile", c.tls_cert_file);
  v("tlsPrivateKeyFile", c.tls_private_key_file);
  v("tlsCipherSuites", c.tls_cipher_suites);
  v("tlsMinVersion", c.tls_min_version);
  v("rotateCertificates", c.rotate_certificates);
  v("serverTLSBootstrap", c.server_tls_bootstrap);
  v("authentication", c.authentication);
  v("authorization", c.authorization);
  v("registryPullQPS", c.registry_pull_qps);
  v("registryBurst", c.registry_burst);
  v("eventRecordQPS", c.event_record_qps);
  v("eventBurst", c.event_burst);
  v("enableDebuggingHandlers", c.enable_debugging_handlers);
  v("enableContentionProfiling", c.enable_contention_profiling);
  v("healthzPort", c.healthz_port);
  v("healthzBindAddress", c.healthz_bind_address);
  v("oomScoreAdj", c.oom_score_adj);
  v("clusterDomain", c.cluster_domain);
  v("clusterDNS", c.cluster_dns);
  v("streamingConnectionIdleTimeout", c.streaming_connection_idle_timeout);
  v("nodeStatusUpdateFrequency", c.node_status_update_frequency);
  v("nodeStatusReportFrequency", c.node_status_report_frequency);
  v("nodeLeaseDurationSeconds", c.node_lease_duration_seconds);
  v("imageMinimumGCAge", c.image_minimum_gc_age);
  v("imageMaximumGCAge", c.image_maximum_gc_age);
  v("imageGCHighThresholdPercent", c.image_gc_high_threshold_percent);
  v("imageGCLowThresholdPercent", c.image_gc_low_threshold_percent);
  v("volumeStatsAggPeriod", c.volume_stats_agg_period);
  v("kubeletCgroups", c.kubelet_cgroups);
  v("systemCgroups", c.system_cgroups);
  v("cgroupRoot", c.cgroup_root);
  v("cgroupsPerQOS", c.cgroups_per_qos);
  v("cgroupDriver", c.cgroup_driver);
  v("cpuManagerPolicy", c.cpu_manager_policy);
  v("singleProcessOOMKill", c.single_process_oom_kill);
  v("cpuManagerPolicyOptions", c.cpu_manager_policy_options);
  v("cpuManagerReconcilePeriod", c.cpu_manager_reconcile_period);
  v("memoryManagerPolicy", c.memory_manager_policy);
  v("topologyManagerPolicy", c.topology_manager_policy);
  v("topologyManagerScope", c.topology_manager_scope);
  v("topologyManagerPolicyOptions", c.topology_manager_policy_options);
  v("qosReserved", c.qos_reserved);
  v("runtimeRequestTimeout", c.runtime_request_timeout);
  v("hairpinMode", c.hairpin_mode);
  v("maxPods", c.max_pods);
  v("podCIDR", c.pod_cidr);
  v("podPidsLimit", c.pod_pids_limit);
  v("resolvConf", c.resolv_conf);
  v("runOnce", c.run_once);
  v("cpuCFSQuota", c.cpu_cfs_quota);
  v("cpuCFSQuotaPeriod", c.cpu_cfs_quota_period);
  v("nodeStatusMaxImages", c.node_status_max_images);
  v("maxOpenFiles", c.max_open_files);
  v("contentType", c.content_type);
  v("kubeAPIQPS", c.kube_api_qps);
  v("kubeAPIBurst", c.kube_api_burst);
  v("serializeImagePulls", c.serialize_image_pulls);
  v("maxParallelImagePulls", c.max_parallel_image_pulls);
  v("evictionHard", c.eviction_hard);
  v("evictionSoft", c.eviction_soft);
  v("evictionSoftGracePeriod", c.eviction_soft_grace_period);
  v("evictionPressureTransitionPeriod", c.eviction_pressure_transition_period);
  v("evictionMaxPodGracePeriod", c.eviction_max_pod_grace_period);
  v("evictionMinimumReclaim", c.eviction_minimum_reclaim);
  v("podsPerCore", c.pods_per_core);
  v("enableControllerAttachDetach", c.enable_controller_attach_detach);
  v("protectKernelDefaults", c.protect_kernel_defaults);
  v("makeIPTablesUtilChains", c.make_iptables_util_chains);
  v("iptablesMasqueradeBit", c.iptables_masquerade_bit);
  v("iptablesDropBit", c.iptables_drop_bit);
  v("featureGates", c.feature_gates);
  v("failSwapOn", c.fail_swap_on);
  v("memorySwap", c.memory_swap);
  v("containerLogMaxSize", c.container_log_max_size);
  v("containerLogMaxFiles", c.container_log_max_files);
  v("containerLogMaxWorkers", c.container_log_max_workers);
  v("containerLogMonitorInterval", c.container_log_monitor_interval);
  v("configMapAndSecretChangeDetectionStrategy", c.config_map_and_secret_change_detection_strategy);
  v("systemReserved", c.system_reserved);
  v("kubeReserved", c.kube_reserved);
  v("reservedSystemCPUs", c.reserved_system_cpus);
  v("showHiddenMetricsForVersion", c.show_hidden_metrics_for_version);
  v("systemReservedCgroup", c.system_reserved_cgroup);
  v("kubeReservedCgroup", c.kube_reserved_cgroup);
  v("enforceNodeAllocatable", c.enforce_node_allocatable);
  v("allowedUnsafeSysctls", c.allowed_unsafe_sysctls);
  v("volumePluginDir", c.volume_plugin_dir);
  v("providerID", c.provider_id);
  v("kernelMemcgNotification", c.kernel_memcg_notification);
  v("logging", c.logging);
  v("enableSystemLogHandler", c.enable_system_log_handler);
  v("enableSystemLogQuery", c.enable_system_log_query);
  v("shutdownGracePeriod", c.shutdown_grace_period);
  v("shutdownGracePeriodCriticalPods", c.shutdown_grace_period_critical_pods);
  v("shutdownGracePeriodByPodPriority", c.shutdown_grace_period_by_pod_priority);
  v("crashLoopBackOff", c.crash_loop_back_off);
  v("reservedMemory", c.reserved_memory);
  v("enableProfilingHandler", c.enable_profiling_handler);
  v("enableDebugFlagsHandler", c.enable_debug_flags_handler);
  v("seccompDefault", c.seccomp_default);
  v("memoryThrottlingFactor", c.memory_throttling_factor);
  v("registerWithTaints", c.register_with_taints);
  v("registerNode", c.register_node);
  v("tracing", c.tracing);
  v("localStorageCapacityIsolation", c.local_storage_capacity_isolation);
  v("containerRuntimeEndpoint", c.container_runtime_endpoint, kAlways);
  v("imageServiceEndpoint", c.image_service_endpoint);
  v("failCgroupV1", c.fail_cgroup_v1);
  v("userNamespaces", c.user_namespaces);
}

// ---- feature gates (the 1.32 defaults of the gates this configuration depends on) ----

namespace {

bool gate_enabled(const KubeletConfiguration& c, const std::string& name) {
  if (auto it = c.feature_gates.find(name); it != c.feature_gates.end()) return it->second;
  static const std::map<std::string, bool> kDefaults = {
      {"CustomCPUCFSQuotaPeriod", false},
      {"GracefulNodeShutdown", true},
      {"GracefulNodeShutdownBasedOnPodPriority", true},
      {"ImageMaximumGCAge", true},
      {"KubeletCrashLoopBackOffMax", false},
      {"KubeletTracing", true},
      {"MemoryQoS", false},
      {"NodeLogQuery", false},
      {"NodeSwap", true},
      {"RotateKubeletServerCertificate", true},
  };
  auto it = kDefaults.find(name);
  return it != kDefaults.end() && it->second;
}

template <class T>
void default_if_unset(std::optional<T>& v, T d) {
  if (!v) v = std::move(d);
}
void default_if_zero(Duration& v, Duration d) {
  if (v.ns == 0) v = d;
}
void default_if_empty(std::string& v, const char* d) {
  if (v.empty()) v = d;
}

}  // namespace

std::map<std::string, std::string> default_eviction_hard() {
  return {{"imagefs.available", "15%"},
          {"imagefs.inodesFree", "5%"},
          {"memory.available", "100Mi"},
          {"nodefs.available", "10%"},
          {"nodefs.inodesFree", "5%"}};
}

void set_kubelet_defaults(KubeletConfiguration& c) {
  default_if_unset(c.enable_server, true);
  default_if_zero(c.sync_frequency, Duration::minutes(1));
  default_if_zero(c.file_check_frequency, Duration::seconds(20));
  default_if_zero(c.http_check_frequency, Duration::seconds(20));
  default_if_empty(c.address, "0.0.0.0");
  if (c.port == 0) c.port = 10250;
  default_if_unset(c.authentication.anonymous.enabled, false);
  default_if_unset(c.authentication.webhook.enabled, true);
  default_if_zero(c.authentication.webhook.cache_ttl, Duration::minutes(2));
  default_if_empty(c.authorization.mode, "Webhook");
  default_if_zero(c.authorization.webhook.cache_authorized_ttl, Duration::minutes(5));
  default_if_zero(c.authorization.webhook.cache_unauthorized_ttl, Duration::seconds(30));
  default_if_unset(c.registry_pull_qps, 5);
  if (c.registry_burst == 0) c.registry_burst = 10;
  default_if_unset(c.event_record_qps, 50);
  if (c.event_burst == 0) c.event_burst = 100;
  default_if_unset(c.enable_debugging_handlers, true);
  default_if_unset(c.healthz_port, 10248);
  default_if_empty(c.healthz_bind_address, "127.0.0.1");
  default_if_unset(c.oom_score_adj, -999);
  default_if_zero(c.streaming_connection_idle_timeout, Duration::hours(4));
  if (c.node_status_report_frequency.ns == 0) {
    // An explicitly set update frequency also becomes the report frequency (compatibility).
    c.node_status_report_frequency =
        c.node_status_update_frequency.ns == 0 ? Duration::minutes(5) : c.node_status_update_frequency;
  }
  default_if_zero(c.node_status_update_frequency, Duration::seconds(10));
  if (c.node_lease_duration_seconds == 0) c.node_lease_duration_seconds = 40;
  default_if_zero(c.image_minimum_gc_age, Duration::minutes(2));
  default_if_unset(c.image_gc_high_threshold_percent, 85);
  default_if_unset(c.image_gc_low_threshold_percent, 80);
  default_if_zero(c.volume_stats_agg_period, Duration::minutes(1));
  default_if_unset(c.cgroups_per_qos, true);
  default_if_empty(c.cgroup_driver, "cgroupfs");
  default_if_empty(c.cpu_manager_policy, "none");
  default_if_zero(c.cpu_manager_reconcile_period, Duration::seconds(10));
  default_if_empty(c.memory_manager_policy, "None");
  default_if_empty(c.topology_manager_policy, "none");
  default_if_empty(c.topology_manager_scope, "container");
  default_if_zero(c.runtime_request_timeout, Duration::minutes(2));
  default_if_empty(c.hairpin_mode, "promiscuous-bridge");
  if (c.max_pods == 0) c.max_pods = 110;
  if (!c.pod_pids_limit || *c.pod_pids_limit < 0) c.pod_pids_limit = -1;
  default_if_unset(c.resolv_conf, std::string("/etc/resolv.conf"));
  default_if_unset(c.cpu_cfs_quota, true);
  default_if_unset(c.cpu_cfs_quota_period, Duration::milliseconds(100));
  default_if_unset(c.node_status_max_images, 50);
  if (c.max_open_files == 0) c.max_open_files = 1000000;
  default_if_empty(c.content_type, "application/vnd.kubernetes.protobuf");
  default_if_unset(c.kube_api_qps, 50);
  if (c.kube_api_burst == 0) c.kube_api_burst = 100;
  if (!c.serialize_image_pulls) {
    // Parallel pulls configured → not serialized, to spare users setting both.
    c.serialize_image_pulls = !c.max_parallel_image_pulls || *c.max_parallel_image_pulls < 2;
  }
  default_if_zero(c.eviction_pressure_transition_period, Duration::minutes(5));
  default_if_unset(c.enable_controller_attach_detach, true);
  default_if_unset(c.make_iptables_util_chains, true);
  default_if_unset(c.iptables_masquerade_bit, 14);
  default_if_unset(c.iptables_drop_bit, 15);
  default_if_unset(c.fail_swap_on, true);
  default_if_empty(c.container_log_max_size, "10Mi");
  default_if_unset(c.container_log_max_files, 5);
  default_if_unset(c.container_log_max_workers, 1);
  default_if_unset(c.container_log_monitor_interval, Duration::seconds(10));
  default_if_empty(c.config_map_and_secret_change_detection_strategy, "Watch");
  default_if_unset(c.enforce_node_allocatable, std::vector<std::string>{"pods"});
  default_if_empty(c.volume_plugin_dir, "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/");
  set_logging_defaults(c.logging);
  default_if_unset(c.enable_system_log_handler, true);
  default_if_unset(c.enable_profiling_handler, true);
  default_if_unset(c.enable_debug_flags_handler, true);
  default_if_unset(c.seccomp_default, false);
  default_if_unset(c.fail_cgroup_v1, false);
  default_if_unset(c.memory_throttling_factor, 0.9);
  default_if_unset(c.register_node, true);
  default_if_unset(c.local_storage_capacity_isolation, true);
  default_if_empty(c.container_runtime_endpoint, "unix:///run/containerd/containerd.sock");
  default_if_empty(c.pod_logs_dir, "/var/log/pods");
  if (gate_enabled(c, "KubeletCrashLoopBackOffMax"))
    default_if_unset(c.crash_loop_back_off.max_container_restart_period, Duration::seconds(300));
}

KubeletConfiguration kubelet_flag_defaults() {
  KubeletConfiguration c;
  set_kubelet_defaults(c);
  c.authentication.anonymous.enabled = true;
  c.authentication.webhook.enabled = false;
  c.authorization.mode = "AlwaysAllow";
  c.read_only_port = 10255;
  return c;
}

// ---- validation ----

namespace {

std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }
std::string dur(Duration d) { return format_duration(d); }

FieldError bad(std::string path, std::string value, std::string why) {
  return {std::move(path), "invalid value " + q(value) + ": " + std::move(why)};
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A label value / the name part of a qualified name: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], ≤ 63.
bool is_label_value(std::string_view s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  if (s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (char c : label)
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
        return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}
bool is_qualified_name(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return is_label_value(s, false);
  return is_dns_subdomain(s.substr(0, slash)) && is_label_value(s.substr(slash + 1), false);
}

// A Linux cpuset list such as "0-3,8,10-11".
bool is_cpuset(std::string_view s) {
  if (s.empty()) return true;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string_view part = s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const size_t dash = part.find('-');
    auto num = [](std::string_view n, long& out) {
      if (n.empty() || n.size() > 9) return false;
      out = 0;
      for (char c : n) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        out = out * 10 + (c - '0');
      }
      return true;
    };
    long a = 0, b = 0;
    if (dash == std::string_view::npos) {
      if (!num(part, a)) return false;
    } else if (!num(part.substr(0, dash), a) || !num(part.substr(dash + 1), b) || b < a) {
      return false;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

const std::set<std::string>& eviction_signals() {
  static const std::set<std::string> kSignals = {
      "memory.available",     "allocatableMemory.available", "nodefs.available",       "nodefs.inodesFree",
      "imagefs.available",    "imagefs.inodesFree",          "containerfs.available",  "containerfs.inodesFree",
      "pid.available"};
  return kSignals;
}

// One threshold value: "10%" (0..100) or a non-negative quantity.
std::optional<FieldError> check_threshold(const std::string& path, const std::string& value) {
  if (!value.empty() && value.back() == '%') {
    const std::string num = value.substr(0, value.size() - 1);
    char* end = nullptr;
    const double pct = std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(pct))
      return bad(path, value, "not a percentage");
    if (pct < 0) return bad(path, value, "eviction percentage threshold must be >= 0%");
    if (pct > 100) return bad(path, value, "eviction percentage threshold must be <= 100%");
    return std::nullopt;
  }
  auto qty = Quantity::parse(value);
  if (!qty) return bad(path, value, qty.error().message());
  if (qty->sign() < 0) return bad(path, value, "eviction threshold must be positive");
  return std::nullopt;
}

std::optional<FieldError> check_eviction_map(const std::string& field, const std::map<std::string, std::string>& m) {
  for (const auto& [signal, value] : m) {
    const std::string path = field + "[" + signal + "]";
    if (!eviction_signals().contains(signal)) return FieldError{path, "unsupported eviction signal " + q(signal)};
    if (auto e = check_threshold(path, value)) return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<FieldError> validate_kubelet_config(const KubeletConfiguration& c) {
  auto i32 = [](const std::optional<int32_t>& v) { return v.value_or(0); };
  auto n = [](int64_t v) { return std::to_string(v); };

  if (c.node_lease_duration_seconds <= 0)
    return bad("nodeLeaseDurationSeconds", n(c.node_lease_duration_seconds), "must be greater than 0");
  if (!c.system_cgroups.empty() && c.cgroup_root.empty())
    return FieldError{"systemCgroups", "systemCgroups (--system-cgroups) was specified and cgroupRoot (--cgroup-root) was not specified"};
  if (c.event_burst < 0) return bad("eventBurst", n(c.event_burst), "must not be a negative number");
  if (i32(c.event_record_qps) < 0) return bad("eventRecordQPS", n(i32(c.event_record_qps)), "must not be a negative number");
  const int32_t healthz = i32(c.healthz_port);
  if (healthz != 0 && (healthz < 1 || healthz > 65535))
    return bad("healthzPort", n(healthz), "must be between 1 and 65535, inclusive");
  const Duration cfs = c.cpu_cfs_quota_period.value_or(Duration{});
  if (!gate_enabled(c, "CustomCPUCFSQuotaPeriod") && cfs != Duration::milliseconds(100))
    return bad("cpuCFSQuotaPeriod", dur(cfs), "requires feature gate CustomCPUCFSQuotaPeriod");
  if (gate_enabled(c, "CustomCPUCFSQuotaPeriod") && (cfs < Duration::milliseconds(1) || cfs > Duration::seconds(1)))
    return bad("cpuCFSQuotaPeriod", dur(cfs), "must be between 1ms and 1sec, inclusive");
  const int32_t high = i32(c.image_gc_high_threshold_percent), low = i32(c.image_gc_low_threshold_percent);
  if (high < 0 || high > 100) return bad("imageGCHighThresholdPercent", n(high), "must be between 0 and 100, inclusive");
  if (low < 0 || low > 100) return bad("imageGCLowThresholdPercent", n(low), "must be between 0 and 100, inclusive");
  if (low >= high)
    return bad("imageGCLowThresholdPercent", n(low), "must be less than imageGCHighThresholdPercent " + n(high));
  if (c.image_maximum_gc_age.ns != 0 && !gate_enabled(c, "ImageMaximumGCAge"))
    return bad("imageMaximumGCAge", dur(c.image_maximum_gc_age), "requires feature gate ImageMaximumGCAge");
  if (c.image_minimum_gc_age.ns < 0) return bad("imageMinimumGCAge", dur(c.image_minimum_gc_age), "must not be negative");
  if (c.image_maximum_gc_age.ns < 0) return bad("imageMaximumGCAge", dur(c.image_maximum_gc_age), "must not be negative");
  if (c.image_maximum_gc_age.ns > 0 && c.image_maximum_gc_age <= c.image_minimum_gc_age)
    return bad("imageMaximumGCAge", dur(c.image_maximum_gc_age),
               "must be greater than imageMinimumGCAge " + dur(c.image_minimum_gc_age));
  const int32_t drop = i32(c.iptables_drop_bit), masq = i32(c.iptables_masquerade_bit);
  if (drop < 0 || drop > 31) return bad("iptablesDropBit", n(drop), "must be between 0 and 31, inclusive");
  if (masq < 0 || masq > 31) return bad("iptablesMasqueradeBit", n(masq), "must be between 0 and 31, inclusive");
  if (c.kube_api_burst < 0) return bad("kubeAPIBurst", n(c.kube_api_burst), "must not be a negative number");
  if (i32(c.kube_api_qps) < 0) return bad("kubeAPIQPS", n(i32(c.kube_api_qps)), "must not be a negative number");
  if (i32(c.node_status_max_images) < -1)
    return bad("nodeStatusMaxImages", n(i32(c.node_status_max_images)), "must be -1 or greater");
  if (c.max_open_files < 0) return bad("maxOpenFiles", n(c.max_open_files), "must not be a negative number");
  if (c.max_pods < 0) return bad("maxPods", n(c.max_pods), "must not be a negative number");
  const int32_t oom = i32(c.oom_score_adj);
  if (oom < -1000 || oom > 1000) return bad("oomScoreAdj", n(oom), "must be between -1000 and 1000, inclusive");
  if (c.pods_per_core < 0) return bad("podsPerCore", n(c.pods_per_core), "must not be a negative number");
  if (c.port < 1 || c.port > 65535) return bad("port", n(c.port), "must be between 1 and 65535, inclusive");
  if (c.read_only_port != 0 && (c.read_only_port < 1 || c.read_only_port > 65535))
    return bad("readOnlyPort", n(c.read_only_port), "must be between 0 and 65535, inclusive");
  if (c.registry_burst < 0) return bad("registryBurst", n(c.registry_burst), "must not be a negative number");
  if (i32(c.registry_pull_qps) < 0)
    return bad("registryPullQPS", n(i32(c.registry_pull_qps)), "must not be a negative number");
  if (c.max_parallel_image_pulls && *c.max_parallel_image_pulls < 1)
    return bad("maxParallelImagePulls", n(*c.max_parallel_image_pulls), "must be a positive number");
  if (c.serialize_image_pulls.value_or(true) && c.max_parallel_image_pulls && *c.max_parallel_image_pulls > 1)
    return bad("maxParallelImagePulls", n(*c.max_parallel_image_pulls),
               "cannot be larger than 1 unless serializeImagePulls (--serialize-image-pulls) is set to false");
  if (c.server_tls_bootstrap && !gate_enabled(c, "RotateKubeletServerCertificate"))
    return bad("serverTLSBootstrap", "true", "requires feature gate RotateKubeletServerCertificate");
  for (size_t i = 0; i < c.register_with_taints.size(); ++i) {
    const Taint& t = c.register_with_taints[i];
    const std::string path = "registerWithTaints[" + std::to_string(i) + "]";
    const std::string text = t.key + (t.value.empty() ? "" : "=" + t.value) + ":" + t.effect;
    if (!is_qualified_name(t.key)) return bad(path + ".key", t.key, "invalid taint key");
    if (!is_label_value(t.value, true)) return bad(path + ".value", t.value, "invalid taint value");
    if (t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute")
      return bad(path + ".effect", t.effect, "must be one of \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
    if (!t.time_added.empty()) return bad(path + ".timeAdded", t.time_added, "must not be set");
  }
  static const std::set<std::string> kTopologyPolicies = {"none", "best-effort", "restricted", "single-numa-node"};
  if (!kTopologyPolicies.contains(c.topology_manager_policy))
    return bad("topologyManagerPolicy", c.topology_manager_policy,
               "must be one of: [\"none\" \"best-effort\" \"restricted\" \"single-numa-node\"]");
  if (c.topology_manager_scope != "container" && c.topology_manager_scope != "pod")
    return bad("topologyManagerScope", c.topology_manager_scope, "must be one of: \"container\", or \"pod\"");
  if (gate_enabled(c, "GracefulNodeShutdown")) {
    if (c.shutdown_grace_period_critical_pods > c.shutdown_grace_period)
      return bad("shutdownGracePeriodCriticalPods", dur(c.shutdown_grace_period_critical_pods),
                 "must be <= shutdownGracePeriod " + dur(c.shutdown_grace_period));
    auto sub_second = [](Duration d) { return d.ns < 0 || (d.ns > 0 && d < Duration::seconds(1)); };
    if (sub_second(c.shutdown_grace_period))
      return bad("shutdownGracePeriod", dur(c.shutdown_grace_period), "must be either zero or otherwise >= 1 sec");
    if (sub_second(c.shutdown_grace_period_critical_pods))
      return bad("shutdownGracePeriodCriticalPods", dur(c.shutdown_grace_period_critical_pods),
                 "must be either zero or otherwise >= 1 sec");
  } else if (c.shutdown_grace_period.ns > 0 || c.shutdown_grace_period_critical_pods.ns > 0) {
    return bad("shutdownGracePeriod", dur(c.shutdown_grace_period), "requires feature gate GracefulNodeShutdown");
  }
  if (!c.shutdown_grace_period_by_pod_priority.empty()) {
    if (!gate_enabled(c, "GracefulNodeShutdownBasedOnPodPriority"))
      return FieldError{"shutdownGracePeriodByPodPriority", "requires feature gate GracefulNodeShutdownBasedOnPodPriority"};
    if (c.shutdown_grace_period.ns > 0 || c.shutdown_grace_period_critical_pods.ns > 0)
      return FieldError{"shutdownGracePeriodByPodPriority",
                        "cannot be specified together with shutdownGracePeriod or shutdownGracePeriodCriticalPods"};
  }
  const std::string& swap = c.memory_swap.swap_behavior;
  if (gate_enabled(c, "NodeSwap")) {
    if (!swap.empty() && swap != "NoSwap" && swap != "LimitedSwap")
      return bad("memorySwap.swapBehavior", swap, "must be one of: \"\", \"LimitedSwap\" or \"NoSwap\"");
  } else if (!swap.empty()) {
    return bad("memorySwap.swapBehavior", swap, "cannot be set when NodeSwap feature flag is disabled");
  }
  const auto& restart = c.crash_loop_back_off.max_container_restart_period;
  if (gate_enabled(c, "KubeletCrashLoopBackOffMax")) {
    if (!restart)
      return FieldError{"crashLoopBackOff.maxContainerRestartPeriod",
                        "must be set when feature gate KubeletCrashLoopBackOffMax is enabled"};
    if (*restart < Duration::seconds(1) || *restart > Duration::seconds(300))
      return bad("crashLoopBackOff.maxContainerRestartPeriod", dur(*restart), "must be set between 1s and 300s");
  } else if (restart) {
    return bad("crashLoopBackOff.maxContainerRestartPeriod", dur(*restart),
               "must not be set unless feature gate KubeletCrashLoopBackOffMax is enabled");
  }
  // enforceNodeAllocatable.
  const std::vector<std::string> enforce = c.enforce_node_allocatable.value_or(std::vector<std::string>{});
  auto has = [&](const char* k) { return std::find(enforce.begin(), enforce.end(), k) != enforce.end(); };
  if (has("system-reserved") && has("system-reserved-compressible"))
    return FieldError{"enforceNodeAllocatable",
                      "both \"system-reserved\" and \"system-reserved-compressible\" cannot be specified together"};
  if (has("kube-reserved") && has("kube-reserved-compressible"))
    return FieldError{"enforceNodeAllocatable",
                      "both \"kube-reserved\" and \"kube-reserved-compressible\" cannot be specified together"};
  std::set<std::string> seen;
  for (size_t i = 0; i < enforce.size(); ++i) {
    const std::string& val = enforce[i];
    const std::string path = "enforceNodeAllocatable[" + std::to_string(i) + "]";
    if (!seen.insert(val).second) return bad(path, val, "duplicated enforcement");
    if (val == "pods") {
    } else if (val == "system-reserved" || val == "system-reserved-compressible") {
      if (c.system_reserved_cgroup.empty())
        return bad(path, val, "systemReservedCgroup (--system-reserved-cgroup) must be specified");
    } else if (val == "kube-reserved" || val == "kube-reserved-compressible") {
      if (c.kube_reserved_cgroup.empty())
        return bad(path, val, "kubeReservedCgroup (--kube-reserved-cgroup) must be specified");
    } else if (val == "none") {
      if (enforce.size() > 1) return bad(path, val, "may not be combined with other enforcements");
      continue;
    } else {
      return bad(path, val,
                 "valid options are \"pods\", \"system-reserved\", \"system-reserved-compressible\", "
                 "\"kube-reserved\", \"kube-reserved-compressible\" or \"none\"");
    }
    if (!c.cgroups_per_qos.value_or(true))
      return bad(path, val, "cgroupsPerQOS (--cgroups-per-qos) must be set to true");
  }
  if (c.hairpin_mode != "none" && c.hairpin_mode != "hairpin-veth" && c.hairpin_mode != "promiscuous-bridge")
    return bad("hairpinMode", c.hairpin_mode, "valid options are \"none\", \"hairpin-veth\" or \"promiscuous-bridge\"");
  if (!c.reserved_system_cpus.empty()) {
    if (!c.system_reserved_cgroup.empty() || !c.kube_reserved_cgroup.empty())
      return bad("reservedSystemCPUs", c.reserved_system_cpus,
                 "can't be used with systemReservedCgroup (--system-reserved-cgroup) or kubeReservedCgroup "
                 "(--kube-reserved-cgroup)");
    if (!is_cpuset(c.reserved_system_cpus)) return bad("reservedSystemCPUs", c.reserved_system_cpus, "not a CPU list");
  }
  std::set<std::pair<int32_t, std::string>> reserved;
  for (size_t i = 0; i < c.reserved_memory.size(); ++i) {
    const auto& r = c.reserved_memory[i];
    for (const auto& [type, qty] : r.limits) {
      const std::string path = "reservedMemory[" + std::to_string(i) + "].limits[" + type + "]";
      if (type != "memory" && !type.starts_with("hugepages-"))
        return bad(path, type, "only memory and hugepages-<HugePageSize> are accepted");
      if (!reserved.insert({r.numa_node, type}).second)
        return bad(path, qty.string(), "duplicate value for NUMA node " + std::to_string(r.numa_node));
    }
  }
  if (!c.show_hidden_metrics_for_version.empty() && c.show_hidden_metrics_for_version != "1.31")
    return bad("showHiddenMetricsForVersion", c.show_hidden_metrics_for_version,
               "must be omitted or have the value '1.31'; only the previous minor version is allowed");
  if (auto st = validate_logging(c.logging, "logging"); !st) {
    const std::string m = st.message();
    const size_t colon = m.find(": ");
    return FieldError{m.substr(0, colon), colon == std::string::npos ? m : m.substr(colon + 2)};
  }
  if (c.tracing) {
    if (!gate_enabled(c, "KubeletTracing")) return FieldError{"tracing", "requires feature gate KubeletTracing"};
    const int32_t rate = c.tracing->sampling_rate_per_million.value_or(0);
    if (rate < 0 || rate > 1000000)
      return bad("tracing.samplingRatePerMillion", n(rate), "must be between 0 and 1000000, inclusive");
  }
  if (gate_enabled(c, "MemoryQoS") && !c.memory_throttling_factor)
    return FieldError{"memoryThrottlingFactor", "required when feature gate MemoryQoS is enabled"};
  if (c.memory_throttling_factor && (*c.memory_throttling_factor <= 0 || *c.memory_throttling_factor > 1.0))
    return bad("memoryThrottlingFactor", encode_node(*c.memory_throttling_factor).text,
               "must be greater than 0 and less than or equal to 1.0");
  if (c.container_runtime_endpoint.empty())
    return FieldError{"containerRuntimeEndpoint", "was not specified or empty"};
  if (c.enable_system_log_query.value_or(false)) {
    if (!gate_enabled(c, "NodeLogQuery")) return bad("enableSystemLogQuery", "true", "requires feature gate NodeLogQuery");
    if (!c.enable_system_log_handler.value_or(true))
      return bad("enableSystemLogQuery", "true", "enableSystemLogHandler is required");
  }
  if (c.container_log_max_workers.value_or(1) < 1)
    return bad("containerLogMaxWorkers", n(*c.container_log_max_workers), "must be greater than or equal to 1");
  if (c.container_log_monitor_interval && *c.container_log_monitor_interval < Duration::seconds(3))
    return bad("containerLogMonitorInterval", dur(*c.container_log_monitor_interval),
               "must be a positive time duration greater than or equal to 3s");
  if (c.container_log_max_files.value_or(5) <= 1)
    return bad("containerLogMaxFiles", n(*c.container_log_max_files), "must be greater than 1");
  if (auto qty = Quantity::parse(c.container_log_max_size); !c.container_log_max_size.empty() && !qty)
    return bad("containerLogMaxSize", c.container_log_max_size, qty.error().message());
  if (c.pod_logs_dir.empty()) return FieldError{"podLogsDir", "was not specified"};
  if (c.pod_logs_dir.front() != '/') return bad("podLogsDir", c.pod_logs_dir, "must be an absolute path");
  if (std::filesystem::path(c.pod_logs_dir).lexically_normal().string() != c.pod_logs_dir)
    return bad("podLogsDir", c.pod_logs_dir, "must be normalized");
  for (unsigned char ch : c.pod_logs_dir)
    if (ch > 127) return bad("podLogsDir", c.pod_logs_dir, "must contain ASCII characters only");
  // Checked by upstream at startup rather than in ValidateKubeletConfiguration.
  if (c.cgroup_driver != "cgroupfs" && c.cgroup_driver != "systemd")
    return bad("cgroupDriver", c.cgroup_driver, "must be \"cgroupfs\" or \"systemd\"");
  if (c.authorization.mode != "AlwaysAllow" && c.authorization.mode != "Webhook")
    return bad("authorization.mode", c.authorization.mode, "must be \"AlwaysAllow\" or \"Webhook\"");
  if (c.eviction_hard)
    if (auto e = check_eviction_map("evictionHard", *c.eviction_hard)) return e;
  if (auto e = check_eviction_map("evictionSoft", c.eviction_soft)) return e;
  if (auto e = check_eviction_map("evictionMinimumReclaim", c.eviction_minimum_reclaim)) return e;
  for (const auto& [signal, grace] : c.eviction_soft_grace_period) {
    const std::string path = "evictionSoftGracePeriod[" + signal + "]";
    if (!eviction_signals().contains(signal)) return FieldError{path, "unsupported eviction signal " + q(signal)};
    auto d = parse_duration(grace);
    if (!d) return bad(path, grace, "invalid duration");
    if (d->ns < 0) return bad(path, grace, "must be a positive value");
  }
  for (const auto& [signal, value] : c.eviction_soft)
    if (!c.eviction_soft_grace_period.contains(signal))
      return bad("evictionSoft[" + signal + "]", value, "a soft eviction threshold needs a grace period in evictionSoftGracePeriod");
  if (c.eviction_max_pod_grace_period < 0)
    return bad("evictionMaxPodGracePeriod", n(c.eviction_max_pod_grace_period), "must not be a negative number");
  return std::nullopt;
}

// ---- decoding ----

Result<DecodedKubeletConfig> decode_kubelet_config(std::string_view text, std::string_view file) {
  auto doc = load_yaml(text, file);
  if (!doc) return doc.error();
  if (auto st = check_type_meta(*doc, file, kKubeletConfigAPIVersion, kKubeletConfigKind); !st) return st.error();
  DecodedKubeletConfig out;
  DecodeState st = decode_document(*doc, file, out.config);
  if (st.failed()) return *st.error;
  // Strict decoding fails on unknown or duplicate fields; upstream then decodes leniently and warns.
  std::string problems;
  for (const auto& u : st.unknown) problems += std::string(problems.empty() ? "" : ", ") + "unknown field \"" + u + "\"";
  for (const auto& d : st.duplicate)
    problems += std::string(problems.empty() ? "" : ", ") + "duplicate field \"" + d + "\"";
  if (!problems.empty())
    out.warnings.push_back(std::string(file) + ": using lenient decoding as strict decoding failed: " + problems);
  return out;
}

Status merge_kubelet_config(std::string_view text, std::string_view file, KubeletConfiguration& into,
                            std::vector<std::string>& warnings) {
  auto doc = load_yaml(text, file);
  if (!doc) return doc.error();
  if (auto st = check_type_meta(*doc, file, kKubeletConfigAPIVersion, kKubeletConfigKind); !st) return st.error();
  KubeletConfiguration merged = into;
  DecodeState st = decode_document(*doc, file, merged);
  if (st.failed()) return *st.error;
  for (const auto& u : st.unknown) warnings.push_back(std::string(file) + ": unknown field \"" + u + "\" ignored");
  for (const auto& d : st.duplicate) warnings.push_back(std::string(file) + ": duplicate field \"" + d + "\"");
  into = std::move(merged);
  return {};
}

Result<DecodedKubeletConfig> load_kubelet_config_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto decoded = decode_kubelet_config(*text, path);
  if (!decoded) return decoded.error();
  set_kubelet_defaults(decoded->config);
  // evictionHard has no versioned default (it is OS-specific); the kubelet fills it when absent.
  if (!decoded->config.eviction_hard) decoded->config.eviction_hard = default_eviction_hard();
  return decoded;
}

Status merge_kubelet_config_dir(const std::string& dir, KubeletConfiguration& c, std::vector<std::string>& warnings) {
  // A directory walk in lexical order of names, descending into subdirectories where they sort.
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::function<void(const std::filesystem::path&)> walk = [&](const std::filesystem::path& d) {
    std::vector<std::filesystem::directory_entry> entries;
    for (auto it = std::filesystem::directory_iterator(d, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
      entries.push_back(*it);
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
    for (const auto& e : entries) {
      if (ec) return;
      std::error_code sec;
      if (e.is_directory(sec)) walk(e.path());
      else if (e.path().extension() == ".conf") files.push_back(e.path());
    }
  };
  walk(dir);
  if (ec) return Error(dir + ": cannot read drop-in directory: " + ec.message());
  for (const auto& f : files) {
    auto text = read_file(f.string());
    if (!text) return text.error();
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) continue;  // an empty drop-in changes nothing
    if (auto st = merge_kubelet_config(*text, f.string(), c, warnings); !st) return st;
  }
  return {};
}

std::string encode_kubelet_config(const KubeletConfiguration& c) {
  return encode_document(c, kKubeletConfigAPIVersion, kKubeletConfigKind);
}

}  // namespace knode::config
