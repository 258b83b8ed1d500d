// KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as of Kubernetes 1.32: every field of the
// versioned type, upstream's defaults (SetDefaults_KubeletConfiguration), validation
// (ValidateKubeletConfiguration plus the startup checks of eviction thresholds and the cgroup
// driver), strict-then-lenient decoding, --config-dir drop-ins and YAML encoding.
//
// Fields that upstream declares as pointers are std::optional here, so that defaulting can tell
// "unset" from "zero"; after set_kubelet_defaults() every optional field that has a default holds
// a value. Field names are the YAML names in snake_case.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "config/duration.h"
#include "config/field_flags.h"
#include "config/logging_config.h"
#include "config/quantity.h"

namespace knode::config {

inline constexpr std::string_view kKubeletConfigAPIVersion = "kubelet.config.k8s.io/v1beta1";
inline constexpr std::string_view kKubeletConfigKind = "KubeletConfiguration";

struct KubeletX509Authentication {
  std::string client_ca_file;  // clientCAFile
};
struct KubeletWebhookAuthentication {
  std::optional<bool> enabled;
  Duration cache_ttl;  // cacheTTL
};
struct KubeletAnonymousAuthentication {
  std::optional<bool> enabled;
};
struct KubeletAuthentication {
  KubeletX509Authentication x509;
  KubeletWebhookAuthentication webhook;
  KubeletAnonymousAuthentication anonymous;
};
struct KubeletWebhookAuthorization {
  Duration cache_authorized_ttl;    // cacheAuthorizedTTL
  Duration cache_unauthorized_ttl;  // cacheUnauthorizedTTL
};
struct KubeletAuthorization {
  std::string mode;  // "AlwaysAllow" | "Webhook"
  KubeletWebhookAuthorization webhook;
};
struct MemorySwapConfiguration {
  std::string swap_behavior;  // swapBehavior: "" | "NoSwap" | "LimitedSwap"
};
struct ShutdownGracePeriodByPodPriority {
  int32_t priority = 0;
  int64_t shutdown_grace_period_seconds = 0;
};
struct CrashLoopBackOffConfig {
  std::optional<Duration> max_container_restart_period;
};
struct MemoryReservation {
  int32_t numa_node = 0;
  std::map<std::string, Quantity> limits;
};
struct Taint {
  std::string key;
  std::string value;
  std::string effect;      // NoSchedule | PreferNoSchedule | NoExecute
  std::string time_added;  // timeAdded (must be unset in a config)
};
struct TracingConfiguration {
  std::optional<std::string> endpoint;
  std::optional<int32_t> sampling_rate_per_million;
};
struct UserNamespaces {
  std::optional<int64_t> ids_per_pod;
};

struct KubeletConfiguration {
  std::optional<bool> enable_server;
  std::string static_pod_path;
  std::string pod_logs_dir;
  Duration sync_frequency;
  Duration file_check_frequency;
  Duration http_check_frequency;
  std::string static_pod_url;
  std::map<std::string, std::vector<std::string>> static_pod_url_header;
  std::string address;
  int32_t port = 0;
  int32_t read_only_port = 0;
  std::string tls_cert_file;
  std::string tls_private_key_file;
  std::vector<std::string> tls_cipher_suites;
  std::string tls_min_version;
  bool rotate_certificates = false;
  bool server_tls_bootstrap = false;
  KubeletAuthentication authentication;
  KubeletAuthorization authorization;
  std::optional<int32_t> registry_pull_qps;
  int32_t registry_burst = 0;
  std::optional<int32_t> event_record_qps;
  int32_t event_burst = 0;
  std::optional<bool> enable_debugging_handlers;
  bool enable_contention_profiling = false;
  std::optional<int32_t> healthz_port;
  std::string healthz_bind_address;
  std::optional<int32_t> oom_score_adj;
  std::string cluster_domain;
  std::vector<std::string> cluster_dns;
  Duration streaming_connection_idle_timeout;
  Duration node_status_update_frequency;
  Duration node_status_report_frequency;
  int32_t node_lease_duration_seconds = 0;
  Duration image_minimum_gc_age;
  Duration image_maximum_gc_age;
  std::optional<int32_t> image_gc_high_threshold_percent;
  std::optional<int32_t> image_gc_low_threshold_percent;
  Duration volume_stats_agg_period;
  std::string kubelet_cgroups;
  std::string system_cgroups;
  std::string cgroup_root;
  std::optional<bool> cgroups_per_qos;
  std::string cgroup_driver;
  std::string cpu_manager_policy;
  std::optional<bool> single_process_oom_kill;
  std::map<std::string, std::string> cpu_manager_policy_options;
  Duration cpu_manager_reconcile_period;
  std::string memory_manager_policy;
  std::string topology_manager_policy;
  std::string topology_manager_scope;
  std::map<std::string, std::string> topology_manager_policy_options;
  std::map<std::string, std::string> qos_reserved;
  Duration runtime_request_timeout;
  std::string hairpin_mode;
  int32_t max_pods = 0;
  std::string pod_cidr;
  std::optional<int64_t> pod_pids_limit;
  std::optional<std::string> resolv_conf;
  bool run_once = false;
  std::optional<bool> cpu_cfs_quota;
  std::optional<Duration> cpu_cfs_quota_period;
  std::optional<int32_t> node_status_max_images;
  int64_t max_open_files = 0;
  std::string content_type;
  std::optional<int32_t> kube_api_qps;
  int32_t kube_api_burst = 0;
  std::optional<bool> serialize_image_pulls;
  std::optional<int32_t> max_parallel_image_pulls;
  // Absent (nullopt) gets the default thresholds; an empty map disables them.
  std::optional<std::map<std::string, std::string>> eviction_hard;
  std::map<std::string, std::string> eviction_soft;
  std::map<std::string, std::string> eviction_soft_grace_period;
  Duration eviction_pressure_transition_period;
  int32_t eviction_max_pod_grace_period = 0;
  std::map<std::string, std::string> eviction_minimum_reclaim;
  int32_t pods_per_core = 0;
  std::optional<bool> enable_controller_attach_detach;
  bool protect_kernel_defaults = false;
  std::optional<bool> make_iptables_util_chains;
  std::optional<int32_t> iptables_masquerade_bit;
  std::optional<int32_t> iptables_drop_bit;
  std::map<std::string, bool> feature_gates;
  std::optional<bool> fail_swap_on;
  MemorySwapConfiguration memory_swap;
  std::string container_log_max_size;
  std::optional<int32_t> container_log_max_files;
  std::optional<int32_t> container_log_max_workers;
  std::optional<Duration> container_log_monitor_interval;
  std::string config_map_and_secret_change_detection_strategy;
  std::map<std::string, std::string> system_reserved;
  std::map<std::string, std::string> kube_reserved;
  std::string reserved_system_cpus;
  std::string show_hidden_metrics_for_version;
  std::string system_reserved_cgroup;
  std::string kube_reserved_cgroup;
  // Absent (nullopt) defaults to ["pods"]; an empty list enforces nothing.
  std::optional<std::vector<std::string>> enforce_node_allocatable;
  std::vector<std::string> allowed_unsafe_sysctls;
  std::string volume_plugin_dir;
  std::string provider_id;
  bool kernel_memcg_notification = false;
  LoggingConfiguration logging;
  std::optional<bool> enable_system_log_handler;
  std::optional<bool> enable_system_log_query;
  Duration shutdown_grace_period;
  Duration shutdown_grace_period_critical_pods;
  std::vector<ShutdownGracePeriodByPodPriority> shutdown_grace_period_by_pod_priority;
  CrashLoopBackOffConfig crash_loop_back_off;
  std::vector<MemoryReservation> reserved_memory;
  std::optional<bool> enable_profiling_handler;
  std::optional<bool> enable_debug_flags_handler;
  std::optional<bool> seccomp_default;
  std::optional<double> memory_throttling_factor;
  std::vector<Taint> register_with_taints;
  std::optional<bool> register_node;
  std::optional<TracingConfiguration> tracing;
  std::optional<bool> local_storage_capacity_isolation;
  std::string container_runtime_endpoint;
  std::string image_service_endpoint;  // "" → containerRuntimeEndpoint (at use time)
  std::optional<bool> fail_cgroup_v1;
  std::optional<UserNamespaces> user_namespaces;

