#include "agent/proxy/proxier.h"

#include <malloc.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "agent/base/log.h"
#include "agent/proxy/endpoint_selection.h"

namespace knode::proxy {
namespace {

double seconds_since_epoch(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

Proxier::Proxier(ProxierOptions options, ProxierDeps deps)
    : opts_(std::move(options)), deps_(std::move(deps)), service_changes_(opts_.node.family),
      slice_changes_(opts_.hostname, opts_.node.family) {}

void Proxier::set_runner(std::function<void()> run, std::function<void(Duration)> retry_after) {
  run_ = std::move(run);
  retry_after_ = std::move(retry_after);
}

bool Proxier::initialized() const {
  std::lock_guard lk(mu_);
  return services_synced_ && slices_synced_ && (node_synced_ || !needs_node(opts_.node));
}

void Proxier::queued() {
  if (!initialized()) return;
  if (deps_.health) deps_.health->queued_update(opts_.node.family);
  if (deps_.metrics) deps_.metrics->last_queued_timestamp.Set(seconds_since_epoch(deps_.clock.wall_now()));
  if (run_) run_();
}

void Proxier::on_service(const kube::Service* previous, const kube::Service* current) {
  bool pending = service_changes_.update(previous, current);
  if (deps_.metrics) {
    deps_.metrics->service_changes.Increment();
    deps_.metrics->service_changes_pending.Set(static_cast<double>(service_changes_.pending()));
  }
  if (pending) queued();
}

void Proxier::on_endpoint_slice(const kube::EndpointSlice* previous, const kube::EndpointSlice* current) {
  bool pending = slice_changes_.update(previous, current);
  if (deps_.metrics) {
    deps_.metrics->endpoint_changes.Increment();
    deps_.metrics->endpoint_changes_pending.Set(static_cast<double>(slice_changes_.pending()));
  }
  if (pending) queued();
}

void Proxier::on_node(const kube::Node* node) {
  if (deps_.health) deps_.health->sync_node(node);
  {
    std::lock_guard lk(mu_);
    if (node) {
      if (node_ && node_->metadata.labels == node->metadata.labels && node_->spec.pod_cidrs == node->spec.pod_cidrs &&
          node_->spec.pod_cidr == node->spec.pod_cidr && node_->status.addresses == node->status.addresses)
        return;  // nothing the rules depend on changed
      node_ = *node;
    } else {
      if (!node_) return;
      node_.reset();
    }
    node_dirty_ = true;
  }
  queued();
}

void Proxier::services_synced() {
  { std::lock_guard lk(mu_); services_synced_ = true; }
  queued();
}
void Proxier::endpoint_slices_synced() {
  { std::lock_guard lk(mu_); slices_synced_ = true; }
  queued();
}
void Proxier::node_synced() {
  { std::lock_guard lk(mu_); node_synced_ = true; }
  queued();
}

void Proxier::refresh_service(const NamespacedName& nsn) {
  // The ports the syncer holds for this service now, to delete those that went away.
  std::vector<netrules::ServicePortName> old = deps_.syncer.service_ports(nsn.namespace_name, nsn.name);
  const EndpointsMap endpoints = slice_changes_.endpoints(nsn);
  static const ServicePortMap kNoPorts;
  const auto& reported = service_changes_.reported();
  const auto svc = reported.find(nsn);
  const ServicePortMap& ports = svc == reported.end() ? kNoPorts : svc->second;
  for (auto it = ports.begin(); it != ports.end(); ++it) {
    const ServiceInfo& info = *it->second;
    static const std::vector<EndpointInfo> kNone;
    const std::vector<EndpointInfo>* eps = &kNone;
    if (auto ep = endpoints.find(it->first); ep != endpoints.end()) eps = &ep->second;
    auto list = endpoints_for_rules(info, *eps, zone_);
    // The no-local-endpoints gauges count ports with a Local policy and no local endpoint.
    auto cat = netrules::categorize_endpoints(info.port, list);
    std::pair<bool, bool> no_local{info.port.internal_policy_local() && cat.local.empty(),
                                   info.port.external_policy_local() && cat.local.empty()};
    if (no_local.first || no_local.second) no_local_[it->first] = no_local;
    else no_local_.erase(it->first);
    deps_.syncer.update_service(std::shared_ptr<const netrules::ServicePort>(it->second, &info.port), std::move(list));
    std::erase(old, it->first);
  }
  for (const auto& gone : old) {
    deps_.syncer.delete_service(gone);
    no_local_.erase(gone);
  }
}

void Proxier::update_health_ports() {
  if (!deps_.service_health) return;
  std::map<NamespacedName, int> ports;
  for (const auto& [nsn, svc] : service_changes_.reported())
    for (const auto& [_, info] : svc)
      if (info->port.health_check_node_port > 0) ports[nsn] = info->port.health_check_node_port;
  deps_.service_health->sync_services(ports);
}

Status Proxier::prepare() {
  if (!initialized()) return Error("not initialized: waiting for Services and EndpointSlices to sync");
  std::set<NamespacedName> changed;

  // Node settings first: they decide the zone and whether everything is rebuilt.
  std::optional<kube::Node> node;
  bool node_dirty;
  {
    std::lock_guard lk(mu_);
    node_dirty = node_dirty_ || !settings_;
    if (node_dirty) node = node_;
  }
  if (node_dirty) {
    auto s = build_node_settings(opts_.node, node ? &*node : nullptr, opts_.local_addresses());
    if (!s) return s.error();
    {
      std::lock_guard lk(mu_);
      node_dirty_ = false;
    }
    if (!settings_ || !(*settings_ == *s)) {
      log::info("Node settings", "nodeIP", s->node_ip, "localDetector", s->local_detector.value,
                "nodePortAllLocal", s->nodeport_all_local);
      deps_.syncer.set_node_settings(*s);
      settings_ = *s;
    }
    std::string zone = node ? node->zone() : std::string();
    if (zone != zone_) {
      zone_ = zone;
      for (const auto& [nsn, _] : service_changes_.reported()) changed.insert(nsn);
    }
  }

  auto svc = service_changes_.checkout_changed();
  if (deps_.metrics) {
    deps_.metrics->service_changes_pending.Set(0);
    deps_.metrics->endpoint_changes_pending.Set(0);
  }
  if (!svc.empty()) health_ports_dirty_ = true;
  changed.insert(svc.begin(), svc.end());
  svc = {};
  // One service's merged endpoints at a time (all at once they are ~10 MiB at 10k Services, and
  // would be freed as holes below the syncer's state built next).
  slice_changes_.checkout([&](const NamespacedName& nsn, EndpointsChange&& ch) {
    if (ch.trigger_time) trigger_times_.push_back(*ch.trigger_time);
    auto counts = local_ready_endpoints(ch.current);
    if (auto c = counts.find(nsn); c != counts.end()) local_counts_[nsn] = c->second;
    else local_counts_.erase(nsn);
    changed.insert(nsn);
  });
  for (const auto& nsn : changed) refresh_service(nsn);
  return {};
}

void Proxier::sync() {
  if (!initialized()) {
    log::infov(2, "Not syncing rules until Services and EndpointSlices have been received from the API server");
    return;
  }
  const SteadyTime start = deps_.clock.now();
  // When nothing changed (the periodic run) or a sync period passed, check that nobody flushed
  // our chains; a missing canary turns this sync into a full one.
  bool nothing_pending = service_changes_.pending() == 0 && slice_changes_.pending() == 0;
  if (last_sync_ok_ && (nothing_pending || start - last_canary_check_ >= opts_.sync_period)) {
    last_canary_check_ = start;
    auto ok = deps_.syncer.check_canaries();
    if (!ok) log::error("Checking the canary chains failed", ok.error());
    else if (!*ok) log::info("Canary chain missing or flushed; resyncing every rule");
  }

  if (Status st = prepare(); !st) {
    log::error("Cannot compute the proxy rules yet", st.error());
    if (retry_after_) retry_after_(std::chrono::seconds(1));
    return;
  }
  // As upstream (FullSyncPeriod): a full compare-and-repair at least once an hour.
  if (start - last_full_sync_ >= std::chrono::hours(1)) deps_.syncer.request_full_sync();
  bool full = deps_.syncer.full_sync_pending();
  // A full sync renders tens of MiB at 10k Services: hand back what the lists and handlers freed
  // before, so that the render reuses those pages instead of adding to them (peak 236 -> 180 MiB).
  if (full) malloc_trim(0);
  auto r = deps_.syncer.sync();
  const double secs = std::chrono::duration<double>(deps_.clock.now() - start).count();
  if (!r) {
    log::error("Failed to execute iptables-restore", r.error());
    {
      std::lock_guard lk(stats_mu_);
      ++stats_.failed_syncs;
    }
    if (deps_.metrics) {
      deps_.metrics->restore_failures.Increment();
      if (!full) deps_.metrics->partial_restore_failures.Increment();
    }
    last_sync_ok_ = false;
    // The syncer keeps the desired state and makes the next sync a full one.
    if (retry_after_) retry_after_(opts_.sync_period);
    return;
  }
  last_sync_ok_ = true;
  if (r->full) last_canary_check_ = last_full_sync_ = start;  // a full sync has just compared every chain
  if (deps_.conntrack && !r->conntrack.empty())
    if (Status st = deps_.conntrack(r->conntrack); !st) log::error("Failed to clean up stale conntrack entries", st.error());

  if (deps_.health) deps_.health->updated(opts_.node.family);
  if (deps_.service_health) {
    if (health_ports_dirty_) {
      update_health_ports();
      health_ports_dirty_ = false;
    }
    deps_.service_health->sync_endpoints(local_counts_);
  }
  const WallTime wall = deps_.clock.wall_now();
  if (deps_.metrics) {
    auto& m = *deps_.metrics;
    m.sync_duration.Observe(secs);
    (r->full ? m.sync_full_duration : m.sync_partial_duration).Observe(secs);
    m.last_timestamp.Set(seconds_since_epoch(wall));
    for (const auto& t : trigger_times_)
      m.network_programming.Observe(std::max(0.0, std::chrono::duration<double>(wall - t).count()));
    int internal = 0, external = 0;
    for (const auto& [_, flags] : no_local_) {
      internal += flags.first;
      external += flags.second;
    }
    m.no_local_endpoints_internal.Set(internal);
    m.no_local_endpoints_external.Set(external);
    // Rules per table of the complete desired ruleset: known after a full sync that compared;
    // after an adoption (nothing rendered) counted here, once health has been reported.
    if (r->full && (r->desired_rules || r->adopted)) {
      auto counts = r->desired_rules ? *r->desired_rules : deps_.syncer.count_desired_rules();
      m.iptables_rules_nat.Set(static_cast<double>(counts.nat));
      m.iptables_rules_filter.Set(static_cast<double>(counts.filter));
    }
  }
  trigger_times_.clear();
  {
    std::lock_guard lk(stats_mu_);
    ++stats_.syncs;
    ++(r->full ? stats_.full_syncs : stats_.partial_syncs);
    stats_.services = service_changes_.reported_ports();
    r->payload = std::string();  // at 10k Services a full sync's payload is tens of MiB
    stats_.last = *r;
  }
  // A full sync renders the whole ruleset (tens of MiB at 10k Services) and drops it again: hand
  // the freed pages back instead of keeping them in malloc's free lists.
  if (r->full) malloc_trim(0);
  log::infov(r->full ? 2 : 4, "Synced proxy rules", "full", r->full, "adopted", r->adopted,
             "chainsWritten", r->chains_written, "chainsDeleted", r->chains_deleted, "ruleLines", r->rule_lines,
             "services", stats_.services, "elapsed", secs);
}

Proxier::Stats Proxier::stats() const {
  std::lock_guard lk(stats_mu_);
  return stats_;
}

}  // namespace knode::proxy
