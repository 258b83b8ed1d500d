// Keeps the latest API status of every pod and makes it observable without an API server:
//  - a log line per change (phase changes at -v=0, every status change at -v=2 with the
//    container states), and
//  - a read-only status file, <rootDir>/pods-status.json: a v1 PodList (metadata, spec, status of
//    every pod this kubelet runs), rewritten atomically (write + rename) at most every 100 ms after
//    a change — `jq '.items[] | {name: .metadata.name, phase: .status.phase}'` reads it.
// In cluster mode the same manager is where the API status writer will plug in.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/kube/pod.h"

namespace knode::kubelet {

class PodStatusSink {
 public:
  virtual ~PodStatusSink() = default;
  virtual void set_status(const kube::Pod& pod, const kube::PodStatus& status) = 0;
  virtual void remove(const std::string& uid) = 0;
};

class StatusManager final : public PodStatusSink {
 public:
  // status_file "" keeps statuses in memory only.
  explicit StatusManager(std::string status_file);
  ~StatusManager() override;

  void start();
  void stop();  // writes a pending change first

  void set_status(const kube::Pod& pod, const kube::PodStatus& status) override;
  void remove(const std::string& uid) override;

  // The node's NetworkReady condition (network_manager.h), shown in the status file as
  // "networkReady": {type, status, reason, message} — message is the Node Ready message's network part.
  void set_network_condition(bool ready, const std::string& reason, const std::string& message);

  // Pods with their current status, ordered by namespace/name.
  std::vector<kube::Pod> pods() const;
  std::string render() const;  // the status file's content

 private:
  void run();
  void write_file();

  std::string file_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, kube::Pod> pods_;  // uid -> pod with status
  std::string network_json_;               // the "networkReady" object, "" before the first check
  bool dirty_ = true;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace knode::kubelet
