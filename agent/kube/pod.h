// core/v1 Pod as the kubelet uses it: spec (containers, volumes, probes, security), status, and
// the codec, defaulting and validation entry points. Field names follow k8s.io/api core/v1 in
// snake_case; pointer fields upstream are std::optional here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/meta.h"
#include "agent/kube/quantity.h"

namespace knode::kube {

using ResourceList = std::map<std::string, Quantity>;

// ---------------------------------------------------------------- volumes

struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
  bool operator==(const KeyToPath&) const = default;
};

struct HostPathVolumeSource {
  std::string path;
  std::optional<std::string> type;  // "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice
  bool operator==(const HostPathVolumeSource&) const = default;
};

struct EmptyDirVolumeSource {
  std::string medium;  // "" or "Memory"
  std::optional<Quantity> size_limit;
  bool operator==(const EmptyDirVolumeSource&) const = default;
};

struct ConfigMapVolumeSource {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> default_mode;
  std::optional<bool> optional;
  bool operator==(const ConfigMapVolumeSource&) const = default;
};

struct SecretVolumeSource {
  std::string secret_name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> default_mode;
  std::optional<bool> optional;
  bool operator==(const SecretVolumeSource&) const = default;
};

struct ObjectFieldSelector {
  std::string api_version;
  std::string field_path;
  bool operator==(const ObjectFieldSelector&) const = default;
};

struct ResourceFieldSelector {
  std::string container_name;
  std::string resource;
  std::optional<Quantity> divisor;
  bool operator==(const ResourceFieldSelector&) const = default;
};

struct DownwardAPIVolumeFile {
  std::string path;
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<ResourceFieldSelector> resource_field_ref;
  std::optional<int32_t> mode;
  bool operator==(const DownwardAPIVolumeFile&) const = default;
};

struct DownwardAPIVolumeSource {
  std::vector<DownwardAPIVolumeFile> items;
  std::optional<int32_t> default_mode;
  bool operator==(const DownwardAPIVolumeSource&) const = default;
};

struct SecretProjection {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<bool> optional;
  bool operator==(const SecretProjection&) const = default;
};

struct ConfigMapProjection {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<bool> optional;
  bool operator==(const ConfigMapProjection&) const = default;
};

struct DownwardAPIProjection {
  std::vector<DownwardAPIVolumeFile> items;
  bool operator==(const DownwardAPIProjection&) const = default;
};

struct ServiceAccountTokenProjection {
  std::string audience;
  std::optional<int64_t> expiration_seconds;
  std::string path;
  bool operator==(const ServiceAccountTokenProjection&) const = default;
};

struct VolumeProjection {
  std::optional<SecretProjection> secret;
  std::optional<DownwardAPIProjection> downward_api;
  std::optional<ConfigMapProjection> config_map;
  std::optional<ServiceAccountTokenProjection> service_account_token;
  std::map<std::string, RawJson> other;  // clusterTrustBundle, podCertificate, ...
  bool operator==(const VolumeProjection&) const = default;
};

struct ProjectedVolumeSource {
  std::vector<VolumeProjection> sources;
  std::optional<int32_t> default_mode;
  bool operator==(const ProjectedVolumeSource&) const = default;
};

struct Volume {
  std::string name;
  std::optional<HostPathVolumeSource> host_path;
  std::optional<EmptyDirVolumeSource> empty_dir;
  std::optional<SecretVolumeSource> secret;
  std::optional<ConfigMapVolumeSource> config_map;
  std::optional<DownwardAPIVolumeSource> downward_api;
  std::optional<ProjectedVolumeSource> projected;
  // Every other source (persistentVolumeClaim, nfs, csi, ephemeral, image, ...), held as JSON.
  std::map<std::string, RawJson> other;
  bool operator==(const Volume&) const = default;
};

// ---------------------------------------------------------------- containers

struct ContainerPort {
  std::string name;
  int32_t host_port = 0;
  int32_t container_port = 0;
  std::string protocol;  // TCP (default), UDP, SCTP
  std::string host_ip;
  bool operator==(const ContainerPort&) const = default;
};

struct LocalObjectReference {
  std::string name;
  bool operator==(const LocalObjectReference&) const = default;
};

struct ConfigMapEnvSource {
  std::string name;
  std::optional<bool> optional;
  bool operator==(const ConfigMapEnvSource&) const = default;
};
using SecretEnvSource = ConfigMapEnvSource;

