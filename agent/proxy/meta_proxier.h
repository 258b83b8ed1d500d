// One proxier per IP family behind one interface, as upstream's metaProxier: informer events go
// to every family's proxier (each keeps what is of its family: cluster IPs, external and load
// balancer IPs, EndpointSlices of its addressType), and one sync runs them all in turn. Health
// (per family inside ProxierHealth) and metrics are shared; health check node ports serve the union
// of the families' Services, with a Service's largest per-family local endpoint count.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "agent/proxy/proxier.h"

namespace knode::proxy {

class MetaProxier {
 public:
  // One IptablesSyncer per family, primary family first. deps.syncer is ignored; deps.service_health
  // (if any) is shared by all families.
  MetaProxier(ProxierOptions options, const std::vector<netrules::IPFamily>& families,
              const std::vector<netrules::IptablesSyncer*>& syncers, ProxierDeps deps);
  ~MetaProxier();

  void set_runner(std::function<void()> run, std::function<void(Duration)> retry_after);

  void on_service(const kube::Service* previous, const kube::Service* current);
  void on_endpoint_slice(const kube::EndpointSlice* previous, const kube::EndpointSlice* current);
  void on_node(const kube::Node* node);
  void services_synced();
  void endpoint_slices_synced();
  void node_synced();
  bool initialized() const;

  Status prepare();  // every family's; the first error
  void sync();       // every family's, in order

  size_t size() const { return proxiers_.size(); }
  Proxier& family(size_t i) { return *proxiers_[i]; }

 private:
  class MergedServiceHealth;
  std::unique_ptr<MergedServiceHealth> merged_health_;
  std::vector<std::unique_ptr<Proxier>> proxiers_;
};

}  // namespace knode::proxy
