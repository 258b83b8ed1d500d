#include "agent/proxy/endpoint_selection.h"

#include <algorithm>
#include <set>

namespace knode::proxy {

bool can_use_topology(const ServiceInfo& svc, const std::vector<EndpointInfo>& eps, const std::string& zone) {
  if (!svc.prefer_close || zone.empty()) return false;
  bool has_for_zone = false;
  for (const auto& ep : eps) {
    if (!ep.ready) continue;
    if (ep.zone_hints.empty()) return false;
    if (std::binary_search(ep.zone_hints.begin(), ep.zone_hints.end(), zone)) has_for_zone = true;
  }
  return has_for_zone;
}

std::vector<netrules::Endpoint> endpoints_for_rules(const ServiceInfo& svc, const std::vector<EndpointInfo>& eps,
                                                    const std::string& zone) {
  const bool topology = svc.port.uses_cluster_endpoints() && can_use_topology(svc, eps, zone);
  std::vector<netrules::Endpoint> out;
  out.reserve(eps.size());
  for (const auto& ep : eps) {
    // Topology only narrows the ready set (the terminating fallback cannot apply: a ready
    // endpoint for the zone exists). A local endpoint stays for the Local policy's sake.
    if (topology && ep.ready && !std::binary_search(ep.zone_hints.begin(), ep.zone_hints.end(), zone) &&
        !(ep.is_local && svc.port.uses_local_endpoints()))
      continue;
    out.push_back(netrules::Endpoint{.ip = ep.ip, .port = ep.port, .ready = ep.ready, .serving = ep.serving,
                                     .terminating = ep.terminating, .is_local = ep.is_local});
  }
  return out;
}

SelectedEndpoints select_endpoints(const ServiceInfo& svc, const std::vector<EndpointInfo>& eps,
                                   const std::string& zone) {
  auto list = endpoints_for_rules(svc, eps, zone);
  auto cat = netrules::categorize_endpoints(svc.port, list);
  SelectedEndpoints out;
  for (const auto* e : cat.cluster) out.cluster.push_back(*e);
  for (const auto* e : cat.local) out.local.push_back(*e);
  out.has_any = cat.has_any;
  return out;
}

std::map<NamespacedName, int> local_ready_endpoints(const EndpointsMap& all) {
  std::map<NamespacedName, std::set<std::string>> sets;
  for (const auto& [spn, eps] : all)
    for (const auto& ep : eps)
      if (ep.is_local && ep.ready) sets[namespaced_name(spn)].insert(ep.str());
  std::map<NamespacedName, int> out;
  for (const auto& [nsn, s] : sets) out[nsn] = static_cast<int>(s.size());
  return out;
}

}  // namespace knode::proxy
