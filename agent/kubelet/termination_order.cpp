#include "agent/kubelet/termination_order.h"

namespace knode::kubelet {

TerminationOrdering::TerminationOrdering(const kube::PodSpec& spec, const std::set<std::string>& running)
    : running_(running) {
  std::vector<std::string> regular;
  for (const auto& c : spec.containers) regular.push_back(c.name);
  std::string later_sidecar;
  for (size_t i = spec.init_containers.size(); i-- > 0;) {
    const kube::Container& c = spec.init_containers[i];
    if (!kube::is_sidecar(c)) continue;
    auto& pre = prereqs_[c.name];
    pre = regular;
    if (!later_sidecar.empty()) pre.push_back(later_sidecar);
    later_sidecar = c.name;
  }
}

std::chrono::milliseconds TerminationOrdering::wait_for_turn(const std::string& name, std::chrono::milliseconds limit) {
  auto start = std::chrono::steady_clock::now();
  auto it = prereqs_.find(name);
  if (it == prereqs_.end()) return {};
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, limit, [&] {
    for (const auto& p : it->second)
      if (running_.count(p)) return false;
    return true;
  });
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

void TerminationOrdering::terminated(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    running_.erase(name);
  }
  cv_.notify_all();
}

}  // namespace knode::kubelet
