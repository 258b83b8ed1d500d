#include "agent/kubelet/pod_workers.h"

#include <set>

#include "agent/base/log.h"

namespace knode::kubelet {

using Clock = std::chrono::steady_clock;

PodWorkers::PodWorkers(PodSyncHandler& handler, PodWorkersOptions options)
    : handler_(handler), opts_(options) {}

PodWorkers::~PodWorkers() { stop(); }

void PodWorkers::start() {
  std::lock_guard lock(mu_);
  stopping_ = false;
  for (int i = 0; i < opts_.threads; ++i) threads_.emplace_back([this] { run(); });
}

void PodWorkers::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void PodWorkers::wake_locked(Entry& e) {
  if (e.working) {
    e.dirty = true;
    return;
  }
  if (e.queued) return;
  e.queued = true;
  ready_.push_back(e.uid);
  cv_.notify_one();
}

void PodWorkers::schedule_locked(Entry& e, std::chrono::milliseconds after) {
  e.next_timer = Clock::now() + after;
  timers_.emplace(e.next_timer, e.uid);
  cv_.notify_one();
}

void PodWorkers::set_pods(std::vector<kube::Pod> pods, bool sources_ready) {
  std::lock_guard lock(mu_);
  sources_ready_ = sources_ready;
  std::set<std::string> wanted;
  for (auto& pod : pods) {
    std::string uid = pod.metadata.uid;
    wanted.insert(uid);
    auto [it, inserted] = pods_.try_emplace(uid);
    Entry& e = it->second;
    if (inserted) {
      e.uid = uid;
      log::info("Pod added", "pod", kube::object_ref(pod.metadata), "podUID", uid);
    } else if (e.terminating) {
      e.desired = std::move(pod);  // the same UID came back while stopping: start it once stopped
      e.revive = true;
      continue;
    } else if (e.desired && *e.desired == pod) {
      continue;
    }
    e.full_name = kube::object_ref(pod.metadata);
    e.desired = std::move(pod);
    wake_locked(e);
  }
  for (auto& [uid, e] : pods_) {
    if (wanted.count(uid)) continue;
    e.revive = false;
    if (e.terminating) continue;
    e.terminating = true;
    log::info("Pod removed, stopping it", "pod", e.full_name, "podUID", uid);
    wake_locked(e);
  }
}

void PodWorkers::on_runtime_event(const std::string& uid, bool managed) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) {
    if (!sources_ready_ || !managed) return;
    Entry& e = pods_[uid];
    e.uid = uid;
    e.terminating = true;
    log::info("Found a pod in the runtime that is not desired, stopping it", "podUID", uid);
    wake_locked(e);
    return;
  }
  wake_locked(it->second);
}

void PodWorkers::wake_all() {
  std::lock_guard lock(mu_);
  for (auto& [uid, e] : pods_) wake_locked(e);
}

size_t PodWorkers::pod_count() const {
  std::lock_guard lock(mu_);
  return pods_.size();
}

std::vector<std::string> PodWorkers::terminating() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [uid, e] : pods_)
    if (e.terminating) out.push_back(uid);
  return out;
}

void PodWorkers::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  idle_cv_.wait_for(lock, timeout, [&] { return ready_.empty() && busy_ == 0; });
}

bool PodWorkers::blocked_by_terminating_locked(const Entry& e) const {
  for (const auto& [uid, other] : pods_)
    if (uid != e.uid && other.terminating && other.full_name == e.full_name && !e.full_name.empty()) return true;
  return false;
}

void PodWorkers::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      auto [when, uid] = *timers_.begin();
      timers_.erase(timers_.begin());
      auto it = pods_.find(uid);
      if (it != pods_.end() && it->second.next_timer == when) wake_locked(it->second);
    }
    if (ready_.empty()) {
      if (timers_.empty()) cv_.wait(lock);
      else cv_.wait_until(lock, timers_.begin()->first);
      continue;
    }
    std::string uid = std::move(ready_.front());
    ready_.pop_front();
    auto it = pods_.find(uid);
    if (it == pods_.end()) continue;
    Entry& e = it->second;
    e.queued = false;
    if (e.working) {
      e.dirty = true;
      continue;
    }
    if (!e.terminating && blocked_by_terminating_locked(e)) {
      schedule_locked(e, std::chrono::milliseconds(200));
      continue;
    }
    e.working = true;
    ++busy_;
    bool terminating = e.terminating;
    std::optional<kube::Pod> pod = e.desired;
    PodState* state = e.state.get();
    lock.unlock();

    bool gone = false;
    SyncOutcome outcome;
    if (terminating) {
      gone = handler_.terminate_pod(uid, pod ? &*pod : nullptr, *state);
    } else {
      outcome = handler_.sync_pod(*pod, *state);
    }

    lock.lock();
    --busy_;
    auto again = pods_.find(uid);
    Entry& done = again->second;
    done.working = false;
    if (terminating && gone && done.revive) {
      done.terminating = false;
      done.revive = false;
      done.state = std::make_unique<PodState>();
      wake_locked(done);
    } else if (terminating && gone) {
      log::info("Pod stopped and removed", "pod", done.full_name, "podUID", uid);
      pods_.erase(again);
    } else {
      schedule_locked(done, terminating ? opts_.error_retry : outcome.requeue_after.value_or(opts_.resync));
      if (done.dirty) {
        done.dirty = false;
        wake_locked(done);
      }
    }
    if (ready_.empty() && busy_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace knode::kubelet
