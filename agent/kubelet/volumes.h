// The volumes a standalone kubelet can serve without an API server: hostPath and emptyDir, with
// upstream's subPath/subPathExpr handling and mountPropagation checks.
//
// emptyDir lives under <rootDir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name> (as upstream);
// medium Memory is a tmpfs mounted there (size=<sizeLimit> when set, else tmpfs's default, as
// upstream without a size). A subPath is resolved inside the volume (no absolute path, no "..",
// no symlink leading out of the volume), opened component by component without following
// symlinks and bind-mounted to <rootDir>/pods/<uid>/volume-subpaths/<volume>/<container>/<index>,
// which is what the runtime mounts (so a symlink swapped in later cannot redirect it). Every mount
// under a pod's directory is unmounted before the directory is removed, and directories of pods
// that are gone are removed at start-up. Other volume types make the container fail with
// CreateContainerConfigError.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"
#include "cri/convert.h"
#include "cri/convert_env.h"

namespace knode::kubelet {

// <pods_dir>/<uid>
std::string pod_dir(const std::string& pods_dir, const std::string& uid);

// Creates the emptyDir directories (mounting tmpfs for medium Memory, unless already mounted) and
// the hostPath paths whose type asks for creation; checks the other hostPath types.
Status prepare_volumes(const kube::Pod& pod, const std::string& pods_dir);

// The mounts of one container: volumeMounts resolved to host paths, subPath and subPathExpr
// ($(VAR) from the container's environment, made from env_ctx) prepared safely, mountPropagation
// checked (Bidirectional only for privileged containers). The error is the container's
// CreateContainerConfigError message.
Result<std::vector<cri::MountSpec>> container_mounts(const kube::Pod& pod, const kube::Container& c,
                                                     const std::string& pods_dir,
                                                     const cri::EnvContext& env_ctx = {});

// Unmounts every mount under <pods_dir>/<uid> (tmpfs emptyDirs, subPath bind mounts), deepest first.
Status unmount_pod_volumes(const std::string& pods_dir, const std::string& uid);

// Unmounts the pod's volumes, then removes <pods_dir>/<uid> (emptyDir contents go with the pod).
// When something stays mounted the directory is kept (removing would reach into the mount).
void remove_pod_dir(const std::string& pods_dir, const std::string& uid);

// Removes the directories of pods not in `keep` (upstream's orphaned pod directory cleanup).
// Returns the UIDs removed.
std::vector<std::string> cleanup_orphaned_pod_dirs(const std::string& pods_dir, const std::set<std::string>& keep);

// Mount points at or under `dir` (resolved), from /proc/self/mountinfo, in mount order.
std::vector<std::string> mounts_under(const std::string& dir);

}  // namespace knode::kubelet
