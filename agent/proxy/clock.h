// Time for the proxy's loops: a monotonic clock for intervals and a wall clock for what is
// reported (healthz timestamps, metrics). Tests use FakeClock and step it.
#pragma once

#include <chrono>
#include <mutex>

namespace knode::proxy {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;
  virtual WallTime wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  FakeClock() : wall_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}
  SteadyTime now() const override { std::lock_guard lk(mu_); return steady_; }
  WallTime wall_now() const override { std::lock_guard lk(mu_); return wall_; }
  void advance(Duration d) {
    std::lock_guard lk(mu_);
    steady_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  SteadyTime steady_{std::chrono::hours(1)};
  WallTime wall_;
};

}  // namespace knode::proxy
