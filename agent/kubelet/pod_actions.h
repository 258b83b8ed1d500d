// What a sync must do to bring a pod's runtime state to its spec, decided as upstream's
// kuberuntime computePodActions does: a missing or changed sandbox means kill everything and start
// over; init containers run one at a time, in order; regular containers start when absent and
// restart per restartPolicy; a running container whose spec hash changed, or whose liveness probe
// failed, is killed and started again. Pure: runtime state and probe results in, actions out.
#pragma once

#include <cstdint>
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
  std::optional<size_t> next_init_container;   // index into spec.initContainers
  std::vector<size_t> containers_to_start;     // indexes into spec.containers
  std::vector<ContainerToKill> containers_to_kill;

  bool nothing_to_do() const {
    return !kill_pod && !create_sandbox && !next_init_container && containers_to_start.empty() &&
           containers_to_kill.empty();
  }
};

struct ActionInputs {
  std::set<std::string> liveness_failed;  // container names whose liveness probe says restart
};

// Whether the sandbox must be (re)created: none, more than one ready, the newest not ready, the
// network mode changed, or a pod-network sandbox without an IP. Returns {changed, attempt, id}.
struct SandboxDecision {
  bool changed = false;
  uint32_t attempt = 0;
  std::string sandbox_id;
};
SandboxDecision sandbox_changed(const kube::Pod& pod, const PodRuntimeStatus& status);

// upstream's kubecontainer.ShouldContainerBeRestarted.
bool should_container_be_restarted(const kube::Container& c, const kube::Pod& pod, const PodRuntimeStatus& status);

PodActions compute_pod_actions(const kube::Pod& pod, const PodRuntimeStatus& status, const ActionInputs& in = {});

}  // namespace knode::kubelet
