// Pod workers (upstream's podWorkers, reduced to what a sync loop needs): one serialized worker per
// pod, fed only the latest desired spec. A small fixed pool of threads runs the syncs; a pod is
// never synced by two threads at once, and updates that arrive during a sync coalesce into one
// more sync. Wake-ups come from the pod source (spec changes), the PLEG (runtime changes) and
// timers (the resync period, back-off expiry).
//
//   PodWorkers workers(handler, {.threads = 4, .resync = 60s});
//   workers.start();
//   workers.set_pods(pods);             // the complete desired set: new pods start, missing ones stop
//   workers.on_runtime_event(uid);      // from the PLEG
//
// A pod that left the desired set is terminated (handler.terminate_pod) until that reports it is
// gone; a new pod with the same namespace/name waits for that (a changed static pod manifest
// replaces the pod: old UID stops, then the new one starts). Runtime pods nobody asked for are
// terminated too, once the sources have delivered their first set.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/kube/pod.h"
#include "agent/kubelet/pod_state.h"

namespace knode::kubelet {

struct SyncOutcome {
  // Sync again after this long (back-off expiry, retry after an error); nullopt: the resync period.
  std::optional<std::chrono::milliseconds> requeue_after;
};

class PodSyncHandler {
 public:
  virtual ~PodSyncHandler() = default;
  virtual SyncOutcome sync_pod(const kube::Pod& pod, PodState& state) = 0;
  // Stops and removes everything the runtime holds for the pod (pod is null for an orphan).
  // Returns true when nothing is left.
  virtual bool terminate_pod(const std::string& uid, const kube::Pod* pod, PodState& state) = 0;
};

struct PodWorkersOptions {
  int threads = 4;
  std::chrono::milliseconds resync = std::chrono::seconds(60);      // syncFrequency
  std::chrono::milliseconds error_retry = std::chrono::seconds(10);  // after a failed terminate
};

class PodWorkers {
 public:
  PodWorkers(PodSyncHandler& handler, PodWorkersOptions options);
  ~PodWorkers();
  PodWorkers(const PodWorkers&) = delete;
  PodWorkers& operator=(const PodWorkers&) = delete;

  void start();
  // Stops the threads after their current syncs; pods keep running.
  void stop();

  // sources_ready: every pod source has delivered (runtime pods nobody wants may be stopped).
  void set_pods(std::vector<kube::Pod> pods, bool sources_ready = true);
  // A pod changed in the runtime. An unknown pod is stopped only when `managed` (made by this
  // kubelet) and the sources have delivered their first set.
  void on_runtime_event(const std::string& uid, bool managed = false);
  // Wakes every pod (e.g. after the runtime came back).
  void wake_all();

  size_t pod_count() const;
  // UIDs with a worker that is terminating.
  std::vector<std::string> terminating() const;
  // Blocks until no sync is queued or running (tests).
  void wait_idle(std::chrono::milliseconds timeout) const;

 private:
  struct Entry {
    std::string uid;
    std::string full_name;
    std::optional<kube::Pod> desired;
    bool terminating = false;
    bool revive = false;  // desired again while terminating: start anew once stopped
    bool queued = false;
    bool working = false;
    bool dirty = false;
    std::chrono::steady_clock::time_point next_timer{};
    std::unique_ptr<PodState> state = std::make_unique<PodState>();
  };

  void wake_locked(Entry& e);
  void schedule_locked(Entry& e, std::chrono::milliseconds after);
  void run();
  bool blocked_by_terminating_locked(const Entry& e) const;

  PodSyncHandler& handler_;
  PodWorkersOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  mutable std::condition_variable idle_cv_;
  std::map<std::string, Entry> pods_;
  std::deque<std::string> ready_;
  std::multimap<std::chrono::steady_clock::time_point, std::string> timers_;
  bool sources_ready_ = false;
  bool stopping_ = false;
  int busy_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace knode::kubelet
