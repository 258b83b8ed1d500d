#include "agent/proxy/service_health.h"

#include "agent/base/log.h"

namespace knode::proxy {

std::optional<std::vector<std::string>> health_check_ips(const netrules::NodeSettings& settings) {
  if (settings.nodeport_all_local) return std::nullopt;
  return settings.nodeport_ips;
}

ServiceHealthServer::ServiceHealthServer(const ProxierHealth& health, HealthCheckAddresses addresses,
                                         HealthCheckFailed on_failure)
    : health_(health), addresses_(std::move(addresses)), on_failure_(std::move(on_failure)) {
  server_.start();
}

ServiceHealthServer::~ServiceHealthServer() { server_.stop(); }

void ServiceHealthServer::close_locked(Entry& e) {
  for (int id : e.listeners) server_.close(id);
  e.listeners.clear();
  e.addresses.clear();
  e.open = false;
}

void ServiceHealthServer::open_locked(const NamespacedName& nsn, Entry& e) {
  std::optional<std::vector<std::string>> ips;
  if (addresses_) {
    auto r = addresses_();
    if (!r) {
      log::error("Failed to start healthcheck", r.error(), "service", nsn.str(), "port", e.port);
      return;
    }
    ips = std::move(*r);
  }
  if (ips && ips->empty()) {
    log::info("No local address matches nodePortAddresses; not opening healthcheck", "service", nsn.str(),
              "port", e.port);
    e.open = true;
    return;
  }
  log::infov(3, "Opening healthcheck", "service", nsn.str(), "port", e.port);
  for (const auto& ip : ips ? *ips : std::vector<std::string>{""}) {
    std::string addr = join_host_port(ip, e.port);
    auto id = server_.listen(addr, [this, nsn](const HttpRequest&) { return respond(nsn); });
    if (!id) {
      // Close what did open so that a later attempt (or another owner of the port) starts clean.
      close_locked(e);
      log::error("Failed to start healthcheck", id.error(), "service", nsn.str(), "port", e.port);
      if (on_failure_) on_failure_(nsn, e.port, id.error().message());
      return;
    }
    e.listeners.push_back(*id);
    e.addresses.push_back(addr);
  }
  e.open = true;
}

void ServiceHealthServer::sync_services(const std::map<NamespacedName, int>& ports) {
  std::lock_guard lk(mu_);
  for (auto it = services_.begin(); it != services_.end();) {
    auto want = ports.find(it->first);
    if (want == ports.end() || want->second != it->second.port) {
      log::infov(3, "Closing healthcheck", "service", it->first.str(), "port", it->second.port);
      close_locked(it->second);
      it = services_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [nsn, port] : ports) {
    if (services_.count(nsn) || port <= 0) continue;
    Entry& e = services_[nsn];
    e.port = port;
    open_locked(nsn, e);
  }
}

void ServiceHealthServer::sync_endpoints(const std::map<NamespacedName, int>& counts) {
  std::lock_guard lk(mu_);
  for (auto& [nsn, e] : services_) {
    auto it = counts.find(nsn);
    e.endpoints = it == counts.end() ? 0 : it->second;
    if (!e.open) open_locked(nsn, e);  // upstream retries a failed health check port every sync
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

std::vector<std::string> ServiceHealthServer::listening(const NamespacedName& nsn) const {
  std::lock_guard lk(mu_);
  auto it = services_.find(nsn);
  return it == services_.end() ? std::vector<std::string>{} : it->second.addresses;
}

}  // namespace knode::proxy
