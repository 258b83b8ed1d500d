// The order in which a pod's running containers stop (upstream's terminationOrdering): regular
// containers stop first, all at once; each sidecar waits until every regular container and every
// sidecar declared after it has stopped (so sidecars stop in reverse order). preStop hooks run
// before the wait; the wait uses up the grace period. Thread-safe: one thread per container.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/kube/pod.h"

namespace knode::kubelet {

class TerminationOrdering {
 public:
  // running: the names of the pod's containers that are to be stopped.
  TerminationOrdering(const kube::PodSpec& spec, const std::set<std::string>& running);

  // Blocks until the containers `name` waits for have stopped, or `limit` passed. Returns the
  // time waited.
  std::chrono::milliseconds wait_for_turn(const std::string& name, std::chrono::milliseconds limit);
  // `name` has stopped (or gave up).
  void terminated(const std::string& name);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> running_;
  std::map<std::string, std::vector<std::string>> prereqs_;
};

}  // namespace knode::kubelet
