// The volumes a standalone kubelet can serve without an API server: hostPath and emptyDir.
// emptyDir lives under <rootDir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name> (as upstream);
// medium Memory is a plain directory here (no tmpfs mount yet). Other volume types make the
// container fail with CreateContainerConfigError.
#pragma once

#include <string>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"
#include "cri/convert.h"

namespace knode::kubelet {

// <pods_dir>/<uid>
std::string pod_dir(const std::string& pods_dir, const std::string& uid);

// Creates the emptyDir directories and the hostPath paths whose type asks for creation.
Status prepare_volumes(const kube::Pod& pod, const std::string& pods_dir);

// The bind mounts of one container (volumeMounts resolved, subPath joined).
Result<std::vector<cri::MountSpec>> container_mounts(const kube::Pod& pod, const kube::Container& c,
                                                     const std::string& pods_dir);

// Removes <pods_dir>/<uid> (emptyDir contents go with the pod).
void remove_pod_dir(const std::string& pods_dir, const std::string& uid);

}  // namespace knode::kubelet
