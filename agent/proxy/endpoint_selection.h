// Which endpoints serve a service port on this node, as upstream's CategorizeEndpoints decides:
// topology hints (trafficDistribution PreferClose / topology-mode Auto) narrow the cluster
// endpoints to those hinted for this node's zone when every ready endpoint carries hints and one
// is hinted for the zone; the netrules model then picks ready endpoints, else serving+terminating
// ones, and the local ones for Local traffic policies.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/proxy/endpoints_tracker.h"
#include "agent/proxy/service_tracker.h"
#include "netrules/model.h"

namespace knode::proxy {

// Upstream's canUseTopology for a service that asks for it, given this node's zone.
bool can_use_topology(const ServiceInfo& svc, const std::vector<EndpointInfo>& eps, const std::string& zone);

// The endpoints handed to the rules for one service port: topology filtering applied (ready
// endpoints not hinted for the zone are left out when topology is used).
std::vector<netrules::Endpoint> endpoints_for_rules(const ServiceInfo& svc, const std::vector<EndpointInfo>& eps,
                                                    const std::string& zone);

struct SelectedEndpoints {
  std::vector<netrules::Endpoint> cluster;  // serve traffic under policy Cluster
  std::vector<netrules::Endpoint> local;    // serve traffic under policy Local
  bool has_any = false;                     // any usable endpoint anywhere
};
// The complete decision (for tests, logs and the no-local-endpoints metric).
SelectedEndpoints select_endpoints(const ServiceInfo& svc, const std::vector<EndpointInfo>& eps,
                                   const std::string& zone);

// Ready local endpoints per service (distinct ip:port across its ports), as upstream's
// LocalReadyEndpoints: what health check node ports report.
std::map<NamespacedName, int> local_ready_endpoints(const EndpointsMap& all);

}  // namespace knode::proxy
