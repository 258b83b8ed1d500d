// Health check node ports of externalTrafficPolicy=Local load balancers (upstream's
// ServiceHealthServer): one listener per service on its healthCheckNodePort answering with the
// number of ready local endpoints (200 when > 0 and the proxy is healthy, else 503).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "agent/proxy/health.h"
#include "agent/proxy/http_server.h"
#include "agent/proxy/service_tracker.h"

namespace knode::proxy {

class ServiceHealthRegistry {
 public:
  virtual ~ServiceHealthRegistry() = default;
  // The services that need a health check port now (others are closed).
  virtual void sync_services(const std::map<NamespacedName, int>& ports) = 0;
  // Ready local endpoints per service (services not listed have 0).
  virtual void sync_endpoints(const std::map<NamespacedName, int>& counts) = 0;
};

class ServiceHealthServer final : public ServiceHealthRegistry {
 public:
  // `bind_ip`: "" for every address (upstream without nodePortAddresses).
  ServiceHealthServer(const ProxierHealth& health, std::string bind_ip = {});
  ~ServiceHealthServer() override;
  void sync_services(const std::map<NamespacedName, int>& ports) override;
  void sync_endpoints(const std::map<NamespacedName, int>& counts) override;
  // The response a request for the service would get now.
  HttpResponse respond(const NamespacedName& nsn) const;

 private:
  struct Entry { int port = 0; int listener = -1; int endpoints = 0; };
  const ProxierHealth& health_;
  std::string bind_ip_;
  HttpServer server_;
  mutable std::mutex mu_;
  std::map<NamespacedName, Entry> services_;
};

}  // namespace knode::proxy