struct EnvFromSource {
  std::string prefix;
  std::optional<ConfigMapEnvSource> config_map_ref;
  std::optional<SecretEnvSource> secret_ref;
  bool operator==(const EnvFromSource&) const = default;
};

struct KeySelector {  // ConfigMapKeySelector / SecretKeySelector
  std::string name;
  std::string key;
  std::optional<bool> optional;
  bool operator==(const KeySelector&) const = default;
};

struct EnvVarSource {
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<ResourceFieldSelector> resource_field_ref;
  std::optional<KeySelector> config_map_key_ref;
  std::optional<KeySelector> secret_key_ref;
  bool operator==(const EnvVarSource&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  std::optional<EnvVarSource> value_from;
  bool operator==(const EnvVar&) const = default;
};

struct ResourceRequirements {
  ResourceList limits;
  ResourceList requests;
  RawJson claims;
  bool operator==(const ResourceRequirements&) const = default;
};

struct ContainerResizePolicy {
  std::string resource_name;
  std::string restart_policy;
  bool operator==(const ContainerResizePolicy&) const = default;
};

struct VolumeMount {
  std::string name;
  bool read_only = false;
  std::optional<std::string> recursive_read_only;
  std::string mount_path;
  std::string sub_path;
  std::optional<std::string> mount_propagation;  // None, HostToContainer, Bidirectional
  std::string sub_path_expr;
  bool operator==(const VolumeMount&) const = default;
};

struct VolumeDevice {
  std::string name;
  std::string device_path;
  bool operator==(const VolumeDevice&) const = default;
};

struct ExecAction {
  std::vector<std::string> command;
  bool operator==(const ExecAction&) const = default;
};

struct HTTPHeader {
  std::string name;
  std::string value;
  bool operator==(const HTTPHeader&) const = default;
};

struct HTTPGetAction {
  std::string path;
  IntOrString port;
  std::string host;
  std::string scheme;  // HTTP (default), HTTPS
  std::vector<HTTPHeader> http_headers;
  bool operator==(const HTTPGetAction&) const = default;
};

struct TCPSocketAction {
  IntOrString port;
  std::string host;
  bool operator==(const TCPSocketAction&) const = default;
};

struct GRPCAction {
  int32_t port = 0;
  std::optional<std::string> service;
  bool operator==(const GRPCAction&) const = default;
};

struct SleepAction {
  int64_t seconds = 0;
  bool operator==(const SleepAction&) const = default;
};

struct LifecycleHandler {
  std::optional<ExecAction> exec;
  std::optional<HTTPGetAction> http_get;
  std::optional<TCPSocketAction> tcp_socket;
  std::optional<SleepAction> sleep;
  bool operator==(const LifecycleHandler&) const = default;
};

struct Lifecycle {
  std::optional<LifecycleHandler> post_start;
  std::optional<LifecycleHandler> pre_stop;
  std::string stop_signal;
  bool operator==(const Lifecycle&) const = default;
};

struct Probe {
  std::optional<ExecAction> exec;
  std::optional<HTTPGetAction> http_get;
  std::optional<TCPSocketAction> tcp_socket;
  std::optional<GRPCAction> grpc;
  int32_t initial_delay_seconds = 0;
  int32_t timeout_seconds = 0;
  int32_t period_seconds = 0;
  int32_t success_threshold = 0;
  int32_t failure_threshold = 0;
  std::optional<int64_t> termination_grace_period_seconds;
  bool operator==(const Probe&) const = default;
};

struct Capabilities {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  bool operator==(const Capabilities&) const = default;
};

struct SELinuxOptions {
  std::string user;
  std::string role;
  std::string type;
  std::string level;
  bool operator==(const SELinuxOptions&) const = default;
};

struct SeccompProfile {
  std::string type;  // RuntimeDefault, Unconfined, Localhost
  std::optional<std::string> localhost_profile;
  bool operator==(const SeccompProfile&) const = default;
};
using AppArmorProfile = SeccompProfile;

struct SecurityContext {
  std::optional<Capabilities> capabilities;
  std::optional<bool> privileged;
  std::optional<SELinuxOptions> se_linux_options;
  RawJson windows_options;  // held, ignored on Linux
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::optional<bool> read_only_root_filesystem;
  std::optional<bool> allow_privilege_escalation;
  std::optional<std::string> proc_mount;  // Default, Unmasked
  std::optional<SeccompProfile> seccomp_profile;
  std::optional<AppArmorProfile> app_armor_profile;
  bool operator==(const SecurityContext&) const = default;
};

struct Container {
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;
  std::vector<ContainerPort> ports;
  std::vector<EnvFromSource> env_from;
  std::vector<EnvVar> env;
  ResourceRequirements resources;
  std::vector<ContainerResizePolicy> resize_policy;
  std::optional<std::string> restart_policy;  // "Always" makes an init container a sidecar
  std::vector<VolumeMount> volume_mounts;
  std::vector<VolumeDevice> volume_devices;
  std::optional<Probe> liveness_probe;
  std::optional<Probe> readiness_probe;
  std::optional<Probe> startup_probe;
  std::optional<Lifecycle> lifecycle;
  std::string termination_message_path;
  std::string termination_message_policy;  // File, FallbackToLogsOnError
  std::string image_pull_policy;           // Always, Never, IfNotPresent
  std::optional<SecurityContext> security_context;
  bool stdin_ = false;  // "stdin" (renamed: stdin is a libc macro)
  bool stdin_once = false;
  bool tty = false;
  bool operator==(const Container&) const = default;
};

// ---------------------------------------------------------------- pod spec

struct Sysctl {
  std::string name;
  std::string value;
  bool operator==(const Sysctl&) const = default;
};

struct PodSecurityContext {
  std::optional<SELinuxOptions> se_linux_options;
  RawJson windows_options;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::vector<int64_t> supplemental_groups;
  std::optional<std::string> supplemental_groups_policy;
  std::optional<int64_t> fs_group;
  std::vector<Sysctl> sysctls;
  std::optional<std::string> fs_group_change_policy;
  std::optional<SeccompProfile> seccomp_profile;
  std::optional<AppArmorProfile> app_armor_profile;
  std::optional<std::string> se_linux_change_policy;
  bool operator==(const PodSecurityContext&) const = default;
};

struct Toleration {
  std::string key;
  std::string operator_;
  std::string value;
  std::string effect;
  std::optional<int64_t> toleration_seconds;
  bool operator==(const Toleration&) const = default;
};

struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
  bool operator==(const HostAlias&) const = default;
};

