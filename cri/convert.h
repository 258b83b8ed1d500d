// Pure converters from a Pod (plus node-level settings) to the CRI's PodSandboxConfig and
// ContainerConfig, matching what upstream's kuberuntime sends (kuberuntime_sandbox.go,
// kuberuntime_container.go, kuberuntime_container_linux.go, labels.go, security_context.go), so
// that tools inspecting containerd recognise our pods and containers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"
#include "api.pb.h"
#include "cri/convert_dns.h"
#include "cri/convert_env.h"
#include "cri/convert_qos.h"

namespace knode::cri {

// Labels and annotations the kubelet puts on sandboxes and containers.
inline constexpr std::string_view kPodNameLabel = "io.kubernetes.pod.name";
inline constexpr std::string_view kPodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr std::string_view kPodUidLabel = "io.kubernetes.pod.uid";
inline constexpr std::string_view kContainerNameLabel = "io.kubernetes.container.name";
inline constexpr std::string_view kContainerHashAnnotation = "io.kubernetes.container.hash";
inline constexpr std::string_view kContainerRestartCountAnnotation = "io.kubernetes.container.restartCount";
inline constexpr std::string_view kTerminationMessagePathAnnotation = "io.kubernetes.container.terminationMessagePath";
inline constexpr std::string_view kTerminationMessagePolicyAnnotation = "io.kubernetes.container.terminationMessagePolicy";
inline constexpr std::string_view kPodDeletionGracePeriodAnnotation = "io.kubernetes.pod.deletionGracePeriod";
inline constexpr std::string_view kPodTerminationGracePeriodAnnotation = "io.kubernetes.pod.terminationGracePeriod";
inline constexpr std::string_view kPreStopHandlerAnnotation = "io.kubernetes.container.preStopHandler";
inline constexpr std::string_view kContainerPortsAnnotation = "io.kubernetes.container.ports";
inline constexpr std::string_view kContainerTypeAnnotation = "io.kubernetes.container.type";

struct NodeSettings {
  DnsSettings dns;
  std::string pod_logs_dir = "/var/log/pods";            // --pod-logs-dir (podLogsDirectory)
  std::string seccomp_profile_root = "/var/lib/kubelet/seccomp";  // <root-dir>/seccomp
  bool seccomp_default = false;                          // --seccomp-default
  CgroupSettings cgroups;
  ResourceSettings resources;
};

// A bind mount for a container (the volume manager resolves volumes to host paths).
struct MountSpec {
  std::string container_path;
  std::string host_path;
  bool read_only = false;
  bool selinux_relabel = false;
  std::string propagation;  // "", None, HostToContainer, Bidirectional (VolumeMount.mountPropagation)
  bool recursive_read_only = false;
};

struct ContainerInputs {
  uint32_t restart_count = 0;  // metadata.attempt, the log file name, the annotation
  std::string image_ref;       // the resolved image (ID or digest ref); container.image if empty
  // The image's user, from the image status, for the runAsNonRoot check.
  std::optional<int64_t> image_uid;
  std::string image_username;
  EnvContext env;
  std::vector<MountSpec> mounts;
  std::vector<int64_t> extra_supplemental_groups;  // e.g. volume GIDs
};

// /var/log/pods/<ns>_<name>_<uid>
std::string pod_log_directory(std::string_view logs_root, const kube::Pod& pod);
// <container>/<restart>.log, relative to the sandbox's log directory.
std::string container_log_path(std::string_view container, uint32_t restart_count);

// Upstream's container hash: fnv-32a over the Go-printed JSON of {"image","name"} — the same
// value upstream's kubelet writes (pkg/kubelet/container.HashContainer, v1.31+), so containers
// started by one are recognised as unchanged by the other.
uint64_t hash_container(const kube::Container& c);

std::map<std::string, std::string> pod_labels(const kube::Pod& pod);
std::map<std::string, std::string> container_labels(const kube::Pod& pod, const kube::Container& c);
std::map<std::string, std::string> container_annotations(const kube::Pod& pod, const kube::Container& c,
                                                         uint32_t restart_count);

// hostPort mappings for every regular container's ports (duplicates by name/family dropped).
std::vector<runtime::v1::PortMapping> port_mappings(const kube::Pod& pod);
runtime::v1::NamespaceOption namespace_options(const kube::Pod& pod);

Result<runtime::v1::PodSandboxConfig> make_sandbox_config(const kube::Pod& pod, uint32_t attempt,
                                                          const NodeSettings& node);

// The effective security context (container over pod) as the CRI's, with seccomp, AppArmor,
// namespaces, groups, no_new_privs and masked paths. Fails when runAsNonRoot cannot hold.
Result<runtime::v1::LinuxContainerSecurityContext> container_security_context(const kube::Pod& pod,
                                                                              const kube::Container& c,
                                                                              const ContainerInputs& in,
                                                                              const NodeSettings& node);

Result<runtime::v1::ContainerConfig> make_container_config(const kube::Pod& pod, const kube::Container& c,
                                                           const ContainerInputs& in, const NodeSettings& node);

}  // namespace knode::cri
