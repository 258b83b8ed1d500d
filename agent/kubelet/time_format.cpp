#include "agent/kubelet/time_format.h"

#include <fmt/format.h>

#include <ctime>

namespace knode::kubelet {

namespace {
std::string date_time(int64_t secs) {
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}
}  // namespace

std::string rfc3339(int64_t unix_ns) {
  if (unix_ns <= 0) return {};
  return date_time(unix_ns / 1'000'000'000) + "Z";
}

std::string rfc3339_nano(int64_t unix_ns) {
  std::string s = date_time(unix_ns / 1'000'000'000);
  int64_t frac = unix_ns % 1'000'000'000;
  if (frac != 0) {
    std::string f = fmt::format("{:09}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s + "Z";
}

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace knode::kubelet
