// The CRI side of a pod sync (upstream's kuberuntime SyncPod / KillPod plus the per-pod part of
// container GC): reads the pod's runtime state, computes the actions (pod_actions.h) and carries
// them out with the CRI — sandbox, init containers and sidecars in order, app containers, postStart
// hooks, restarts with crash-loop back-off, image pulls per imagePullPolicy with pull back-off,
// graceful stops with preStop hooks and sidecars stopping last — then reports the generated status
// to the status sink.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "agent/kubelet/pod_actions.h"
#include "agent/kubelet/pod_status.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/runtime_pod.h"
#include "agent/kubelet/status_manager.h"
#include "agent/kubelet/termination_order.h"
#include "cri/convert.h"
#include "cri/runtime.h"

namespace knode::kubelet {

// Probe results, as the prober manager keeps them (nullable in PodSyncer: no probes run).
class ContainerHealth {
 public:
  virtual ~ContainerHealth() = default;
  // Adds readiness/startup results to `status` and liveness failures to `actions`.
  virtual void results(const std::string& uid, StatusInputs& status, ActionInputs& actions) = 0;
  // The pod's containers as they are now: probe workers start/stop accordingly.
  virtual void update(const kube::Pod& pod, const PodRuntimeStatus& rs) = 0;
  virtual void remove(const std::string& uid) = 0;
};

class ImagePuller;

struct PodSyncerOptions {
  cri::NodeSettings node;
  std::string pods_dir = "/var/lib/kubelet/pods";  // <rootDir>/pods
  std::string host_ip;
  std::string runtime_name = "containerd";
  std::string runtime_handler;  // for pods without a runtimeClassName ("" = the runtime's default)
  std::function<int64_t()> now_ns;  // unix ns; default the system clock
  ImagePuller* puller = nullptr;    // pulls with credentials, serialized or parallel; null: direct CRI pulls
};

class PodSyncer final : public PodSyncHandler {
 public:
  PodSyncer(cri::Runtime& runtime, cri::ImageService& images, PodStatusSink& status, ContainerHealth* health,
            PodSyncerOptions options);

  SyncOutcome sync_pod(const kube::Pod& pod, PodState& state) override;
  bool terminate_pod(const std::string& uid, const kube::Pod* pod, PodState& state) override;

 private:
  struct StartResult {
    bool ok = false;
    std::optional<std::chrono::milliseconds> retry;  // back-off expiry
  };
  StartResult start_container(const kube::Pod& pod, const kube::Container& c, const PodRuntimeStatus& rs,
                              const std::string& sandbox_id, const runtime::v1::PodSandboxConfig& sandbox_config,
                              const std::string& pod_ip, PodState& state);
  // Returns the image reference to run, or sets the waiting reason.
  std::optional<std::string> ensure_image(const kube::Pod& pod, const kube::Container& c, PodState& state,
                                          std::optional<std::chrono::milliseconds>* retry);
  // Runs the preStop hook, waits for the container's turn (ordering, when the whole pod stops) and
  // stops it, all within the grace period.
  void kill_container(const kube::Pod* pod, const RuntimeContainer& rc, int64_t grace_seconds,
                      const std::string& reason, const std::string& pod_ip, TerminationOrdering* ordering = nullptr);
  // Stops every running container (ordered, within the pod's grace period) and the sandboxes.
  Status kill_pod(const kube::Pod& pod, const PodRuntimeStatus& rs);
  void collect_garbage(const PodRuntimeStatus& rs);
  int64_t now() const;

  cri::Runtime& rt_;
  cri::ImageService& images_;
  PodStatusSink& status_;
  ContainerHealth* health_;
  PodSyncerOptions opts_;
};

}  // namespace knode::kubelet
