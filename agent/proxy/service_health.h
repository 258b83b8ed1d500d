// Health check node ports of externalTrafficPolicy=Local load balancers (upstream's
// ServiceHealthServer): one listener per service and address on its healthCheckNodePort answering
// with the number of ready local endpoints (200 when > 0 and the proxy is healthy, else 503).
//
// Where they listen follows nodePortAddresses, as upstream: unset, every address (one wildcard
// listener); set, only this node's IPs the CIDRs (or "primary") select, and nowhere when none
// matches. A service whose listeners fail to open (port taken, address not yet local) is retried
// on every sync.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/result.h"
#include "agent/proxy/health.h"
#include "agent/proxy/http_server.h"
#include "agent/proxy/service_tracker.h"
#include "netrules/model.h"

namespace knode::proxy {

class ServiceHealthRegistry {
 public:
  virtual ~ServiceHealthRegistry() = default;
  // The services that need a health check port now (others are closed).
  virtual void sync_services(const std::map<NamespacedName, int>& ports) = 0;
  // Ready local endpoints per service (services not listed have 0). Called after every sync.
  virtual void sync_endpoints(const std::map<NamespacedName, int>& counts) = 0;
};

// The IPs health check ports listen on: nullopt for every address, else exactly these (possibly
// none). Asked each time listeners are opened; an error postpones the opening to the next sync.
using HealthCheckAddresses = std::function<Result<std::optional<std::vector<std::string>>>()>;

// Those IPs for the node settings built from nodePortAddresses: every address when it is unset or
// catch-all (upstream's MatchAll), else the node IPs it selects (the node IP for "primary").
std::optional<std::vector<std::string>> health_check_ips(const netrules::NodeSettings& settings);

// Told when a service's health check port could not be opened (the proxy records a Warning event).
using HealthCheckFailed = std::function<void(const NamespacedName& nsn, int port, const std::string& error)>;

class ServiceHealthServer final : public ServiceHealthRegistry {
 public:
  // No `addresses`: every address (upstream without nodePortAddresses).
  explicit ServiceHealthServer(const ProxierHealth& health, HealthCheckAddresses addresses = {},
                               HealthCheckFailed on_failure = {});
  ~ServiceHealthServer() override;
  void sync_services(const std::map<NamespacedName, int>& ports) override;
  void sync_endpoints(const std::map<NamespacedName, int>& counts) override;
  // The response a request for the service would get now.
  HttpResponse respond(const NamespacedName& nsn) const;
  // "ip:port" of every open listener of the service (":port" for the wildcard one).
  std::vector<std::string> listening(const NamespacedName& nsn) const;

 private:
  struct Entry {
    int port = 0;
    bool open = false;            // listeners in place (or no address to listen on)
    std::vector<int> listeners;   // HttpServer ids
    std::vector<std::string> addresses;
    int endpoints = 0;
  };
  void open_locked(const NamespacedName& nsn, Entry& e);
  void close_locked(Entry& e);

  const ProxierHealth& health_;
  HealthCheckAddresses addresses_;
  HealthCheckFailed on_failure_;
  HttpServer server_;
  mutable std::mutex mu_;
  std::map<NamespacedName, Entry> services_;
};

}  // namespace knode::proxy
