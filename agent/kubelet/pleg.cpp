#include "agent/kubelet/pleg.h"

#include <time.h>

#include "agent/base/log.h"
#include "cri/convert.h"
#include "cri/types.h"

namespace knode::kubelet {

namespace {
std::chrono::microseconds thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::microseconds(int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}
}  // namespace

Pleg::Pleg(cri::Runtime& runtime, OnChange on_change, PlegOptions options)
    : rt_(runtime), on_change_(std::move(on_change)), opts_(options) {}

Pleg::~Pleg() { stop(); }

void Pleg::start() {
  thread_ = std::thread([this] { run(); });
}

void Pleg::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::vector<Pleg::Change> Pleg::relist() {
  auto t0 = std::chrono::steady_clock::now();
  auto c0 = thread_cpu();
  std::vector<Change> changed;
  auto sandboxes = rt_.ListPodSandbox(nullptr);
  auto containers = sandboxes ? rt_.ListContainers(nullptr) : Result<std::vector<cri::v1::Container>>(sandboxes.error());
  if (!sandboxes || !containers) {
    std::lock_guard lock(mu_);
    ++stats_.failures;
    log::error("PLEG relist failed", sandboxes ? containers.error() : sandboxes.error());
    return changed;
  }
  const std::string uid_label(cri::kPodUidLabel);
  std::map<std::string, std::map<std::string, int>> now;
  std::map<std::string, bool> managed;
  for (const auto& s : *sandboxes) {
    auto it = s.labels().find(uid_label);
    if (it == s.labels().end()) continue;  // not a kubelet's
    now[it->second]["s:" + s.id()] = s.state();
    bool& m = managed[it->second];
    if (!m) {
      if (!opts_.managed) {
        m = true;
      } else {
        std::map<std::string, std::string> labels(s.labels().begin(), s.labels().end());
        std::map<std::string, std::string> annotations(s.annotations().begin(), s.annotations().end());
        m = opts_.managed(labels, annotations);
      }
    }
  }
  size_t ncontainers = 0;
  for (const auto& c : *containers) {
    auto it = c.labels().find(uid_label);
    if (it == c.labels().end()) continue;
    now[it->second]["c:" + c.id()] = c.state();
    ++ncontainers;
  }
  // Compare the two sorted maps in one pass.
  auto a = last_.begin();
  auto b = now.begin();
  while (a != last_.end() || b != now.end()) {
    if (b == now.end() || (a != last_.end() && a->first < b->first)) {
      changed.push_back({a->first, managed_[a->first]});
      ++a;
    } else if (a == last_.end() || b->first < a->first) {
      changed.push_back({b->first, managed[b->first]});
      ++b;
    } else {
      if (a->second != b->second) changed.push_back({a->first, managed[a->first] || managed_[a->first]});
      ++a;
      ++b;
    }
  }
  size_t npods = now.size();
  last_ = std::move(now);
  managed_ = std::move(managed);
  auto wall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  auto cpu = thread_cpu() - c0;
  {
    std::lock_guard lock(mu_);
    ++stats_.relists;
    stats_.last_duration = wall;
    stats_.last_cpu = cpu;
    stats_.pods = npods;
    stats_.containers = ncontainers;
    last_ok_ = std::chrono::steady_clock::now();
  }
  if (log::V(5)) log::infov(5, "PLEG relist", "pods", npods, "changed", changed.size(), "durationMicros", wall.count());
  return changed;
}

bool Pleg::healthy() const {
  std::lock_guard lock(mu_);
  return std::chrono::steady_clock::now() - last_ok_ < opts_.unhealthy_after;
}

RelistStats Pleg::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Pleg::run() {
  bool was_healthy = true;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    for (const auto& c : relist()) on_change_(c.uid, c.managed);
    bool h = healthy();
    if (h != was_healthy) {
      if (h) log::info("PLEG is healthy again");
      else log::error_msg("PLEG is not healthy: the last relist finished too long ago",
                          "threshold", std::to_string(opts_.unhealthy_after.count()) + "ms");
      was_healthy = h;
    }
    lock.lock();
    cv_.wait_for(lock, opts_.period, [&] { return stopping_; });
  }
}

}  // namespace knode::kubelet
