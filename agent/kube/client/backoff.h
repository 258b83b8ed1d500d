// Exponential backoff with jitter for reconnecting streams, as client-go's reflector uses
// (800 ms initial, doubling, 30 s cap, reset after 2 min without failures, jitter factor 1.0).
// Pure: the caller passes the time and a random number in [0,1).
#pragma once

#include <chrono>

namespace knode::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds cap{30'000};
  double factor = 2.0;
  double jitter = 1.0;  // a delay d becomes d * (1 + jitter * random), then capped
  std::chrono::milliseconds reset_after{120'000};  // a healthy period this long resets the delay
};

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}

  // The delay before the next attempt after a failure at `now`; random01 in [0,1).
  std::chrono::milliseconds next(Clock::time_point now, double random01);
  // Forget past failures (e.g. after a successful relist).
  void reset() { current_ = {}; has_last_ = false; }
  // The un-jittered base of the last delay handed out (0 before any); exported as a gauge.
  std::chrono::milliseconds current() const { return current_; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds current_{0};
  Clock::time_point last_{};
  bool has_last_ = false;
};

}  // namespace knode::kube
