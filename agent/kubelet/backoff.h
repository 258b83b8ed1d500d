// Per-key exponential back-off as upstream's flowcontrol.Backoff is used for crash loops and image
// pulls: the first failure retries at once and arms `initial`; each further failure inside the
// window doubles the delay up to `max`; an entry untouched for 2×max (a container that ran 10 min)
// starts again from `initial`. Times are unix nanoseconds, given by the caller (pure, testable).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace knode::kubelet {

class Backoff {
 public:
  static constexpr int64_t kSecond = 1'000'000'000;
  explicit Backoff(int64_t initial_ns = 10 * kSecond, int64_t max_ns = 300 * kSecond)
      : initial_(initial_ns), max_(max_ns) {}

  // True while `now - since` is shorter than the key's current delay (and the entry is fresh).
  bool in_backoff_since(const std::string& key, int64_t since, int64_t now) const;
  // True while `now - last update` is shorter than the delay (image pulls: since the last failure).
  bool in_backoff_since_update(const std::string& key, int64_t now) const;
  // Records a failure/attempt whose event happened at `since`: arms or doubles the delay.
  void next(const std::string& key, int64_t since, int64_t now);
  // The current delay of the key (0 if none).
  int64_t get(const std::string& key) const;
  void reset(const std::string& key) { entries_.erase(key); }
  // Drops entries untouched for 2×max.
  void gc(int64_t now);

 private:
  struct Entry {
    int64_t delay = 0;
    int64_t last_update = 0;
  };
  bool expired(const Entry& e, int64_t event) const { return event - e.last_update > 2 * max_; }
  int64_t initial_;
  int64_t max_;
  std::map<std::string, Entry> entries_;
};

}  // namespace knode::kubelet
