// What the container runtime holds for one pod (upstream's kubecontainer.PodStatus): its sandboxes
// and containers, recognised by the labels the kubelet put on them, with the details of
// ContainerStatus / PodSandboxStatus. Plain data, so pod actions and status generation stay pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/result.h"
#include "cri/runtime.h"

namespace knode::kubelet {

enum class ContainerState { Created, Running, Exited, Unknown };
std::string_view to_string(ContainerState s);

struct RuntimeContainer {
  std::string id;
  std::string name;
  std::string sandbox_id;
  ContainerState state = ContainerState::Unknown;
  int64_t created_at = 0;   // unix ns
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int32_t exit_code = 0;
  std::string reason;
  std::string message;
  std::string image;
  std::string image_ref;
  uint64_t hash = 0;             // io.kubernetes.container.hash (hex)
  uint32_t restart_count = 0;    // io.kubernetes.container.restartCount
  int64_t termination_grace_seconds = -1;  // io.kubernetes.pod.terminationGracePeriod, -1 if absent
  std::string pre_stop_json;     // io.kubernetes.container.preStopHandler (a LifecycleHandler as JSON)
  std::string ports_json;        // io.kubernetes.container.ports (named ports of the hook)
};

struct RuntimeSandbox {
  std::string id;
  bool ready = false;
  uint32_t attempt = 0;
  int64_t created_at = 0;
  std::string ip;
  std::vector<std::string> additional_ips;
  bool host_network = false;
};

struct PodRuntimeStatus {
  std::string uid;
  std::string name;
  std::string namespace_;
  std::vector<RuntimeSandbox> sandboxes;      // newest first
  std::vector<RuntimeContainer> containers;   // newest first

  // The newest container of that name, or null.
  const RuntimeContainer* latest(std::string_view container_name) const;
  bool empty() const { return sandboxes.empty() && containers.empty(); }
};

// ListPodSandbox + ListContainers filtered by the pod UID label, then ContainerStatus for each
// container and PodSandboxStatus for the newest sandbox.
Result<PodRuntimeStatus> get_pod_runtime_status(cri::Runtime& rt, const std::string& uid);

}  // namespace knode::kubelet
