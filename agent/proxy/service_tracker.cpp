#include "agent/proxy/service_tracker.h"

#include <algorithm>

namespace knode::proxy {
namespace {

std::optional<netrules::Protocol> parse_protocol(const std::string& p) {
  if (p.empty() || p == "TCP") return netrules::Protocol::TCP;
  if (p == "UDP") return netrules::Protocol::UDP;
  if (p == "SCTP") return netrules::Protocol::SCTP;
  return std::nullopt;
}

bool family_of(const std::string& ip, netrules::IPFamily f) { return netrules::family_of(ip) == f; }

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string annotation(const kube::ObjectMeta& m, std::string_view key) {
  auto it = m.annotations.find(std::string(key));
  return it == m.annotations.end() ? std::string() : it->second;
}

}  // namespace

std::string service_skip_reason(const kube::Service& svc) {
  if (svc.metadata.labels.count(std::string(kube::kServiceProxyNameLabel))) return "service-proxy-name label";
  if (svc.metadata.labels.count(std::string(kube::kHeadlessServiceLabel))) return "headless label";
  if (svc.spec.type == "ExternalName") return "ExternalName";
  if (svc.spec.cluster_ip.empty() && svc.spec.cluster_ips.empty()) return "no cluster IP";
  if (svc.is_headless()) return "headless";
  return {};
}

ServicePortMap service_ports(const kube::Service& svc, netrules::IPFamily family) {
  ServicePortMap out;
  if (!service_skip_reason(svc).empty()) return out;
  std::string cluster_ip;
  for (const auto& ip : svc.all_cluster_ips())
    if (ip != "None" && family_of(ip, family)) {
      cluster_ip = ip;
      break;
    }
  if (cluster_ip.empty()) return out;

  bool prefer_close = false;
  if (svc.spec.traffic_distribution) {
    prefer_close = *svc.spec.traffic_distribution == "PreferClose";
  } else {
    std::string mode = annotation(svc.metadata, kube::kTopologyModeAnnotation);
    if (mode.empty()) mode = annotation(svc.metadata, kube::kTopologyAwareHintsAnnotation);
    prefer_close = mode == "Auto" || mode == "auto";
  }
  const bool is_lb = svc.spec.type == "LoadBalancer";
  const bool is_nodeport = svc.spec.type == "NodePort" || is_lb;

  for (const auto& p : svc.spec.ports) {
    auto proto = parse_protocol(p.protocol);
    if (!proto) continue;
    netrules::ServicePort sp;
    sp.name = {svc.metadata.namespace_, svc.metadata.name, p.name, *proto};
    sp.cluster_ip = cluster_ip;
    sp.port = p.port;
    sp.node_port = is_nodeport ? p.node_port : 0;
    for (const auto& ip : svc.spec.external_ips)
      if (family_of(ip, family)) sp.external_ips.push_back(ip);
    if (is_lb) {
      for (const auto& in : svc.status.load_balancer.ingress) {
        if (in.ip.empty() || !family_of(in.ip, family)) continue;
        sp.load_balancer_ingress.push_back(
            {in.ip, in.ip_mode && *in.ip_mode == "Proxy" ? netrules::LoadBalancerIPMode::Proxy
                                                          : netrules::LoadBalancerIPMode::VIP});
      }
      for (const auto& r : svc.spec.load_balancer_source_ranges) {
        std::string cidr = trim(r);
        if (!cidr.empty() && family_of(cidr, family)) sp.load_balancer_source_ranges.push_back(cidr);
      }
    }
    if (svc.spec.session_affinity == "ClientIP") {
      sp.session_affinity_client_ip = true;
      if (svc.spec.session_affinity_config && svc.spec.session_affinity_config->client_ip &&
          svc.spec.session_affinity_config->client_ip->timeout_seconds)
        sp.sticky_max_age_seconds = *svc.spec.session_affinity_config->client_ip->timeout_seconds;
    }
    sp.external_traffic_policy = svc.spec.external_traffic_policy == "Local" ? netrules::TrafficPolicy::Local
                                                                             : netrules::TrafficPolicy::Cluster;
    sp.internal_traffic_policy = svc.spec.internal_traffic_policy && *svc.spec.internal_traffic_policy == "Local"
                                     ? netrules::TrafficPolicy::Local
                                     : netrules::TrafficPolicy::Cluster;
    if (is_lb && sp.external_traffic_policy == netrules::TrafficPolicy::Local)
      sp.health_check_node_port = svc.spec.health_check_node_port;
    auto name = sp.name;
    out[name] = std::make_shared<const ServiceInfo>(ServiceInfo{std::move(sp), prefer_close});
  }
  return out;
}

bool same_ports(const ServicePortMap& a, const ServicePortMap& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.first == y.first && (x.second == y.second || (x.second && y.second && *x.second == *y.second));
  });
}

