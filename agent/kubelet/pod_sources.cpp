#include "agent/kubelet/pod_sources.h"

#include "agent/base/log.h"

namespace knode::kubelet {

PodSourceMerger::PodSourceMerger(std::vector<std::string> sources, Deliver deliver, Ready on_all_ready)
    : order_(std::move(sources)), deliver_(std::move(deliver)), on_all_ready_(std::move(on_all_ready)) {}

bool PodSourceMerger::all_ready() const {
  std::lock_guard lock(mu_);
  return sets_.size() == order_.size();
}

void PodSourceMerger::update(const std::string& source, std::vector<kube::Pod> pods) {
  // Serialized: deliveries reach the workers in the order the merged sets were made.
  std::lock_guard lock(mu_);
  sets_[source] = std::move(pods);
  std::vector<kube::Pod> merged;
  std::map<std::string, std::string> owner;  // namespace/name -> source
  std::set<std::string> uids;
  for (const auto& name : order_) {
    auto it = sets_.find(name);
    if (it == sets_.end()) continue;
    for (const auto& pod : it->second) {
      std::string key = kube::object_ref(pod.metadata);
      auto [o, fresh] = owner.emplace(key, name);
      if (!fresh) {
        log::warning("Pod is defined by two sources; keeping the first", "pod", key, "source", o->second,
                     "ignoredSource", name);
        continue;
      }
      uids.insert(pod.metadata.uid);
      merged.push_back(pod);
    }
  }
  bool ready = sets_.size() == order_.size();
  deliver_(std::move(merged), ready);
  if (ready && !ready_announced_) {
    ready_announced_ = true;
    if (log::V(2)) log::infov(2, "All pod sources delivered", "sources", order_.size());
    if (on_all_ready_) on_all_ready_(uids);
  }
}

}  // namespace knode::kubelet
