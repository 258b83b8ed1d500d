#include "agent/proxy/bounded_runner.h"

#include <algorithm>

namespace knode::proxy {

BoundedFrequencyRunner::BoundedFrequencyRunner(std::string name, std::function<void()> fn,
                                               Duration min_interval, Duration max_interval,
                                               int burst_runs, const Clock& clock)
    : name_(std::move(name)), fn_(std::move(fn)), min_interval_(std::max(min_interval, Duration::zero())),
      max_interval_(std::max(max_interval, min_interval)), burst_runs_(std::max(burst_runs, 1)), clock_(clock),
      created_(clock.now()), tat_(SteadyTime::min()) {}

BoundedFrequencyRunner::~BoundedFrequencyRunner() { stop(); }

void BoundedFrequencyRunner::run() {
  {
    std::lock_guard lk(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void BoundedFrequencyRunner::retry_after(Duration d) {
  {
    std::lock_guard lk(mu_);
    SteadyTime at = clock_.now() + d;
    if (!retry_at_ || at < *retry_at_) retry_at_ = at;
  }
  cv_.notify_all();
}

SteadyTime BoundedFrequencyRunner::earliest_locked() const {
  if (!last_run_) return SteadyTime::min();  // the bucket starts full
  return tat_ - (burst_runs_ - 1) * min_interval_;
}

SteadyTime BoundedFrequencyRunner::next_due_locked() const {
  SteadyTime base = last_run_ ? *last_run_ : created_;
  SteadyTime earliest = earliest_locked();
  SteadyTime due = std::max(base + max_interval_, earliest);  // the periodic run
  if (pending_) due = std::min(due, earliest);
  if (retry_at_) due = std::min(due, std::max(*retry_at_, earliest));
  return due;
}

SteadyTime BoundedFrequencyRunner::next_due() const {
  std::lock_guard lk(mu_);
  return next_due_locked();
}

uint64_t BoundedFrequencyRunner::runs() const {
  std::lock_guard lk(mu_);
  return runs_;
}

bool BoundedFrequencyRunner::run_if_due() {
  {
    std::lock_guard lk(mu_);
    SteadyTime now = clock_.now();
    if (now < next_due_locked()) return false;
    pending_ = false;
    retry_at_.reset();
    tat_ = (last_run_ ? std::max(tat_, now) : now) + min_interval_;
    last_run_ = now;
    ++runs_;
  }
  fn_();
  return true;
}

void BoundedFrequencyRunner::start() {
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::unique_lock lk(mu_);
        if (stopping_) return;
        SteadyTime due = next_due_locked();
        SteadyTime now = clock_.now();
        if (now < due) {
          // Sleep on the real steady clock for the remaining time; a request wakes us early.
          cv_.wait_for(lk, due - now);
          continue;
        }
      }
      run_if_due();
    }
  });
}

void BoundedFrequencyRunner::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace knode::proxy
