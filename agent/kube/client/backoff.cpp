#include "agent/kube/client/backoff.h"

#include <algorithm>

namespace knode::kube {

std::chrono::milliseconds Backoff::next(Clock::time_point now, double random01) {
  using std::chrono::milliseconds;
  if (!has_last_ || now - last_ >= policy_.reset_after || current_.count() == 0) {
    current_ = policy_.initial;
  } else {
    auto grown = static_cast<double>(current_.count()) * policy_.factor;
    current_ = milliseconds(static_cast<int64_t>(std::min(grown, static_cast<double>(policy_.cap.count()))));
  }
  last_ = now;
  has_last_ = true;
  random01 = std::clamp(random01, 0.0, 1.0);
  auto jittered = static_cast<double>(current_.count()) * (1.0 + policy_.jitter * random01);
  return milliseconds(static_cast<int64_t>(std::min(jittered, static_cast<double>(policy_.cap.count()))));
}

}  // namespace knode::kube
