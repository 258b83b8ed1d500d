// Merges the pod sources (the staticPodPath files, the staticPodURL) into the one desired set the
// pod workers take, as upstream's config mux does: each source delivers its complete set; the
// merged set goes out on every change. Orphan clean-up — stopping runtime pods and removing pod
// directories nobody wants — must wait until every source delivered once (upstream's
// sourcesReady), so that a URL that is slow at start-up does not get its running pods killed;
// `ready` says whether that point has been reached, and on_all_ready runs once at it.
//
//   PodSourceMerger m({"file", "http"}, [&](auto pods, bool ready) { workers.set_pods(pods, ready); });
//   m.update("file", file_pods);
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/kube/pod.h"

namespace knode::kubelet {

class PodSourceMerger {
 public:
  using Deliver = std::function<void(std::vector<kube::Pod> pods, bool all_sources_ready)>;
  using Ready = std::function<void(const std::set<std::string>& desired_uids)>;
  PodSourceMerger(std::vector<std::string> sources, Deliver deliver, Ready on_all_ready = {});

  // A source's complete set. A pod whose namespace/name another source already gives is dropped
  // with a warning (the first source listed wins).
  void update(const std::string& source, std::vector<kube::Pod> pods);
  bool all_ready() const;

 private:
  std::vector<std::string> order_;
  Deliver deliver_;
  Ready on_all_ready_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<kube::Pod>> sets_;  // only sources that delivered
  bool ready_announced_ = false;
};

}  // namespace knode::kubelet