  // imageServiceEndpoint, or containerRuntimeEndpoint when unset.
  const std::string& effective_image_service_endpoint() const {
    return image_service_endpoint.empty() ? container_runtime_endpoint : image_service_endpoint;
  }
};

// The default hard eviction thresholds (Linux), applied when evictionHard is absent.
std::map<std::string, std::string> default_eviction_hard();

// SetDefaults_KubeletConfiguration for v1beta1.
void set_kubelet_defaults(KubeletConfiguration& c);
// The baseline without --config: upstream's defaults with the legacy command-line defaults on top
// (anonymous auth on, webhook authn off, AlwaysAllow, readOnlyPort 10255).
KubeletConfiguration kubelet_flag_defaults();

// A validation failure: the YAML field path and a message that includes the bad value.
struct FieldError {
  std::string path;
  std::string message;
};
// ValidateKubeletConfiguration for the fields the agent uses, plus eviction thresholds and
// cgroupDriver; returns the first problem.
std::optional<FieldError> validate_kubelet_config(const KubeletConfiguration& c);

struct DecodedKubeletConfig {
  KubeletConfiguration config;
  std::vector<std::string> warnings;  // lenient decoding: unknown or duplicate fields
};
// Decodes a KubeletConfiguration document (strictly; unknown/duplicate fields only warn, as
// upstream's lenient fallback) without defaulting. `file` names the source in messages.
Result<DecodedKubeletConfig> decode_kubelet_config(std::string_view text, std::string_view file);
// Decodes text as a drop-in onto `into`: only the fields present change it, maps merge per key,
// lists are replaced (upstream's JSON merge of --config-dir files).
Status merge_kubelet_config(std::string_view text, std::string_view file, KubeletConfiguration& into,
                            std::vector<std::string>& warnings);
// Reads, decodes and defaults a --config file (also applying the default evictionHard).
Result<DecodedKubeletConfig> load_kubelet_config_file(const std::string& path);
// Merges every *.conf file of dir, in lexical order, into c.
Status merge_kubelet_config_dir(const std::string& dir, KubeletConfiguration& c, std::vector<std::string>& warnings);

// YAML with apiVersion and kind, keys sorted, as upstream prints a KubeletConfiguration.
std::string encode_kubelet_config(const KubeletConfiguration& c);

}  // namespace knode::config
