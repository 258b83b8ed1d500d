// ServiceChangeTracker: watch callbacks record {previous, current} per Service (as the rule
// model's ports of one IP family); the sync loop checks the changes out and applies them to its
// ServicePortMap. Headless and ExternalName Services, and those handled by another proxy
// (service.kubernetes.io/service-proxy-name), have no ports here.
#pragma once

#include <compare>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/kube/service.h"
#include "netrules/model.h"

namespace knode::proxy {

struct NamespacedName {
  std::string namespace_name;
  std::string name;
  std::string str() const { return namespace_name + "/" + name; }
  auto operator<=>(const NamespacedName&) const = default;
};

inline NamespacedName namespaced_name(const netrules::ServicePortName& p) {
  return NamespacedName{p.namespace_name, p.name};
}

// One service port as the proxy uses it: the rule model plus what endpoint selection needs.
struct ServiceInfo {
  netrules::ServicePort port;
  bool prefer_close = false;  // trafficDistribution PreferClose or topology-mode Auto
  bool operator==(const ServiceInfo&) const = default;
};

// Immutable once made, and shared by the tracker, the proxier and the syncer (one copy per port).
using ServicePortMap = std::map<netrules::ServicePortName, std::shared_ptr<const ServiceInfo>>;
// The same ports with the same values (not just the same pointers).
bool same_ports(const ServicePortMap& a, const ServicePortMap& b);

// Why a Service has no ports for the proxy ("" when it has): "headless", "ExternalName", ...
std::string service_skip_reason(const kube::Service& svc);
// The Service's ports with a cluster IP of `family` (empty when skipped).
ServicePortMap service_ports(const kube::Service& svc, netrules::IPFamily family);

struct ServiceChange {
  ServicePortMap previous;
  ServicePortMap current;
};

class ServiceChangeTracker {
 public:
  explicit ServiceChangeTracker(netrules::IPFamily family) : family_(family) {}

  // previous == nullptr: added; current == nullptr: deleted. Only the previous object's namespace
  // and name are read (it may be what a metadata-only cache kept): a change is measured against
  // what the last checkout reported. Returns true when the service has a pending change after this
  // update (false when it went back to what was last checked out).
  bool update(const kube::Service* previous, const kube::Service* current);
  std::map<NamespacedName, ServiceChange> checkout();
  // The same for the sync loop, which needs only which services changed: their ports then are
  // reported() (moved there, not copied).
  std::vector<NamespacedName> checkout_changed();
  // What the checkouts reported, per service. Changed only by checkouts: read it on the thread
  // that checks out, between checkouts.
  const std::map<NamespacedName, ServicePortMap>& reported() const { return reported_; }
  size_t reported_ports() const;
  size_t pending() const;

 private:
  netrules::IPFamily family_;
  mutable std::mutex mu_;
  std::map<NamespacedName, ServiceChange> changes_;
  std::map<NamespacedName, ServicePortMap> reported_;  // what the checkouts reported, per service
};

// Applies changes to the map; returns the services whose ports changed.
std::set<NamespacedName> apply_service_changes(ServicePortMap& map,
                                               const std::map<NamespacedName, ServiceChange>& changes);

}  // namespace knode::proxy
