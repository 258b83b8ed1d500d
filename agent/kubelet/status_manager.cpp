#include "agent/kubelet/status_manager.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "agent/base/log.h"

namespace knode::kubelet {

StatusManager::StatusManager(std::string status_file) : file_(std::move(status_file)) {}

StatusManager::~StatusManager() { stop(); }

void StatusManager::start() {
  if (file_.empty()) return;
  thread_ = std::thread([this] { run(); });
}

void StatusManager::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

namespace {

std::string state_summary(const kube::ContainerStatus& cs) {
  if (cs.state.running) return "running";
  if (cs.state.terminated)
    return "terminated:" + cs.state.terminated->reason + "(" + std::to_string(cs.state.terminated->exit_code) + ")";
  if (cs.state.waiting) return "waiting:" + cs.state.waiting->reason;
  return "unknown";
}

}  // namespace

void StatusManager::set_status(const kube::Pod& pod, const kube::PodStatus& status) {
  std::string old_phase;
  {
    std::lock_guard lock(mu_);
    auto it = pods_.find(pod.metadata.uid);
    if (it != pods_.end()) {
      if (it->second.status == status && it->second.metadata == pod.metadata) return;
      old_phase = it->second.status.phase;
    }
    kube::Pod& p = pods_[pod.metadata.uid];
    p = pod;
    p.status = status;
    dirty_ = true;
  }
  cv_.notify_all();
  std::string ref = kube::object_ref(pod.metadata);
  if (old_phase != status.phase)
    log::info("Pod phase changed", "pod", ref, "podUID", pod.metadata.uid, "phase", status.phase, "podIP", status.pod_ip);
  if (log::V(2)) {
    std::string containers;
    for (const auto& cs : status.container_statuses)
      containers += (containers.empty() ? "" : " ") + cs.name + "=" + state_summary(cs) +
                    "/restarts:" + std::to_string(cs.restart_count) + (cs.ready ? "/ready" : "");
    log::infov(2, "Pod status changed", "pod", ref, "phase", status.phase, "podIP", status.pod_ip, "containers",
               containers);
  }
}

void StatusManager::remove(const std::string& uid) {
  {
    std::lock_guard lock(mu_);
    if (!pods_.erase(uid)) return;
    dirty_ = true;
  }
  cv_.notify_all();
}

void StatusManager::set_network_condition(bool ready, const std::string& reason, const std::string& message) {
  boost::json::object o{{"type", "NetworkReady"}, {"status", ready ? "True" : "False"}};
  if (!reason.empty()) o["reason"] = reason;
  if (!message.empty()) o["message"] = message;
  {
    std::lock_guard lock(mu_);
    network_json_ = boost::json::serialize(o);
    dirty_ = true;
  }
  cv_.notify_all();
}

std::vector<kube::Pod> StatusManager::pods() const {
  std::vector<kube::Pod> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [uid, p] : pods_) out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const kube::Pod& a, const kube::Pod& b) {
    return kube::object_ref(a.metadata) < kube::object_ref(b.metadata);
  });
  return out;
}

std::string StatusManager::render() const {
  std::string out = "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",";
  {
    std::lock_guard lock(mu_);
    if (!network_json_.empty()) out += "\"networkReady\":" + network_json_ + ",";
  }
  out += "\"items\":[";
  bool first = true;
  for (auto& p : pods()) {
    p.api_version = "v1";
    p.kind = "Pod";
    if (!first) out += ",";
    out += "\n";
    out += kube::encode_pod_json(p);
    first = false;
  }
  out += "\n]}\n";
  return out;
}

void StatusManager::write_file() {
  std::string text = render();
  std::string tmp = file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << text;
    if (!out) {
      log::warning("Cannot write the pod status file", "file", tmp);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file_, ec);
  if (ec) log::warning("Cannot write the pod status file", "file", file_, "reason", ec.message());
}

void StatusManager::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return dirty_ || stopping_; });
    bool stop = stopping_;
    if (dirty_) {
      dirty_ = false;
      lock.unlock();
      write_file();
      if (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      lock.lock();
    }
    if (stop) return;
  }
}

}  // namespace knode::kubelet