bool ServiceChangeTracker::update(const kube::Service* previous, const kube::Service* current) {
  const kube::Service* any = current ? current : previous;
  if (!any) return false;
  NamespacedName nsn{any->metadata.namespace_, any->metadata.name};
  ServicePortMap ports = current ? service_ports(*current, family_) : ServicePortMap{};
  std::lock_guard lk(mu_);
  auto it = changes_.find(nsn);
  if (it == changes_.end()) {
    // The change starts from what the last checkout reported, not from the informer's previous
    // object: the proxy's cache keeps only the metadata of each Service.
    auto rep = reported_.find(nsn);
    it = changes_.emplace(nsn, ServiceChange{rep == reported_.end() ? ServicePortMap{} : rep->second, {}}).first;
  }
  // Ports that did not change keep the copy already shared with the proxier and the syncer.
  for (auto& [name, info] : ports)
    if (auto prev = it->second.previous.find(name); prev != it->second.previous.end() && *prev->second == *info)
      info = prev->second;
  it->second.current = std::move(ports);
  if (same_ports(it->second.previous, it->second.current)) {
    changes_.erase(it);
    return false;
  }
  return true;
}

std::map<NamespacedName, ServiceChange> ServiceChangeTracker::checkout() {
  std::lock_guard lk(mu_);
  for (const auto& [nsn, ch] : changes_) {
    if (ch.current.empty()) reported_.erase(nsn);
    else reported_[nsn] = ch.current;
  }
  return std::exchange(changes_, {});
}

std::vector<NamespacedName> ServiceChangeTracker::checkout_changed() {
  std::lock_guard lk(mu_);
  std::vector<NamespacedName> out;
  out.reserve(changes_.size());
  for (auto& [nsn, ch] : changes_) {
    if (ch.current.empty()) reported_.erase(nsn);
    else reported_[nsn] = std::move(ch.current);
    out.push_back(nsn);
  }
  changes_.clear();
  return out;
}

size_t ServiceChangeTracker::reported_ports() const {
  size_t n = 0;
  for (const auto& [_, ports] : reported_) n += ports.size();
  return n;
}

size_t ServiceChangeTracker::pending() const {
  std::lock_guard lk(mu_);
  return changes_.size();
}

std::set<NamespacedName> apply_service_changes(ServicePortMap& map,
                                               const std::map<NamespacedName, ServiceChange>& changes) {
  std::set<NamespacedName> updated;
  for (const auto& [nsn, ch] : changes) {
    // Every port of the service goes, whatever was recorded as previous.
    auto it = map.lower_bound(netrules::ServicePortName{nsn.namespace_name, nsn.name, "", netrules::Protocol::TCP});
    while (it != map.end() && it->first.namespace_name == nsn.namespace_name && it->first.name == nsn.name)
      it = map.erase(it);
    for (const auto& [name, info] : ch.current) map[name] = info;
    updated.insert(nsn);
  }
  return updated;
}

}  // namespace knode::proxy
