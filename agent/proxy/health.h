// The proxy's health as upstream's proxierHealthServer defines it: healthy while no change waits,
// or while the oldest waiting change is younger than the timeout (2 × syncPeriod); /healthz also
// needs the node to be eligible (not being deleted, no ToBeDeletedByClusterAutoscaler taint).
// Pure state plus response rendering; the HTTP servers only call respond_*().
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/kube/node.h"
#include "agent/proxy/clock.h"
#include "netrules/model.h"

namespace knode::proxy {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class ProxierHealth {
 public:
  ProxierHealth(const Clock& clock, Duration timeout) : clock_(clock), timeout_(timeout) {}

  // Per IP family, as upstream: a dual-stack proxy is healthy only while every family's rules
  // are recent; the last-updated time reported is the latest of the families'.
  void queued_update(netrules::IPFamily family = netrules::IPFamily::IPv4);  // a change the rules do not reflect yet
  void updated(netrules::IPFamily family = netrules::IPFamily::IPv4);        // the rules reflect everything seen
  void sync_node(const kube::Node* node);  // null: the Node was deleted

  bool is_healthy() const;  // ignoring node eligibility (service health checks, /livez)
  bool node_eligible() const;

  HttpResponse healthz() const;  // /healthz
  HttpResponse livez() const;    // /livez

 private:
  struct State { bool healthy; WallTime last_updated; WallTime now; };
  State state() const;

  const Clock& clock_;
  const Duration timeout_;
  mutable std::mutex mu_;
  std::optional<SteadyTime> oldest_pending_[2];  // indexed by IPFamily
  std::optional<WallTime> last_updated_;        // the latest of the families' updates
  bool node_eligible_ = true;  // eligible until a Node says otherwise
};

// Go's time.Time.String() form upstream prints: "2026-11-27 20:38:23.123456789 +0000 UTC".
std::string go_time_string(WallTime t);

// The body and status a service health check node port answers with.
HttpResponse service_health_response(const std::string& ns, const std::string& name, int local_endpoints,
                                     bool proxy_healthy);

}  // namespace knode::proxy
