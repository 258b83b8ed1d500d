#include "agent/proxy/meta_proxier.h"

#include <algorithm>

namespace knode::proxy {

// Each family's proxier reports to its own part; the shared registry gets the union.
class MetaProxier::MergedServiceHealth {
 public:
  class Part final : public ServiceHealthRegistry {
   public:
    Part(MergedServiceHealth& owner, size_t index) : owner_(owner), index_(index) {}
    void sync_services(const std::map<NamespacedName, int>& ports) override { owner_.set_ports(index_, ports); }
    void sync_endpoints(const std::map<NamespacedName, int>& counts) override { owner_.set_counts(index_, counts); }

   private:
    MergedServiceHealth& owner_;
    size_t index_;
  };

  MergedServiceHealth(ServiceHealthRegistry& target, size_t families)
      : target_(target), ports_(families), counts_(families) {
    for (size_t i = 0; i < families; ++i) parts_.push_back(std::make_unique<Part>(*this, i));
  }
  ServiceHealthRegistry* part(size_t i) { return parts_[i].get(); }

 private:
  void set_ports(size_t i, const std::map<NamespacedName, int>& ports) {
    ports_[i] = ports;
    std::map<NamespacedName, int> all;
    for (const auto& m : ports_) all.insert(m.begin(), m.end());  // a dual-stack Service has one port
    target_.sync_services(all);
  }
  void set_counts(size_t i, const std::map<NamespacedName, int>& counts) {
    counts_[i] = counts;
    std::map<NamespacedName, int> all;
    for (const auto& m : counts_)
      for (const auto& [nsn, n] : m) all[nsn] = std::max(all[nsn], n);
    target_.sync_endpoints(all);
  }

  ServiceHealthRegistry& target_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::vector<std::map<NamespacedName, int>> ports_, counts_;
};

MetaProxier::MetaProxier(ProxierOptions options, const std::vector<netrules::IPFamily>& families,
                         const std::vector<netrules::IptablesSyncer*>& syncers, ProxierDeps deps) {
  if (deps.service_health && families.size() > 1)
    merged_health_ = std::make_unique<MergedServiceHealth>(*deps.service_health, families.size());
  for (size_t i = 0; i < families.size(); ++i) {
    ProxierOptions o = options;
    o.node.family = families[i];
    o.node.primary_family = i == 0;
    ProxierDeps d{.syncer = *syncers[i], .clock = deps.clock, .health = deps.health, .metrics = deps.metrics,
                  .service_health = merged_health_ ? merged_health_->part(i) : deps.service_health,
                  .conntrack = deps.conntrack};
    proxiers_.push_back(std::make_unique<Proxier>(std::move(o), std::move(d)));
  }
}

MetaProxier::~MetaProxier() = default;

void MetaProxier::set_runner(std::function<void()> run, std::function<void(Duration)> retry_after) {
  for (auto& p : proxiers_) p->set_runner(run, retry_after);
}
void MetaProxier::on_service(const kube::Service* previous, const kube::Service* current) {
  for (auto& p : proxiers_) p->on_service(previous, current);
}
void MetaProxier::on_endpoint_slice(const kube::EndpointSlice* previous, const kube::EndpointSlice* current) {
  for (auto& p : proxiers_) p->on_endpoint_slice(previous, current);
}
void MetaProxier::on_node(const kube::Node* node) {
  for (auto& p : proxiers_) p->on_node(node);
}
void MetaProxier::services_synced() {
  for (auto& p : proxiers_) p->services_synced();
}
void MetaProxier::endpoint_slices_synced() {
  for (auto& p : proxiers_) p->endpoint_slices_synced();
}
void MetaProxier::node_synced() {
  for (auto& p : proxiers_) p->node_synced();
}
bool MetaProxier::initialized() const {
  return std::all_of(proxiers_.begin(), proxiers_.end(), [](const auto& p) { return p->initialized(); });
}
Status MetaProxier::prepare() {
  for (auto& p : proxiers_)
    if (Status st = p->prepare(); !st) return st;
  return {};
}
void MetaProxier::sync() {
  for (auto& p : proxiers_) p->sync();
}

}  // namespace knode::proxy
