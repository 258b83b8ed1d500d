// KubeletConfiguration: kubeadm's file end to end, every default, decoding rules, drop-ins and
// validation errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config/kubelet_config.h"
#include "config/yaml_decode.h"

using namespace knode::config;

namespace {

const std::string kFixtures = std::string(KNODE_SOURCE_DIR) + "/test/fixtures/kubelet/";
const std::string kHeader = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

std::string slurp(const std::string& path) {
  auto r = read_file(path);
  REQUIRE(r.ok());
  return *r;
}

KubeletConfiguration decode_defaulted(const std::string& body) {
  auto d = decode_kubelet_config(kHeader + body, "k.yaml");
  INFO(body);
  REQUIRE(d.ok());
  set_kubelet_defaults(d->config);
  return d->config;
}

std::string decode_error(const std::string& text) {
  auto d = decode_kubelet_config(text, "k.yaml");
  REQUIRE_FALSE(d.ok());
  return d.error().message();
}

std::string validation_error(const std::string& body) {
  KubeletConfiguration c = decode_defaulted(body);
  auto e = validate_kubelet_config(c);
  INFO(body);
  REQUIRE(e.has_value());
  return e->path + ": " + e->message;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("knode-kubelet-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

}  // namespace

TEST_CASE("kubeadm's config.yaml yields upstream's effective configuration", "[kubelet]") {
  auto loaded = load_kubelet_config_file(kFixtures + "kubeadm-config.yaml");
  REQUIRE(loaded.ok());
  CHECK(loaded->warnings.empty());
  const KubeletConfiguration& c = loaded->config;
  REQUIRE_FALSE(validate_kubelet_config(c).has_value());

  // Set by kubeadm.
  CHECK(c.authentication.anonymous.enabled == false);
  CHECK(c.authentication.webhook.enabled == true);
  CHECK(c.authentication.x509.client_ca_file == "/etc/kubernetes/pki/ca.crt");
  CHECK(c.authorization.mode == "Webhook");
  CHECK(c.cgroup_driver == "systemd");
  CHECK(c.cluster_dns == std::vector<std::string>{"10.96.0.10"});
  CHECK(c.cluster_domain == "cluster.local");
  CHECK(c.healthz_bind_address == "127.0.0.1");
  CHECK(c.healthz_port == 10248);
  CHECK(c.rotate_certificates);
  CHECK(c.static_pod_path == "/etc/kubernetes/manifests");
  // kubeadm's "0s" values are unset and get upstream's defaults.
  CHECK(c.authentication.webhook.cache_ttl == Duration::minutes(2));
  CHECK(c.authorization.webhook.cache_authorized_ttl == Duration::minutes(5));
  CHECK(c.authorization.webhook.cache_unauthorized_ttl == Duration::seconds(30));
  CHECK(c.cpu_manager_reconcile_period == Duration::seconds(10));
  CHECK(c.eviction_pressure_transition_period == Duration::minutes(5));
  CHECK(c.file_check_frequency == Duration::seconds(20));
  CHECK(c.http_check_frequency == Duration::seconds(20));
  CHECK(c.image_minimum_gc_age == Duration::minutes(2));
  CHECK(c.image_maximum_gc_age == Duration{0});  // "0s" means disabled, no default
  CHECK(c.node_status_report_frequency == Duration::minutes(5));
  CHECK(c.node_status_update_frequency == Duration::seconds(10));
  CHECK(c.runtime_request_timeout == Duration::minutes(2));
  CHECK(c.shutdown_grace_period == Duration{0});
  CHECK(c.shutdown_grace_period_critical_pods == Duration{0});
  CHECK(c.streaming_connection_idle_timeout == Duration::hours(4));
  CHECK(c.sync_frequency == Duration::minutes(1));
  CHECK(c.volume_stats_agg_period == Duration::minutes(1));
  CHECK(c.container_runtime_endpoint == "unix:///run/containerd/containerd.sock");  // "" → default
  CHECK(c.effective_image_service_endpoint() == "unix:///run/containerd/containerd.sock");
  CHECK(c.logging.flush_frequency.duration == Duration::seconds(5));  // flushFrequency: 0 → 5s
  CHECK(c.logging.flush_frequency.as_string);
  CHECK(c.logging.format == "text");
  CHECK(c.read_only_port == 0);  // not the legacy 10255
  CHECK(c.eviction_hard == default_eviction_hard());
  CHECK_FALSE(c.crash_loop_back_off.max_container_restart_period.has_value());  // gate off in 1.32

  // The printed form, field by field, as upstream prints it.
  CHECK(encode_kubelet_config(c) == slurp(kFixtures + "kubeadm-effective.yaml"));
}

TEST_CASE("every default equals SetDefaults_KubeletConfiguration", "[kubelet]") {
  KubeletConfiguration c;
  set_kubelet_defaults(c);
  CHECK(c.enable_server == true);
  CHECK(c.static_pod_path.empty());
  CHECK(c.pod_logs_dir == "/var/log/pods");
  CHECK(c.sync_frequency == Duration::minutes(1));
  CHECK(c.file_check_frequency == Duration::seconds(20));
  CHECK(c.http_check_frequency == Duration::seconds(20));
  CHECK(c.address == "0.0.0.0");
  CHECK(c.port == 10250);
  CHECK(c.read_only_port == 0);
  CHECK(c.authentication.anonymous.enabled == false);
  CHECK(c.authentication.webhook.enabled == true);
  CHECK(c.authentication.webhook.cache_ttl == Duration::minutes(2));
  CHECK(c.authorization.mode == "Webhook");
  CHECK(c.authorization.webhook.cache_authorized_ttl == Duration::minutes(5));
  CHECK(c.authorization.webhook.cache_unauthorized_ttl == Duration::seconds(30));
  CHECK(c.registry_pull_qps == 5);
  CHECK(c.registry_burst == 10);
  CHECK(c.event_record_qps == 50);
  CHECK(c.event_burst == 100);
  CHECK(c.enable_debugging_handlers == true);
  CHECK(c.enable_contention_profiling == false);
  CHECK(c.healthz_port == 10248);
  CHECK(c.healthz_bind_address == "127.0.0.1");
  CHECK(c.oom_score_adj == -999);
  CHECK(c.cluster_dns.empty());
  CHECK(c.streaming_connection_idle_timeout == Duration::hours(4));
  CHECK(c.node_status_update_frequency == Duration::seconds(10));
  CHECK(c.node_status_report_frequency == Duration::minutes(5));
  CHECK(c.node_lease_duration_seconds == 40);
  CHECK(c.image_minimum_gc_age == Duration::minutes(2));
  CHECK(c.image_maximum_gc_age == Duration{0});
  CHECK(c.image_gc_high_threshold_percent == 85);
  CHECK(c.image_gc_low_threshold_percent == 80);
  CHECK(c.volume_stats_agg_period == Duration::minutes(1));
  CHECK(c.cgroups_per_qos == true);
  CHECK(c.cgroup_driver == "cgroupfs");
  CHECK(c.cpu_manager_policy == "none");
  CHECK(c.cpu_manager_reconcile_period == Duration::seconds(10));
  CHECK(c.memory_manager_policy == "None");
  CHECK(c.topology_manager_policy == "none");
  CHECK(c.topology_manager_scope == "container");
  CHECK(c.runtime_request_timeout == Duration::minutes(2));
  CHECK(c.hairpin_mode == "promiscuous-bridge");
  CHECK(c.max_pods == 110);
  CHECK(c.pod_pids_limit == -1);
  CHECK(c.resolv_conf == std::optional<std::string>("/etc/resolv.conf"));
  CHECK(c.cpu_cfs_quota == true);
  CHECK(c.cpu_cfs_quota_period == Duration::milliseconds(100));
  CHECK(c.node_status_max_images == 50);
  CHECK(c.max_open_files == 1000000);
  CHECK(c.content_type == "application/vnd.kubernetes.protobuf");
  CHECK(c.kube_api_qps == 50);
  CHECK(c.kube_api_burst == 100);
  CHECK(c.serialize_image_pulls == true);
  CHECK_FALSE(c.max_parallel_image_pulls.has_value());
  CHECK_FALSE(c.eviction_hard.has_value());  // filled by the config-file loader only
  CHECK(c.eviction_pressure_transition_period == Duration::minutes(5));
  CHECK(c.enable_controller_attach_detach == true);
  CHECK(c.make_iptables_util_chains == true);
  CHECK(c.iptables_masquerade_bit == 14);
  CHECK(c.iptables_drop_bit == 15);
  CHECK(c.fail_swap_on == true);
  CHECK(c.container_log_max_size == "10Mi");
  CHECK(c.container_log_max_files == 5);
  CHECK(c.container_log_max_workers == 1);
  CHECK(c.container_log_monitor_interval == Duration::seconds(10));
  CHECK(c.config_map_and_secret_change_detection_strategy == "Watch");
  CHECK(c.enforce_node_allocatable == std::vector<std::string>{"pods"});
  CHECK(c.volume_plugin_dir == "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/");
  CHECK(c.logging.format == "text");
  CHECK(c.logging.flush_frequency.duration == Duration::seconds(5));
  CHECK(c.logging.verbosity == 0);
  CHECK(c.enable_system_log_handler == true);
  CHECK_FALSE(c.enable_system_log_query.has_value());
  CHECK(c.enable_profiling_handler == true);
  CHECK(c.enable_debug_flags_handler == true);
  CHECK(c.seccomp_default == false);
  CHECK(c.fail_cgroup_v1 == false);
  CHECK(c.memory_throttling_factor == 0.9);
  CHECK(c.register_node == true);
  CHECK(c.local_storage_capacity_isolation == true);
  CHECK(c.container_runtime_endpoint == "unix:///run/containerd/containerd.sock");
  CHECK(c.image_service_endpoint.empty());
  CHECK_FALSE(c.tracing.has_value());
  CHECK_FALSE(c.user_namespaces.has_value());
  CHECK_FALSE(c.single_process_oom_kill.has_value());
  CHECK_FALSE(validate_kubelet_config(c).has_value());
}

TEST_CASE("defaulting tells unset from zero as upstream's pointers do", "[kubelet]") {
  auto c = decode_defaulted("healthzPort: 0\nregistryPullQPS: 0\nimageGCLowThresholdPercent: 0\nport: 0\n"
                            "eventBurst: 0\nreadOnlyPort: 0\nenforceNodeAllocatable: []\nevictionHard: {}\n");
  CHECK(c.healthz_port == 0);       // *int32 set to 0 stays 0 (disabled)
  CHECK(c.registry_pull_qps == 0);  // 0 = no limit
  CHECK(c.image_gc_low_threshold_percent == 0);
  CHECK(c.port == 10250);       // plain int32 zero is "unset"
  CHECK(c.event_burst == 100);
  CHECK(c.read_only_port == 0);
  CHECK(c.enforce_node_allocatable == std::vector<std::string>{});  // empty, not defaulted
  CHECK(c.eviction_hard == std::map<std::string, std::string>{});

  auto n = decode_defaulted("healthzPort: null\nenforceNodeAllocatable: null\nresolvConf: \"\"\npodPidsLimit: -5\n");
  CHECK(n.healthz_port == 10248);
  CHECK(n.enforce_node_allocatable == std::vector<std::string>{"pods"});
  CHECK(n.resolv_conf == std::optional<std::string>(""));  // "" disables DNS, kept
  CHECK(n.pod_pids_limit == -1);                            // negative → -1

  // nodeStatusReportFrequency follows an explicit nodeStatusUpdateFrequency.
  auto r = decode_defaulted("nodeStatusUpdateFrequency: 20s\n");
  CHECK(r.node_status_report_frequency == Duration::seconds(20));
  // serializeImagePulls follows maxParallelImagePulls.
  CHECK(decode_defaulted("maxParallelImagePulls: 5\n").serialize_image_pulls == false);
  CHECK(decode_defaulted("maxParallelImagePulls: 1\n").serialize_image_pulls == true);
  // crashLoopBackOff is defaulted only with its feature gate.
  auto g = decode_defaulted("featureGates:\n  KubeletCrashLoopBackOffMax: true\n");
  CHECK(g.crash_loop_back_off.max_container_restart_period == Duration::seconds(300));
  // logging.flushFrequency keeps its spelling: integer nanoseconds or a duration string.
  auto l = decode_defaulted("logging:\n  flushFrequency: 1000000000\n");
  CHECK(l.logging.flush_frequency.duration == Duration::seconds(1));
  CHECK(encode_kubelet_config(l).find("  flushFrequency: 1000000000\n") != std::string::npos);
}

TEST_CASE("every field decodes and prints back", "[kubelet]") {
  const std::string body = R"(address: 10.0.0.1
allowedUnsafeSysctls: [net.core.somaxconn]
cgroupRoot: /
cpuManagerPolicy: static
cpuManagerPolicyOptions: {full-pcpus-only: "true"}
enableSystemLogQuery: false
evictionMaxPodGracePeriod: 30
evictionMinimumReclaim: {imagefs.available: 2Gi}
evictionSoft: {memory.available: 1Gi}
evictionSoftGracePeriod: {memory.available: 1m30s}
imageServiceEndpoint: unix:///run/crio/crio.sock
kernelMemcgNotification: true
kubeReserved: {cpu: 100m}
kubeletCgroups: /kubelet
logging:
  vmodule:
  - filePattern: pod*
    verbosity: 4
memoryThrottlingFactor: 0.5
podCIDR: 10.244.0.0/24
podsPerCore: 10
protectKernelDefaults: true
providerID: aws:///i-1
qosReserved: {memory: 50%}
registerWithTaints:
- key: node-role.kubernetes.io/control-plane
  effect: NoSchedule
reservedMemory:
- numaNode: 0
  limits:
    memory: 1Gi
reservedSystemCPUs: 0-1
runOnce: false
showHiddenMetricsForVersion: "1.31"
shutdownGracePeriodByPodPriority:
- priority: 100
  shutdownGracePeriodSeconds: 10
singleProcessOOMKill: true
staticPodURL: http://example/pods
staticPodURLHeader: {X-A: [a, b]}
systemReserved: {memory: 500Mi}
tlsCipherSuites: [TLS_AES_128_GCM_SHA256]
tlsMinVersion: VersionTLS12
topologyManagerPolicyOptions: {prefer-closest-numa-nodes: "true"}
tracing: {endpoint: "localhost:4317", samplingRatePerMillion: 100}
userNamespaces: {idsPerPod: 65536}
)";
  KubeletConfiguration c = decode_defaulted(body);
  CHECK_FALSE(validate_kubelet_config(c).has_value());
  CHECK(c.reserved_memory.at(0).limits.at("memory").string() == "1Gi");
  CHECK(c.static_pod_url_header.at("X-A") == std::vector<std::string>{"a", "b"});
  CHECK(c.register_with_taints.at(0).effect == "NoSchedule");
  CHECK(c.tracing->sampling_rate_per_million == 100);
  CHECK(c.user_namespaces->ids_per_pod == 65536);
  CHECK(c.single_process_oom_kill == true);
  CHECK(c.logging.vmodule.at(0).file_pattern == "pod*");
  // Round trip: the printed configuration decodes to the same printed configuration.
  const std::string once = encode_kubelet_config(c);
  auto again = decode_kubelet_config(once, "printed.yaml");
  REQUIRE(again.ok());
  CHECK(again->warnings.empty());
  CHECK(encode_kubelet_config(again->config) == once);
  CHECK(once.find("registerWithTaints:\n- effect: NoSchedule\n  key: node-role.kubernetes.io/control-plane\n") !=
        std::string::npos);
  CHECK(once.find("showHiddenMetricsForVersion: \"1.31\"\n") != std::string::npos);
}

TEST_CASE("JSON configuration files decode", "[kubelet]") {
  auto d = decode_kubelet_config(
      R"({"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","maxPods":42,"clusterDNS":["10.0.0.10"],"authentication":{"webhook":{"cacheTTL":"30s"}}})",
      "k.json");
  REQUIRE(d.ok());
  CHECK(d->config.max_pods == 42);
  CHECK(d->config.authentication.webhook.cache_ttl == Duration::seconds(30));
}

TEST_CASE("decoding errors name file, field and value", "[kubelet]") {
  CHECK(decode_error(kHeader + "nodeStatusUpdateFrequency: 10x\n") ==
        "k.yaml: nodeStatusUpdateFrequency: invalid duration \"10x\"");
  CHECK(decode_error(kHeader + "authentication:\n  webhook:\n    cacheTTL: soon\n") ==
        "k.yaml: authentication.webhook.cacheTTL: invalid duration \"soon\"");
  CHECK(decode_error(kHeader + "maxPods: many\n") == "k.yaml: maxPods: invalid integer \"many\"");
  CHECK(decode_error(kHeader + "maxPods: 3000000000\n") == "k.yaml: maxPods: integer out of range \"3000000000\"");
  CHECK(decode_error(kHeader + "failSwapOn: nope\n") == "k.yaml: failSwapOn: invalid boolean \"nope\"");
  CHECK(decode_error(kHeader + "reservedMemory:\n- numaNode: 0\n  limits:\n    memory: 1GB\n") ==
        "k.yaml: reservedMemory[0].limits[memory]: invalid quantity \"1GB\"");
  CHECK(decode_error(kHeader + "clusterDNS: 10.0.0.10\n") == "k.yaml: clusterDNS: expected a list, got \"10.0.0.10\"");
  CHECK(decode_error(kHeader + "featureGates:\n  Foo: maybe\n") == "k.yaml: featureGates[Foo]: invalid boolean \"maybe\"");
  CHECK(decode_error("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n") ==
        "k.yaml: kind: unsupported kind \"KubeProxyConfiguration\", want \"KubeletConfiguration\"");
  CHECK(decode_error("apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n") ==
        "k.yaml: apiVersion: unsupported apiVersion \"kubelet.config.k8s.io/v1alpha1\", want "
        "\"kubelet.config.k8s.io/v1beta1\"");
  CHECK(decode_error("kind: KubeletConfiguration\n") ==
        "k.yaml: apiVersion: missing, want \"kubelet.config.k8s.io/v1beta1\"");
  CHECK(decode_error("maxPods: 3\n") == "k.yaml: kind: missing, want \"KubeletConfiguration\"");
  CHECK(decode_error("") == "k.yaml: file is empty");
  CHECK(decode_error(kHeader + "maxPods: [1\n").starts_with("k.yaml: invalid YAML: line 4, column 1: end of sequence flow not found"));
}

TEST_CASE("unknown and duplicate fields decode leniently with a warning", "[kubelet]") {
  auto d = decode_kubelet_config(kHeader + "maxPods: 10\nfutureField: 1\nauthentication:\n  oidc: {}\nmaxPods: 12\n",
                                 "k.yaml");
  REQUIRE(d.ok());
  CHECK(d->config.max_pods == 12);
  REQUIRE(d->warnings.size() == 1);
  CHECK(d->warnings[0] ==
        "k.yaml: using lenient decoding as strict decoding failed: unknown field \"authentication.oidc\", "
        "unknown field \"futureField\", duplicate field \"maxPods\"");
}

TEST_CASE("drop-ins merge in lexical order over the file", "[kubelet]") {
  auto loaded = load_kubelet_config_file(kFixtures + "kubeadm-config.yaml");
  REQUIRE(loaded.ok());
  KubeletConfiguration c = loaded->config;
  std::vector<std::string> warnings;
  REQUIRE(merge_kubelet_config_dir(kFixtures + "drop-ins", c, warnings).ok());
  CHECK(warnings.empty());
  CHECK(c.max_pods == 60);                   // 20-auth.conf wins over 10-eviction.conf; README.txt ignored
  CHECK(c.address == "192.168.0.8");
  CHECK(c.cluster_dns == std::vector<std::string>{"10.96.0.11", "10.96.0.12"});  // lists replaced
  CHECK(c.eviction_hard->at("memory.available") == "200Mi");                      // maps merged per key
  CHECK(c.eviction_hard->at("nodefs.available") == "10%");
  CHECK(c.eviction_hard->size() == 5);
  CHECK(c.feature_gates == std::map<std::string, bool>{{"NodeSwap", false}});
  CHECK(c.authorization.webhook.cache_authorized_ttl == Duration::minutes(8));     // structs merged per field
  CHECK(c.authorization.webhook.cache_unauthorized_ttl == Duration::seconds(30));
  CHECK(c.authorization.mode == "Webhook");
  CHECK_FALSE(validate_kubelet_config(c).has_value());

  TempDir dir;
  dir.write("b.conf", kHeader + "port: 0\n");          // explicit values override, without re-defaulting
  dir.write("a/z.conf", kHeader + "port: 1\n");        // subdirectories are walked in name order
  dir.write("empty.conf", "");
  KubeletConfiguration d = loaded->config;
  REQUIRE(merge_kubelet_config_dir(dir.path.string(), d, warnings).ok());
  CHECK(d.port == 0);
  dir.write("c.conf", kHeader + "syncFrequency: 1q\n");
  auto st = merge_kubelet_config_dir(dir.path.string(), d, warnings);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == (dir.path / "c.conf").string() + ": syncFrequency: invalid duration \"1q\"");
  dir.write("c.conf", "apiVersion: v1\nkind: KubeletConfiguration\n");
  CHECK(merge_kubelet_config_dir(dir.path.string(), d, warnings).message().ends_with(
      "c.conf: apiVersion: unsupported apiVersion \"v1\", want \"kubelet.config.k8s.io/v1beta1\""));
  dir.write("c.conf", kHeader + "unknownThing: 1\n");
  warnings.clear();
  REQUIRE(merge_kubelet_config_dir(dir.path.string(), d, warnings).ok());
  CHECK(warnings == std::vector<std::string>{(dir.path / "c.conf").string() + ": unknown field \"unknownThing\" ignored"});
  CHECK_FALSE(merge_kubelet_config_dir((dir.path / "missing").string(), d, warnings).ok());
}

