// What the kubelet remembers about one pod between syncs (besides the runtime, which is the truth):
// crash-loop and image-pull back-offs, the reasons containers could not start, the last status.
// Owned by the pod's worker; touched only by the sync that holds it (syncs of a pod are serial).
#pragma once

#include <map>
#include <string>

#include "agent/kube/pod.h"
#include "agent/kubelet/backoff.h"
#include "agent/kubelet/pod_status.h"

namespace knode::kubelet {

struct PodState {
  Backoff crash_backoff;   // key: container name + hash
  Backoff image_backoff;   // key: image
  std::map<std::string, WaitingReason> reasons;  // container name -> why it is waiting
  kube::PodStatus last_status;
  bool status_reported = false;
};

}  // namespace knode::kubelet
