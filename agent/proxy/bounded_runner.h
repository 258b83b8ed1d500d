// A coalescing runner (upstream's BoundedFrequencyRunner): run() requests a call of fn; calls
// happen at least every max_interval, and retry_after(d) asks for a call no later than d from now
// (after a failed sync). Requests made while fn runs coalesce into one later call.
// Calls are rate limited by a token bucket holding `burst_runs` tokens, refilled with one token
// per min_interval (kube-proxy uses a burst of 2): after a quiet period two changes in quick
// succession are both applied at once, a steady stream of changes runs once per min_interval.
// A burst of 1 keeps calls at least min_interval apart; min_interval 0 disables the limit.
//
// The scheduling core (next_due / run_if_due) is deterministic for a given Clock, so tests step a
// FakeClock; start() runs the same core on a thread that sleeps until the next due time.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/proxy/clock.h"

namespace knode::proxy {

class BoundedFrequencyRunner {
 public:
  BoundedFrequencyRunner(std::string name, std::function<void()> fn, Duration min_interval,
                         Duration max_interval, int burst_runs, const Clock& clock);
  ~BoundedFrequencyRunner();
  BoundedFrequencyRunner(const BoundedFrequencyRunner&) = delete;
  BoundedFrequencyRunner& operator=(const BoundedFrequencyRunner&) = delete;

  // Any thread.
  void run();
  void retry_after(Duration d);

  // The deterministic core: when fn should run next, and running it when that time has come.
  SteadyTime next_due() const;
  bool run_if_due();
  uint64_t runs() const;

  // The real loop on its own thread; stop() waits for a running fn to return.
  void start();
  void stop();

 private:
  SteadyTime next_due_locked() const;
  SteadyTime earliest_locked() const;  // when the bucket next holds a token

  const std::string name_;
  const std::function<void()> fn_;
  const Duration min_interval_;
  const Duration max_interval_;
  const int burst_runs_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  SteadyTime created_;
  std::optional<SteadyTime> last_run_;
  // The token bucket as a theoretical arrival time: a run is allowed once now ≥ tat_ −
  // (burst_runs − 1) × min_interval, and moves tat_ to max(tat_, now) + min_interval.
  SteadyTime tat_;
  bool pending_ = false;
  std::optional<SteadyTime> retry_at_;
  uint64_t runs_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace knode::proxy
