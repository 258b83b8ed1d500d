#include "agent/proxy/health.h"

#include <ctime>

#include <fmt/format.h>

namespace knode::proxy {

inline constexpr const char* kToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";

void ProxierHealth::queued_update(netrules::IPFamily family) {
  std::lock_guard lk(mu_);
  auto& pending = oldest_pending_[static_cast<int>(family)];
  if (!pending) pending = clock_.now();
}

void ProxierHealth::updated(netrules::IPFamily family) {
  std::lock_guard lk(mu_);
  oldest_pending_[static_cast<int>(family)].reset();
  last_updated_ = clock_.wall_now();
}

void ProxierHealth::sync_node(const kube::Node* node) {
  bool eligible = node != nullptr && !node->metadata.deletion_timestamp;
  if (eligible)
    for (const auto& t : node->spec.taints)
      if (t.key == kToBeDeletedTaint) eligible = false;
  std::lock_guard lk(mu_);
  node_eligible_ = eligible;
}

ProxierHealth::State ProxierHealth::state() const {
  std::lock_guard lk(mu_);
  State s;
  s.now = clock_.wall_now();
  s.healthy = true;
  for (const auto& pending : oldest_pending_)
    if (pending && clock_.now() - *pending >= timeout_) s.healthy = false;
  s.last_updated = last_updated_.value_or(WallTime{});
  return s;
}

bool ProxierHealth::is_healthy() const { return state().healthy; }

bool ProxierHealth::node_eligible() const {
  std::lock_guard lk(mu_);
  return node_eligible_;
}

std::string go_time_string(WallTime t) {
  if (t == WallTime{}) return "0001-01-01 00:00:00 +0000 UTC";
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::string frac;
  if (nanos) {
    frac = fmt::format(".{:09d}", nanos);
    while (frac.back() == '0') frac.pop_back();
  }
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}{} +0000 UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

HttpResponse ProxierHealth::healthz() const {
  State s = state();
  bool eligible = node_eligible();
  bool healthy = s.healthy && eligible;
  // As upstream: when healthy, lastUpdated reads as the current time (older releases' meaning).
  WallTime last = healthy ? s.now : s.last_updated;
  HttpResponse r;
  r.status = healthy ? 200 : 503;
  r.content_type = "application/json";
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.body = fmt::format(R"({{"lastUpdated": "{}","currentTime": "{}", "nodeEligible": {}}})", go_time_string(last),
                       go_time_string(s.now), eligible ? "true" : "false");
  return r;
}

HttpResponse ProxierHealth::livez() const {
  State s = state();
  WallTime last = s.healthy ? s.now : s.last_updated;
  HttpResponse r;
  r.status = s.healthy ? 200 : 503;
  r.content_type = "application/json";
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.body = fmt::format(R"({{"lastUpdated": "{}","currentTime": "{}"}})", go_time_string(last), go_time_string(s.now));
  return r;
}

namespace {
std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

HttpResponse service_health_response(const std::string& ns, const std::string& name, int local_endpoints,
                                     bool proxy_healthy) {
  HttpResponse r;
  r.status = local_endpoints != 0 && proxy_healthy ? 200 : 503;
  r.content_type = "application/json";
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  // Since 1.28: the local endpoint count for weighted load balancing, readable from a HEAD request.
  r.headers.push_back({"X-Load-Balancing-Endpoint-Weight", std::to_string(local_endpoints)});
  r.body = fmt::format(
      "{{\n\t\"service\": {{\n\t\t\"namespace\": {},\n\t\t\"name\": {}\n\t}},\n\t\"localEndpoints\": {},\n"
      "\t\"serviceProxyHealthy\": {}\n}}",
      json_quote(ns), json_quote(name), local_endpoints, proxy_healthy ? "true" : "false");
  return r;
}

}  // namespace knode::proxy