TEST_CASE("validation names the field and the bad value", "[kubelet]") {
  CHECK(validation_error("port: 70000\n") == "port: invalid value \"70000\": must be between 1 and 65535, inclusive");
  CHECK(validation_error("readOnlyPort: -1\n") ==
        "readOnlyPort: invalid value \"-1\": must be between 0 and 65535, inclusive");
  CHECK(validation_error("healthzPort: 65536\n") ==
        "healthzPort: invalid value \"65536\": must be between 1 and 65535, inclusive");
  CHECK(validation_error("imageGCHighThresholdPercent: 101\n") ==
        "imageGCHighThresholdPercent: invalid value \"101\": must be between 0 and 100, inclusive");
  CHECK(validation_error("imageGCHighThresholdPercent: 70\nimageGCLowThresholdPercent: 75\n") ==
        "imageGCLowThresholdPercent: invalid value \"75\": must be less than imageGCHighThresholdPercent 70");
  CHECK(validation_error("nodeLeaseDurationSeconds: -1\n") ==
        "nodeLeaseDurationSeconds: invalid value \"-1\": must be greater than 0");
  CHECK(validation_error("cgroupDriver: openrc\n") ==
        "cgroupDriver: invalid value \"openrc\": must be \"cgroupfs\" or \"systemd\"");
  CHECK(validation_error("evictionHard: {memory.free: 1Gi}\n") ==
        "evictionHard[memory.free]: unsupported eviction signal \"memory.free\"");
  CHECK(validation_error("evictionHard: {memory.available: lots}\n").starts_with(
      "evictionHard[memory.available]: invalid value \"lots\": quantities must match"));
  CHECK(validation_error("evictionHard: {nodefs.available: 120%}\n") ==
        "evictionHard[nodefs.available]: invalid value \"120%\": eviction percentage threshold must be <= 100%");
  CHECK(validation_error("evictionHard: {memory.available: -1Mi}\n") ==
        "evictionHard[memory.available]: invalid value \"-1Mi\": eviction threshold must be positive");
  CHECK(validation_error("evictionSoft: {memory.available: 1Gi}\n") ==
        "evictionSoft[memory.available]: invalid value \"1Gi\": a soft eviction threshold needs a grace period in "
        "evictionSoftGracePeriod");
  CHECK(validation_error("oomScoreAdj: -1001\n") ==
        "oomScoreAdj: invalid value \"-1001\": must be between -1000 and 1000, inclusive");
  CHECK(validation_error("maxPods: -1\n") == "maxPods: invalid value \"-1\": must not be a negative number");
  CHECK(validation_error("hairpinMode: magic\n").starts_with("hairpinMode: invalid value \"magic\""));
  CHECK(validation_error("topologyManagerScope: node\n").starts_with("topologyManagerScope: invalid value \"node\""));
  CHECK(validation_error("authorization: {mode: RBAC}\n") ==
        "authorization.mode: invalid value \"RBAC\": must be \"AlwaysAllow\" or \"Webhook\"");
  CHECK(validation_error("enforceNodeAllocatable: [pods, kube-reserved]\n") ==
        "enforceNodeAllocatable[1]: invalid value \"kube-reserved\": kubeReservedCgroup (--kube-reserved-cgroup) "
        "must be specified");
  CHECK(validation_error("cgroupsPerQOS: false\n") ==
        "enforceNodeAllocatable[0]: invalid value \"pods\": cgroupsPerQOS (--cgroups-per-qos) must be set to true");
  CHECK(validation_error("cpuCFSQuotaPeriod: 50ms\n") ==
        "cpuCFSQuotaPeriod: invalid value \"50ms\": requires feature gate CustomCPUCFSQuotaPeriod");
  CHECK(validation_error("shutdownGracePeriod: 10s\nshutdownGracePeriodCriticalPods: 20s\n") ==
        "shutdownGracePeriodCriticalPods: invalid value \"20s\": must be <= shutdownGracePeriod 10s");
  CHECK(validation_error("memoryThrottlingFactor: 1.5\n") ==
        "memoryThrottlingFactor: invalid value \"1.5\": must be greater than 0 and less than or equal to 1.0");
  CHECK(validation_error("registerWithTaints:\n- key: a\n  effect: Sometimes\n").starts_with(
      "registerWithTaints[0].effect: invalid value \"Sometimes\""));
  CHECK(validation_error("logging: {format: xml}\n") ==
        "logging.format: Unsupported value: \"xml\": supported values: \"json\", \"text\"");
  CHECK(validation_error("containerLogMaxFiles: 1\n") ==
        "containerLogMaxFiles: invalid value \"1\": must be greater than 1");
  CHECK(validation_error("podLogsDir: var/log\n") == "podLogsDir: invalid value \"var/log\": must be an absolute path");
  CHECK(validation_error("maxParallelImagePulls: 3\nserializeImagePulls: true\n").starts_with(
      "maxParallelImagePulls: invalid value \"3\": cannot be larger than 1"));
  CHECK(validation_error("systemCgroups: /system\n").starts_with("systemCgroups:"));
  CHECK(validation_error("reservedSystemCPUs: 3-1\n") == "reservedSystemCPUs: invalid value \"3-1\": not a CPU list");
  CHECK(validation_error("memorySwap: {swapBehavior: Unlimited}\n").starts_with(
      "memorySwap.swapBehavior: invalid value \"Unlimited\""));
}
