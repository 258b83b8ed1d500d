#include "agent/proxy/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace knode::proxy {
namespace {

using prometheus::Histogram;

Histogram::BucketBoundaries exponential(double start, double factor, int count) {
  Histogram::BucketBoundaries b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

Histogram::BucketBoundaries linear(double start, double width, int count, Histogram::BucketBoundaries b = {}) {
  for (int i = 0; i < count; ++i) b.push_back(start + width * i);
  return b;
}

prometheus::Histogram& histogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                                 Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(buckets));
}
prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help,
                         prometheus::Labels labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(labels);
}
prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help,
                             prometheus::Labels labels = {}) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(labels);
}

// Upstream's network programming buckets: 0.25..0.5 by 0.25, 1..59 by 1, 60..115 by 5, 120..300 by 30.
Histogram::BucketBoundaries network_programming_buckets() {
  auto b = linear(0.25, 0.25, 2);
  b = linear(1, 1, 59, b);
  b = linear(60, 5, 12, b);
  return linear(120, 30, 7, b);
}

}  // namespace

ProxyMetrics::ProxyMetrics() : ProxyMetrics(std::make_shared<prometheus::Registry>()) {}

ProxyMetrics::ProxyMetrics(std::shared_ptr<prometheus::Registry> r)
    : sync_duration(histogram(*r, "kubeproxy_sync_proxy_rules_duration_seconds",
                              "SyncProxyRules latency in seconds", exponential(0.001, 2, 15))),
      sync_full_duration(histogram(*r, "kubeproxy_sync_full_proxy_rules_duration_seconds",
                                   "SyncProxyRules latency in seconds for full resyncs", exponential(0.001, 2, 15))),
      sync_partial_duration(histogram(*r, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                                      "SyncProxyRules latency in seconds for partial resyncs",
                                      exponential(0.001, 2, 15))),
      last_timestamp(gauge(*r, "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                           "The last time proxy rules were successfully synced")),
      last_queued_timestamp(gauge(*r, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                                  "The last time a sync of proxy rules was queued")),
      network_programming(histogram(*r, "kubeproxy_network_programming_duration_seconds",
                                    "In Cluster Network Programming Latency in seconds",
                                    network_programming_buckets())),
      iptables_rules_nat(gauge(*r, "kubeproxy_sync_proxy_rules_iptables_total",
                               "Total number of iptables rules owned by kube-proxy", {{"table", "nat"}})),
      iptables_rules_filter(prometheus::BuildGauge().Name("kubeproxy_sync_proxy_rules_iptables_total")
                                .Help("Total number of iptables rules owned by kube-proxy")
                                .Register(*r).Add({{"table", "filter"}})),
      partial_restore_failures(counter(*r, "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                                       "Cumulative proxy iptables partial restore failures")),
      restore_failures(counter(*r, "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                               "Cumulative proxy iptables restore failures")),
      endpoint_changes(counter(*r, "kubeproxy_sync_proxy_rules_endpoint_changes_total",
                               "Cumulative proxy rules Endpoint changes")),
      endpoint_changes_pending(gauge(*r, "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
                                     "Pending proxy rules Endpoint changes")),
      service_changes(counter(*r, "kubeproxy_sync_proxy_rules_service_changes_total",
                              "Cumulative proxy rules Service changes")),
      service_changes_pending(gauge(*r, "kubeproxy_sync_proxy_rules_service_changes_pending",
                                    "Pending proxy rules Service changes")),
      no_local_endpoints_internal(gauge(*r, "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
                                        "Number of services with a Local traffic policy and no endpoints",
                                        {{"traffic_policy", "internal"}})),
      no_local_endpoints_external(prometheus::BuildGauge().Name("kubeproxy_sync_proxy_rules_no_local_endpoints_total")
                                      .Help("Number of services with a Local traffic policy and no endpoints")
                                      .Register(*r).Add({{"traffic_policy", "external"}})),
      healthz_200(counter(*r, "kubeproxy_proxy_healthz_total", "Cumulative proxy healthz HTTP status", {{"code", "200"}})),
      healthz_503(prometheus::BuildCounter().Name("kubeproxy_proxy_healthz_total")
                      .Help("Cumulative proxy healthz HTTP status").Register(*r).Add({{"code", "503"}})),
      livez_200(counter(*r, "kubeproxy_proxy_livez_total", "Cumulative proxy livez HTTP status", {{"code", "200"}})),
      livez_503(prometheus::BuildCounter().Name("kubeproxy_proxy_livez_total")
                    .Help("Cumulative proxy livez HTTP status").Register(*r).Add({{"code", "503"}})),
      registry_(std::move(r)) {}

ProxyMetrics::~ProxyMetrics() = default;

std::string ProxyMetrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace knode::proxy
