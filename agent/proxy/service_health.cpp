#include "agent/proxy/service_health.h"

#include "agent/base/log.h"

namespace knode::proxy {

ServiceHealthServer::ServiceHealthServer(const ProxierHealth& health, std::string bind_ip)
    : health_(health), bind_ip_(std::move(bind_ip)) {
  server_.start();
}

ServiceHealthServer::~ServiceHealthServer() { server_.stop(); }

void ServiceHealthServer::sync_services(const std::map<NamespacedName, int>& ports) {
  std::lock_guard lk(mu_);
  for (auto it = services_.begin(); it != services_.end();) {
    auto want = ports.find(it->first);
    if (want == ports.end() || want->second != it->second.port) {
      log::infov(3, "Closing healthcheck", "service", it->first.str(), "port", it->second.port);
      if (it->second.listener >= 0) server_.close(it->second.listener);
      it = services_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [nsn, port] : ports) {
    if (services_.count(nsn) || port <= 0) continue;
    Entry e;
    e.port = port;
    std::string addr = (bind_ip_.find(':') != std::string::npos ? "[" + bind_ip_ + "]" : bind_ip_) + ":" +
                       std::to_string(port);
    auto id = server_.listen(addr, [this, nsn = nsn](const HttpRequest&) { return respond(nsn); });
    if (!id) {
      log::error("Failed to start healthcheck", id.error(), "service", nsn.str(), "port", port);
    } else {
      e.listener = *id;
      log::infov(3, "Opened healthcheck", "service", nsn.str(), "port", port);
    }
    services_[nsn] = e;  // kept even on failure; retried when the port changes
  }
}

void ServiceHealthServer::sync_endpoints(const std::map<NamespacedName, int>& counts) {
  std::lock_guard lk(mu_);
  for (auto& [nsn, e] : services_) {
    auto it = counts.find(nsn);
    e.endpoints = it == counts.end() ? 0 : it->second;
  }
}

HttpResponse ServiceHealthServer::respond(const NamespacedName& nsn) const {
  int count = 0;
  {
    std::lock_guard lk(mu_);
    auto it = services_.find(nsn);
    if (it != services_.end()) count = it->second.endpoints;
  }
  return service_health_response(nsn.namespace_name, nsn.name, count, health_.is_healthy());
}

}  // namespace knode::proxy
