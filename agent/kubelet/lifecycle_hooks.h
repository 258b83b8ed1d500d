// Container lifecycle hooks (upstream's lifecycle handler runner), for postStart and preStop:
//   exec     ExecSync in the container; an error or a non-zero exit fails the hook
//   httpGet  GET scheme://host:port/path with the given headers, host defaulting to the pod IP,
//            User-Agent kube-lifecycle/1.32; any HTTP answer is success (as upstream: only a
//            transport error fails it); an HTTPS hook that gets a plain HTTP answer is retried
//            over HTTP, as upstream does
//   sleep    waits the given seconds (cut short by the time limit)
// The failure message is upstream's ("Exec lifecycle hook ([cmd]) for Container "c" in Pod
// "name_ns(uid)" failed - error: …, message: "…""), as shown in the container's waiting message.
#pragma once

#include <chrono>
#include <string>

#include "agent/kube/pod.h"
#include "cri/runtime.h"

namespace knode::kubelet {

struct HookOutcome {
  bool ok = true;
  std::string message;  // why it failed
};

struct HookTarget {
  const kube::Pod& pod;
  const kube::Container& container;
  std::string container_id;
  std::string pod_ip;
};

// upstream's format.Pod: "name_namespace(uid)", as hook and back-off messages name a pod.
std::string format_pod(const kube::Pod& pod);

// Runs one handler. `limit` bounds the whole hook (the remaining grace period for preStop); zero
// means no limit of its own (postStart, as upstream).
HookOutcome run_lifecycle_hook(cri::Runtime& rt, const HookTarget& target, const kube::LifecycleHandler& handler,
                               std::chrono::seconds limit);

}  // namespace knode::kubelet
