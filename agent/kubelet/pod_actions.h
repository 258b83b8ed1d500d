// What a sync must do to bring a pod's runtime state to its spec, decided as upstream's
// kuberuntime computePodActions / computeInitContainerActions do (with sidecars): a missing or
// changed sandbox means kill everything and start over; init containers run one at a time, in
// order; a sidecar (an init container with restartPolicy Always) lets the next one start once it
// runs and its startup probe (if any) succeeded, and is restarted whenever it exits, whatever the
// pod's restartPolicy; regular containers start once initialization is done and restart per
// restartPolicy; a running container (or sidecar) whose spec hash changed, or whose liveness probe
// failed, is killed and started again; a pod whose regular containers are all done is killed,
// sidecars included. Pure: runtime state and probe results in, actions out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/kube/pod.h"
#include "agent/kubelet/runtime_pod.h"

namespace knode::kubelet {

struct ContainerToKill {
  std::string id;
  std::string name;
  std::string reason;  // for the log: "Container spec hash changed", "Container failed liveness probe"
};

struct PodActions {
  bool kill_pod = false;         // stop every container and the sandbox(es)
  bool create_sandbox = false;
  std::string sandbox_id;        // the sandbox to use when not creating one
  uint32_t attempt = 0;          // metadata.attempt of the sandbox to create
  std::vector<size_t> init_containers_to_start;  // indexes into spec.initContainers, in start order
  std::vector<size_t> containers_to_start;     // indexes into spec.containers
  std::vector<ContainerToKill> containers_to_kill;

  bool nothing_to_do() const {
    return !kill_pod && !create_sandbox && init_containers_to_start.empty() && containers_to_start.empty() &&
           containers_to_kill.empty();
  }
};

struct ActionInputs {
  std::set<std::string> liveness_failed;  // container names whose liveness probe says restart
  std::map<std::string, bool> started;    // startup probe results of running containers that have one
  std::set<std::string> startup_failed;   // container names whose startup probe reached its failureThreshold
};

// Whether the sandbox must be (re)created: none, more than one ready, the newest not ready, the
// network mode changed, or a pod-network sandbox without an IP. Returns {changed, attempt, id}.
struct SandboxDecision {
  bool changed = false;
  uint32_t attempt = 0;
  std::string sandbox_id;
};
SandboxDecision sandbox_changed(const kube::Pod& pod, const PodRuntimeStatus& status);

// upstream's kubecontainer.ShouldContainerBeRestarted; a sidecar is restarted whenever it is not
// running, whatever the pod's restartPolicy.
bool should_container_be_restarted(const kube::Container& c, const kube::Pod& pod, const PodRuntimeStatus& status);

PodActions compute_pod_actions(const kube::Pod& pod, const PodRuntimeStatus& status, const ActionInputs& in = {});

}  // namespace knode::kubelet
