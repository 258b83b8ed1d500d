// Client-side rate limiting as client-go's flowcontrol token bucket: `qps` tokens per second refill a
// bucket of `burst`; each request takes one token and, when none is left, reserves the next one and
// waits for it. Pure arithmetic on caller-supplied times (tests use a fake clock); not thread-safe —
// the client calls it on its event-loop thread.
#pragma once

#include <chrono>

namespace knode::kube {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // qps <= 0 disables limiting (every reservation is immediate). burst < 1 is treated as 1.
  TokenBucket(double qps, int burst, Clock::time_point now);

  // Takes one token at `now` and returns how long the caller must wait before using it (zero if a
  // token was available). Later reservations queue behind earlier ones.
  Clock::duration reserve(Clock::time_point now);
  // Tokens available at `now` (negative when reservations are queued); for tests and metrics.
  double tokens(Clock::time_point now) const;

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  double advanced(Clock::time_point now) const;

  double qps_;
  int burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace knode::kube
