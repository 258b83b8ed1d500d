// The pod lifecycle event generator (upstream's GenericPLEG): containerd 1.6 has no
// GetContainerEvents, so it relists — ListPodSandbox + ListContainers every period — and compares
// each sandbox's and container's state with the previous relist. Pods with a change (appeared,
// changed state, disappeared) are handed to on_change; nothing else is woken. Healthy while the
// last relist finished less than 3 minutes ago.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cri/runtime.h"

#include <map>

namespace knode::kubelet {

struct PlegOptions {
  std::chrono::milliseconds period = std::chrono::seconds(1);
  // Whether a sandbox was made by this kubelet (see is_managed_sandbox); default: every sandbox.
  std::function<bool(const std::map<std::string, std::string>& labels,
                     const std::map<std::string, std::string>& annotations)>
      managed;
  std::chrono::milliseconds unhealthy_after = std::chrono::minutes(3);
};

struct RelistStats {
  uint64_t relists = 0;
  uint64_t failures = 0;
  std::chrono::microseconds last_duration{0};      // wall time of the last relist
  std::chrono::microseconds last_cpu{0};           // thread CPU time of the last relist
  size_t pods = 0;
  size_t containers = 0;
};

class Pleg {
 public:
  // managed: some sandbox of the pod was made by this kubelet (so it may stop the pod if unwanted).
  using OnChange = std::function<void(const std::string& pod_uid, bool managed)>;
  Pleg(cri::Runtime& runtime, OnChange on_change, PlegOptions options = {});
  ~Pleg();
  Pleg(const Pleg&) = delete;
  Pleg& operator=(const Pleg&) = delete;

  void start();
  void stop();
  struct Change {
    std::string uid;
    bool managed = false;
  };
  // One relist now (the thread calls this every period). Returns the pods that changed.
  std::vector<Change> relist();

  bool healthy() const;
  RelistStats stats() const;

 private:
  void run();

  cri::Runtime& rt_;
  OnChange on_change_;
  PlegOptions opts_;
  // uid -> (id -> state) of sandboxes ("s:") and containers ("c:")
  std::map<std::string, std::map<std::string, int>> last_;
  std::map<std::string, bool> managed_;  // uid -> made by this kubelet
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  RelistStats stats_;
  std::chrono::steady_clock::time_point last_ok_ = std::chrono::steady_clock::now();
  std::thread thread_;
};

}  // namespace knode::kubelet
