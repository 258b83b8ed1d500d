// QoS class, OOM score adjustment, CPU/memory settings and pod cgroup parents, as upstream's kubelet
// computes them (pkg/apis/core/v1/helper/qos, pkg/kubelet/qos/policy.go, pkg/kubelet/cm
// helpers_linux.go and cgroup_manager_linux.go, kuberuntime_container_linux.go). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/kube/pod.h"

namespace knode::cri {

enum class QosClass { Guaranteed, Burstable, BestEffort };
std::string_view to_string(QosClass q);

// status.qosClass when set, else computed from requests and limits of cpu and memory over init and
// regular containers: BestEffort when none is set; Guaranteed when every container limits both
// and the summed requests equal the summed limits; Burstable otherwise.
QosClass pod_qos(const kube::Pod& pod);
QosClass compute_pod_qos(const kube::Pod& pod);

// Static and mirror pods (kubernetes.io/config.source not "api", or kubernetes.io/config.mirror),
// or priority >= 2000000000.
bool is_critical_pod(const kube::Pod& pod);
// Critical and priorityClassName system-node-critical.
bool is_node_critical_pod(const kube::Pod& pod);

constexpr int kGuaranteedOomScoreAdj = -997;
constexpr int kBestEffortOomScoreAdj = 1000;
// Node-critical and Guaranteed: -997; BestEffort: 1000; Burstable: 1000 - 1000*memRequest/capacity
// (a sidecar no higher than the smallest regular container's), clamped to [3, 999].
int container_oom_score_adj(const kube::Pod& pod, const kube::Container& c, int64_t memory_capacity);

constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kQuotaPeriod = 100000;  // µs
constexpr int64_t kMinQuotaPeriod = 1000;
int64_t milli_cpu_to_shares(int64_t milli);
int64_t milli_cpu_to_quota(int64_t milli, int64_t period);

// The subset of CRI LinuxContainerResources the converters fill.
struct LinuxResources {
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_shares = 0;
  int64_t memory_limit_in_bytes = 0;
  int64_t oom_score_adj = 0;
  int64_t memory_swap_limit_in_bytes = 0;
  std::vector<std::pair<std::string, uint64_t>> hugepage_limits;  // page size ("2MB") → bytes
  std::map<std::string, std::string> unified;
  bool operator==(const LinuxResources&) const = default;
};

struct ResourceSettings {
  int64_t memory_capacity = 0;   // machine memory, for oom_score_adj
  bool cpu_cfs_quota = true;     // --cpu-cfs-quota
  int64_t cpu_cfs_quota_period_us = kQuotaPeriod;
  std::vector<std::string> hugepage_sizes;  // the machine's, e.g. {"2MB", "1GB"}
  bool cgroup_v2 = false;
  bool swap_controller_available = false;
  std::optional<bool> single_process_oom_kill;  // default: true on cgroup v1, false on v2
};

// shares from the cpu request (from the limit when no request is set), quota/period from the cpu
// limit, memory limit; no swap (v1: swap limit = memory limit when the controller exists; v2:
// memory.swap.max=0); memory.oom.group=1 on v2 unless single-process OOM kill.
LinuxResources container_resources(const kube::Pod& pod, const kube::Container& c, const ResourceSettings& s);
// The pod's sandbox-level resources (summed requests/limits with init containers' maxima).
LinuxResources sandbox_resources(const kube::Pod& pod, const ResourceSettings& s);
LinuxResources overhead_resources(const kube::Pod& pod, const ResourceSettings& s);

enum class CgroupDriver { Cgroupfs, Systemd };
struct CgroupSettings {
  CgroupDriver driver = CgroupDriver::Cgroupfs;
  bool cgroups_per_qos = true;  // --cgroups-per-qos
  std::string cgroup_root = "/";  // --cgroup-root
};
// The parent cgroup of a pod, in the driver's syntax:
//   cgroupfs: /kubepods/pod<uid>, /kubepods/burstable/pod<uid>, /kubepods/besteffort/pod<uid>
//   systemd:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid, '-'→'_'>.slice
// "" when cgroups-per-qos is off.
std::string pod_cgroup_parent(const kube::Pod& pod, const CgroupSettings& s);
// Component names → driver syntax (exposed for tests and for the QoS cgroup manager).
std::string cgroup_name_cgroupfs(const std::vector<std::string>& parts);
std::string cgroup_name_systemd(const std::vector<std::string>& parts);

}  // namespace knode::cri