struct PodDNSConfigOption {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const PodDNSConfigOption&) const = default;
};

struct PodDNSConfig {
  std::vector<std::string> nameservers;
  std::vector<std::string> searches;
  std::vector<PodDNSConfigOption> options;
  bool operator==(const PodDNSConfig&) const = default;
};

struct PodReadinessGate {
  std::string condition_type;
  bool operator==(const PodReadinessGate&) const = default;
};

struct PodOS {
  std::string name;
  bool operator==(const PodOS&) const = default;
};

struct PodSpec {
  std::vector<Volume> volumes;
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  RawJson ephemeral_containers;  // held
  std::string restart_policy;    // Always, OnFailure, Never
  std::optional<int64_t> termination_grace_period_seconds;
  std::optional<int64_t> active_deadline_seconds;
  std::string dns_policy;  // ClusterFirst, ClusterFirstWithHostNet, Default, None
  std::map<std::string, std::string> node_selector;
  std::string service_account_name;
  std::string service_account;  // deprecated alias, kept for round trips
  std::optional<bool> automount_service_account_token;
  std::string node_name;
  bool host_network = false;
  bool host_pid = false;
  bool host_ipc = false;
  std::optional<bool> share_process_namespace;
  std::optional<PodSecurityContext> security_context;
  std::vector<LocalObjectReference> image_pull_secrets;
  std::string hostname;
  std::string subdomain;
  RawJson affinity;  // held
  std::string scheduler_name;
  std::vector<Toleration> tolerations;
  std::vector<HostAlias> host_aliases;
  std::string priority_class_name;
  std::optional<int32_t> priority;
  std::optional<PodDNSConfig> dns_config;
  std::vector<PodReadinessGate> readiness_gates;
  std::optional<std::string> runtime_class_name;
  std::optional<bool> enable_service_links;
  std::optional<std::string> preemption_policy;
  ResourceList overhead;
  RawJson topology_spread_constraints;
  std::optional<bool> set_hostname_as_fqdn;
  std::optional<PodOS> os;
  std::optional<bool> host_users;
  RawJson scheduling_gates;
  RawJson resource_claims;
  std::optional<ResourceRequirements> resources;  // pod-level resources
  bool operator==(const PodSpec&) const = default;
};

