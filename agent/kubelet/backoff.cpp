#include "agent/kubelet/backoff.h"

#include <algorithm>

namespace knode::kubelet {

bool Backoff::in_backoff_since(const std::string& key, int64_t since, int64_t now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (expired(it->second, since)) return false;
  return now - since < it->second.delay;
}

bool Backoff::in_backoff_since_update(const std::string& key, int64_t now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (expired(it->second, now)) return false;
  return now - it->second.last_update < it->second.delay;
}

void Backoff::next(const std::string& key, int64_t since, int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || expired(it->second, since)) {
    entries_[key] = Entry{initial_, now};
    return;
  }
  it->second.delay = std::min(it->second.delay * 2, max_);
  it->second.last_update = now;
}

int64_t Backoff::get(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.delay;
}

void Backoff::gc(int64_t now) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = now - it->second.last_update > 2 * max_ ? entries_.erase(it) : std::next(it);
}

}  // namespace knode::kubelet
