// The proxy's control loop core. Informer handlers call on_*() which only record changes in the
// trackers (and request a sync); sync(), run by the BoundedFrequencyRunner, checks the changes
// out, turns the affected services into rule-model service ports with their selected endpoints,
// hands them to the IptablesSyncer (partial syncs, full resync after failures and flushes), then
// cleans stale conntrack flows and updates health, health check ports and metrics.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/base/result.h"
#include "agent/kube/endpointslice.h"
#include "agent/kube/node.h"
#include "agent/kube/service.h"
#include "agent/proxy/clock.h"
#include "agent/proxy/endpoints_tracker.h"
#include "agent/proxy/health.h"
#include "agent/proxy/metrics.h"
#include "agent/proxy/node_settings.h"
#include "agent/proxy/service_health.h"
#include "agent/proxy/service_tracker.h"
#include "netrules/conntrack.h"
#include "netrules/iptables_syncer.h"

namespace knode::proxy {

struct ProxierOptions {
  std::string hostname;
  NodeSettingsConfig node;
  Duration sync_period = std::chrono::seconds(30);
  // Where the addresses for nodePortAddresses CIDRs come from (tests replace it).
  std::function<std::vector<std::string>()> local_addresses = local_interface_addresses;
};

struct ProxierDeps {
  netrules::IptablesSyncer& syncer;
  const Clock& clock;
  ProxierHealth* health = nullptr;
  ProxyMetrics* metrics = nullptr;
  ServiceHealthRegistry* service_health = nullptr;
  std::function<Status(const netrules::ConntrackCleanup&)> conntrack;  // null: no cleanup
};

class Proxier {
 public:
  Proxier(ProxierOptions options, ProxierDeps deps);

  // How the proxier asks for a run (the runner's run() / retry_after()).
  void set_runner(std::function<void()> run, std::function<void(Duration)> retry_after);

  // ---- informer side (any thread): record and request a sync ----
  void on_service(const kube::Service* previous, const kube::Service* current);
  void on_endpoint_slice(const kube::EndpointSlice* previous, const kube::EndpointSlice* current);
  void on_node(const kube::Node* node);  // this node; null when deleted
  void services_synced();
  void endpoint_slices_synced();
  void node_synced();
  // Services and EndpointSlices have synced (and the Node, when the settings need it).
  bool initialized() const;

  // ---- the runner's side ----
  // Applies the pending changes to the syncer's desired state, without I/O. Fails while not
  // initialized or when the node settings cannot be computed yet.
  Status prepare();
  // prepare() + one transaction + conntrack cleanup + health/metrics. The runner's function.
  void sync();

  struct Stats {
    uint64_t syncs = 0, failed_syncs = 0, full_syncs = 0, partial_syncs = 0;
    size_t services = 0;
    std::optional<netrules::SyncResult> last;
  };
  Stats stats() const;
  // The services as last checked out (runner thread only).
  const std::map<NamespacedName, ServicePortMap>& services() const { return service_changes_.reported(); }

 private:
  void queued();
  void refresh_service(const NamespacedName& nsn);
  void update_health_ports();

  ProxierOptions opts_;
  ProxierDeps deps_;
  ServiceChangeTracker service_changes_;
  EndpointSliceTracker slice_changes_;
  std::function<void()> run_;
  std::function<void(Duration)> retry_after_;

  mutable std::mutex mu_;  // guards the fields below up to node_dirty_
  bool services_synced_ = false, slices_synced_ = false, node_synced_ = false;
  std::optional<kube::Node> node_;
  bool node_dirty_ = true;

  // Runner thread only.
  // Services: service_changes_.reported(); endpoints: slice_changes_.endpoints(); ports
  // programmed: the syncer's.
  std::optional<netrules::NodeSettings> settings_;
  std::string zone_;
  std::map<NamespacedName, int> local_counts_;
  std::map<netrules::ServicePortName, std::pair<bool, bool>> no_local_;  // internal, external; ports with either
  std::vector<WallTime> trigger_times_;
  bool health_ports_dirty_ = true;
  bool last_sync_ok_ = false;
  SteadyTime last_canary_check_{};
  SteadyTime last_full_sync_{};
  Stats stats_;
  mutable std::mutex stats_mu_;
};

}  // namespace knode::proxy