// ---------------------------------------------------------------- status

struct PodCondition {
  std::string type;
  std::string status;  // True, False, Unknown
  int64_t observed_generation = 0;
  Time last_probe_time;
  Time last_transition_time;
  std::string reason;
  std::string message;
  bool operator==(const PodCondition&) const = default;
};

struct ContainerStateWaiting {
  std::string reason;
  std::string message;
  bool operator==(const ContainerStateWaiting&) const = default;
};

struct ContainerStateRunning {
  Time started_at;
  bool operator==(const ContainerStateRunning&) const = default;
};

struct ContainerStateTerminated {
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string reason;
  std::string message;
  Time started_at;
  Time finished_at;
  std::string container_id;
  bool operator==(const ContainerStateTerminated&) const = default;
};

struct ContainerState {
  std::optional<ContainerStateWaiting> waiting;
  std::optional<ContainerStateRunning> running;
  std::optional<ContainerStateTerminated> terminated;
  bool operator==(const ContainerState&) const = default;
};

struct ContainerStatus {
  std::string name;
  ContainerState state;
  ContainerState last_state;
  bool ready = false;
  int32_t restart_count = 0;
  std::string image;
  std::string image_id;
  std::string container_id;
  std::optional<bool> started;
  bool operator==(const ContainerStatus&) const = default;
};

struct PodIP {
  std::string ip;
  bool operator==(const PodIP&) const = default;
};

struct PodStatus {
  int64_t observed_generation = 0;
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  std::vector<PodCondition> conditions;
  std::string message;
  std::string reason;
  std::string nominated_node_name;
  std::string host_ip;
  std::vector<PodIP> host_ips;
  std::string pod_ip;
  std::vector<PodIP> pod_ips;
  Time start_time;
  std::vector<ContainerStatus> init_container_statuses;
  std::vector<ContainerStatus> container_statuses;
  std::string qos_class;
  std::vector<ContainerStatus> ephemeral_container_statuses;
  std::string resize;
  bool operator==(const PodStatus&) const = default;
};

struct Pod {
  std::string api_version;  // "v1" when present
  std::string kind;         // "Pod" when present
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  bool operator==(const Pod&) const = default;
};

// ---------------------------------------------------------------- codec

struct PodDecodeOptions {
  // Static pod manifests must carry apiVersion: v1 and kind: Pod; API objects inside lists don't.
  bool require_type_meta = false;
};

// JSON text.
Result<Pod> decode_pod_json(std::string_view text, PodDecodeOptions opts = {});
// YAML text (YAML 1.1 scalars as upstream's sigs.k8s.io/yaml resolves them).
Result<Pod> decode_pod_yaml(std::string_view text, PodDecodeOptions opts = {});
// Either: a document starting with '{' is JSON, anything else YAML.
Result<Pod> decode_pod(std::string_view text, PodDecodeOptions opts = {});
// Compact JSON (omitempty as upstream's encoding, apiVersion/kind as held).
std::string encode_pod_json(const Pod& pod);
std::string encode_container_json(const Container& c);
std::string encode_container_ports_json(const std::vector<ContainerPort>& ports);
std::string encode_lifecycle_handler_json(const LifecycleHandler& h);

// ---------------------------------------------------------------- defaulting and validation

// Fills the defaults upstream's API defaulting (pkg/apis/core/v1/defaults.go) gives a Pod, for the
// fields the kubelet relies on (a manifest has not been through the API server).
void apply_defaults(Pod& pod);
// The essential checks upstream's ValidatePodCreate makes on what the kubelet runs: names, unique
// container/volume names, ports, images, restart and DNS policies, probes. The error names the
// field: `spec.containers[1].name: Duplicate value: "app"`.
Status validate_pod(const Pod& pod);

// ---------------------------------------------------------------- helpers

// Image pull policy upstream's defaulting derives from the image reference: Always for ":latest"
// or no tag (and no digest), else IfNotPresent.
std::string default_image_pull_policy(std::string_view image);
// True for an init container with restartPolicy: Always (a sidecar).
bool is_sidecar(const Container& c);
// Visits init containers then regular containers (as upstream's VisitContainers without ephemeral).
template <class F> void for_each_container(const PodSpec& spec, F&& f) {
  for (const auto& c : spec.init_containers) f(c);
  for (const auto& c : spec.containers) f(c);
}
const Container* find_container(const PodSpec& spec, std::string_view name);

}  // namespace knode::kube
