// The proxy's Prometheus metrics with upstream kube-proxy's names (pkg/proxy/metrics), in a
// prometheus-cpp registry; render() gives the text exposition format for /metrics.
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Registry;
class Histogram;
class Gauge;
class Counter;
template <class T> class Family;
}  // namespace prometheus

namespace knode::proxy {

class ProxyMetrics {
 public:
  ProxyMetrics();
  ~ProxyMetrics();

  prometheus::Registry& registry() { return *registry_; }
  std::string render() const;

  prometheus::Histogram& sync_duration;          // kubeproxy_sync_proxy_rules_duration_seconds
  prometheus::Histogram& sync_full_duration;     // ..._full_proxy_rules_duration_seconds
  prometheus::Histogram& sync_partial_duration;  // ..._partial_proxy_rules_duration_seconds
  prometheus::Gauge& last_timestamp;             // kubeproxy_sync_proxy_rules_last_timestamp_seconds
  prometheus::Gauge& last_queued_timestamp;      // ..._last_queued_timestamp_seconds
  prometheus::Histogram& network_programming;    // kubeproxy_network_programming_duration_seconds
  prometheus::Gauge& iptables_rules_nat;         // kubeproxy_sync_proxy_rules_iptables_total{table="nat"}
  prometheus::Gauge& iptables_rules_filter;      // {table="filter"}
  prometheus::Counter& partial_restore_failures; // ..._iptables_partial_restore_failures_total
  prometheus::Counter& restore_failures;         // ..._iptables_restore_failures_total
  prometheus::Counter& endpoint_changes;         // ..._endpoint_changes_total
  prometheus::Gauge& endpoint_changes_pending;   // ..._endpoint_changes_pending
  prometheus::Counter& service_changes;          // ..._service_changes_total
  prometheus::Gauge& service_changes_pending;    // ..._service_changes_pending
  prometheus::Gauge& no_local_endpoints_internal;  // ..._no_local_endpoints_total{traffic_policy="internal"}
  prometheus::Gauge& no_local_endpoints_external;  // {traffic_policy="external"}
  prometheus::Counter& healthz_200;              // kubeproxy_proxy_healthz_total{code="200"}
  prometheus::Counter& healthz_503;
  prometheus::Counter& livez_200;                // kubeproxy_proxy_livez_total{code="200"}
  prometheus::Counter& livez_503;

 private:
  explicit ProxyMetrics(std::shared_ptr<prometheus::Registry> r);
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace knode::proxy
