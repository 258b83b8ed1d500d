#include "agent/kube/client/token_bucket.h"

#include <algorithm>

namespace knode::kube {

TokenBucket::TokenBucket(double qps, int burst, Clock::time_point now)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)), last_(now) {}

double TokenBucket::advanced(Clock::time_point now) const {
  if (now <= last_) return tokens_;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  return std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
}

double TokenBucket::tokens(Clock::time_point now) const { return qps_ > 0 ? advanced(now) : burst_; }

TokenBucket::Clock::duration TokenBucket::reserve(Clock::time_point now) {
  if (qps_ <= 0) return Clock::duration::zero();
  tokens_ = advanced(now);
  if (now > last_) last_ = now;
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Clock::duration::zero();
  // The deficit refills at qps; the wait is measured from `last_` (never earlier than now).
  auto wait = std::chrono::duration<double>(-tokens_ / qps_);
  return std::chrono::duration_cast<Clock::duration>(wait) + (last_ - now);
}

}  // namespace knode::kube
