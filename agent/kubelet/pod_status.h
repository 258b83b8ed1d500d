// The API status of a pod from its spec, its runtime state and what the last syncs met, computed as
// upstream's kubelet does (generateAPIPodStatus, convertToAPIContainerStatuses, getPhase and
// status/generate.go): phase, conditions PodReadyToStartContainers / Initialized /
// ContainersReady / Ready / PodScheduled, container statuses with state, lastState, restartCount and
// the waiting reasons (CrashLoopBackOff, ErrImagePull, ImagePullBackOff, ErrImageNeverPull,
// CreateContainerConfigError, ...), podIP(s), startTime, qosClass. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/kube/pod.h"
#include "agent/kubelet/runtime_pod.h"

namespace knode::kubelet {

// Why a container could not be started by the last sync (upstream's reasonCache entry).
struct WaitingReason {
  std::string reason;
  std::string message;
  bool operator==(const WaitingReason&) const = default;
};

struct StatusInputs {
  std::map<std::string, WaitingReason> reasons;  // container name -> last start failure
  std::map<std::string, bool> ready;             // readiness probe results (containers with a probe)
  std::map<std::string, bool> started;           // startup probe results (containers with a probe)
  std::string runtime_name = "containerd";       // prefix of containerID: "containerd://<id>"
  std::string host_ip;
  int64_t now_ns = 0;
};

// previous: the last status generated (for startTime and lastTransitionTime), or the pod's own.
kube::PodStatus generate_pod_status(const kube::Pod& pod, const PodRuntimeStatus& rs, const StatusInputs& in,
                                    const kube::PodStatus& previous);

// upstream's getPhase over the generated container statuses.
std::string pod_phase(const kube::PodSpec& spec, const std::vector<kube::ContainerStatus>& init_statuses,
                      const std::vector<kube::ContainerStatus>& statuses);

}  // namespace knode::kubelet
