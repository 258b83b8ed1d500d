// The proxy's event → rules-applied latency: N Services × E endpoints programmed through the
// Proxier, then single endpoint changes (EndpointSlice JSON decoded, tracked, synced) timed
// end to end. Default backend: one that accepts payloads without applying them (the proxy's
// own cost: decode, trackers, endpoint selection, rule generation, diff); --backend fake uses
// the in-memory FakeBackend (which copies its whole state per transaction). With
// --iptables legacy|nft the rules go through the real iptables-restore inside a private network
// namespace this process unshares (root needed; the host's rules are never touched).
//
// The objects are shaped like an API server's (uids, owner references, targetRefs); --objects
// minimal keeps only the fields the proxy reads. The informers' caches are modelled as the proxy
// has them (agent/proxy_role.cpp): a kube::Store per resource keeping only each object's metadata
// (and a slice's addressType), plus the informer's map of what its handlers saw; the handlers
// decode the whole objects and feed the trackers.
//
//   knode_bench_proxy [--services 10000] [--endpoints 10] [--changes 20] [--iptables legacy|nft]
//                     [--backend null|fake] [--objects full|minimal]
#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "agent/kube/client/store.h"
#include "agent/kube/codec.h"
#include "agent/kube/endpointslice.h"
#include "agent/kube/service.h"
#include "agent/proxy/proxier.h"
#include "netrules/fake_backend.h"
#include "netrules/iptables_backend.h"

using namespace knode;
using SteadyClock = std::chrono::steady_clock;

namespace {

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

// Bytes malloc has handed out and not had back (the live heap, mmapped blocks included).
double heap_mib() {
  const auto m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / 1048576.0;
}

long status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  return 0;
}
long rss_kib() { return status_kib("VmRSS:"); }
long hwm_kib() { return status_kib("VmHWM:"); }

std::string svc_ip(int i) { return fmt::format("172.30.{}.{}", i / 250, i % 250 + 1); }
// Shaped like what an API server returns (metadata an informer keeps, managedFields left out).
std::string uid(int i, int j) { return fmt::format("{:08x}-7c1e-4b5a-9f3d-{:012x}", i, j); }
std::string service_json(int i, bool minimal) {
  if (minimal)
    return fmt::format(R"({{"metadata":{{"name":"svc{}","namespace":"bench"}},"spec":{{"clusterIP":"{}","ports":[{{"name":"http","port":80,"targetPort":8080}}]}}}})",
                       i, svc_ip(i));
  return fmt::format(
      R"({{"metadata":{{"name":"svc{}","namespace":"bench","uid":"{}","resourceVersion":"{}","creationTimestamp":"2026-11-27T20:38:23Z","labels":{{"app":"svc{}"}}}},)"
      R"("spec":{{"clusterIP":"{}","clusterIPs":["{}"],"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster",)"
      R"("selector":{{"app":"svc{}"}},"ports":[{{"name":"http","protocol":"TCP","port":80,"targetPort":8080}}]}},"status":{{"loadBalancer":{{}}}}}})",
      i, uid(i, 0), 1000 + i, i, svc_ip(i), svc_ip(i), i);
}
// Endpoint j of service i: unique per (i, j) for i < 64000; `variant` moves endpoint 0.
std::string slice_json(int i, int endpoints, int variant, bool minimal) {
  std::string eps;
  for (int j = 0; j < endpoints; ++j) {
    if (!eps.empty()) eps += ",";
    std::string ip = fmt::format("10.{}.{}.{}", 64 + j + (j == 0 ? variant * 20 : 0), (i / 250) % 256, i % 250 + 1);
    if (minimal) {
      eps += fmt::format(R"({{"addresses":["{}"],"conditions":{{"ready":true}},"nodeName":"node-{}","zone":"zone-{}"}})", ip,
                         j % 3, j % 3);
      continue;
    }
    eps += fmt::format(
        R"({{"addresses":["{}"],"conditions":{{"ready":true,"serving":true,"terminating":false}},"nodeName":"node-{}",)"
        R"("targetRef":{{"kind":"Pod","namespace":"bench","name":"svc{}-7d9f8c6b5-{:05d}","uid":"{}"}},"zone":"zone-{}"}})",
        ip, j % 3, i, j + variant * 100, uid(i, j + 1 + variant * 100), j % 3);
  }
  if (minimal)
    return fmt::format(R"({{"metadata":{{"name":"svc{}-abc12","namespace":"bench","labels":{{"kubernetes.io/service-name":"svc{}"}}}},)"
                       R"("addressType":"IPv4","endpoints":[{}],"ports":[{{"name":"http","protocol":"TCP","port":8080}}]}})",
                       i, i, eps);
  return fmt::format(
      R"({{"metadata":{{"name":"svc{}-abc12","generateName":"svc{}-","namespace":"bench","uid":"{}","resourceVersion":"{}",)"
      R"("creationTimestamp":"2026-11-27T20:38:23Z","generation":1,"labels":{{"kubernetes.io/service-name":"svc{}",)"
      R"("endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}},)"
      R"("ownerReferences":[{{"apiVersion":"v1","kind":"Service","name":"svc{}","uid":"{}","controller":true,"blockOwnerDeletion":true}}]}},)"
      R"("addressType":"IPv4","endpoints":[{}],"ports":[{{"name":"http","protocol":"TCP","port":8080}}]}})",
      i, i, uid(i, 999), 2000 + i + 1000000 * variant, i, i, uid(i, 0), eps);
}

// Accepts every payload (counting bytes) and reports empty tables.
class NullBackend final : public netrules::Backend {
 public:
  Status restore(std::string_view payload) override {
    bytes += payload.size();
    return {};
  }
  Result<std::string> save() override { return std::string(); }
  Result<std::optional<std::vector<std::string>>> list_chain(std::string_view, std::string_view) override {
    return std::optional<std::vector<std::string>>();
  }
  size_t bytes = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int services = 10000, endpoints = 10, changes = 20;
  std::string iptables, backend_name = "null", objects = "full";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--services") services = std::atoi(argv[i + 1]);
    else if (a == "--endpoints") endpoints = std::atoi(argv[i + 1]);
    else if (a == "--changes") changes = std::atoi(argv[i + 1]);
    else if (a == "--iptables") iptables = argv[i + 1];
    else if (a == "--backend") backend_name = argv[i + 1];
    else if (a == "--objects") objects = argv[i + 1];
  }
  const bool minimal = objects == "minimal";
  std::unique_ptr<netrules::Backend> backend;
  if (iptables.empty()) {
    if (backend_name == "fake") backend = std::make_unique<netrules::FakeBackend>();
    else backend = std::make_unique<NullBackend>();
  } else {
    if (unshare(CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "unshare(CLONE_NEWNET): %s (needs root)\n", std::strerror(errno));
      return 1;
    }
    backend = std::make_unique<netrules::IptablesRestoreBackend>(netrules::IptablesBackendOptions{
        .mode = iptables == "nft" ? netrules::IptablesMode::Nft : netrules::IptablesMode::Legacy});
  }
  netrules::IptablesSyncer syncer(*backend, netrules::NodeSettings{});
  proxy::SystemClock clock;
  proxy::Proxier p(proxy::ProxierOptions{.hostname = "node-0", .node = {.cluster_cidr = "10.64.0.0/10"},
                                         .local_addresses = [] { return std::vector<std::string>{"127.0.0.1"}; }},
                   proxy::ProxierDeps{.syncer = syncer, .clock = clock});
  p.services_synced();
  p.endpoint_slices_synced();
  p.node_synced();

  // What the informers hold: the retained part of every Service and EndpointSlice (the store and
  // the informer's map of what its handlers saw share the objects).
  auto full = [](const std::string& text) {
    auto v = kube::parse_json(text);
    if (!v) {
      std::fprintf(stderr, "bad JSON\n");
      std::exit(1);
    }
    return std::make_shared<const boost::json::value>(std::move(*v));
  };
  const double heap0 = heap_mib();
  auto t0 = SteadyClock::now();
  kube::Store service_store, slice_store;
  service_store.set_retain(kube::retain_metadata({}));
  slice_store.set_retain(kube::retain_metadata({std::string(kube::kServiceNameLabel)}, {"addressType"}));
  for (int i = 0; i < services; ++i) {
    service_store.apply(kube::WatchEventType::Added, full(service_json(i, minimal)));
    slice_store.apply(kube::WatchEventType::Added, full(slice_json(i, endpoints, 0, minimal)));
  }
  const kube::Store::Snapshot services_delivered = service_store.snapshot();
  kube::Store::Snapshot slices_delivered = slice_store.snapshot();
  const double cache_ms = ms_since(t0);
  const double heap_informers = heap_mib();
  t0 = SteadyClock::now();
  for (int i = 0; i < services; ++i) {
    auto svc = kube::decode_service(*full(service_json(i, minimal)));
    auto sl = kube::decode_endpoint_slice(*full(slice_json(i, endpoints, 0, minimal)));
    if (!svc || !sl) {
      std::fprintf(stderr, "decode failed\n");
      return 1;
    }
    p.on_service(nullptr, &*svc);
    p.on_endpoint_slice(nullptr, &*sl);
  }
  const double track_ms = ms_since(t0);
  const double heap_tracked = heap_mib();
  long rss_tracked = rss_kib();
  t0 = SteadyClock::now();
  p.sync();
  double first_ms = ms_since(t0);
  const double heap_synced = heap_mib();
  const long rss_synced = rss_kib();
  const long hwm_synced = hwm_kib();
  auto st = p.stats();
  if (st.syncs != 1) {
    std::fprintf(stderr, "first sync failed\n");
    return 1;
  }

  // A change as the proxy handles it: the new object decoded whole, the old one from what the
  // cache kept.
  std::vector<double> lat;
  for (int c = 0; c < changes; ++c) {
    int i = (c * 7919) % services;
    auto t = SteadyClock::now();
    auto obj = full(slice_json(i, endpoints, 1 + c % 2, minimal));
    const std::string key = kube::object_key(*obj);
    slice_store.apply(kube::WatchEventType::Modified, obj);
    auto sl = kube::decode_endpoint_slice(*obj);
    auto old = kube::decode_endpoint_slice(*slices_delivered.at(key));
    p.on_endpoint_slice(&*old, &*sl);
    p.sync();
    lat.push_back(ms_since(t));
    slices_delivered[key] = slice_store.get(key);
  }
  std::sort(lat.begin(), lat.end());
  auto last = p.stats().last;
  std::printf("backend=%s services=%d endpoints/service=%d objects=%s\n",
              iptables.empty() ? backend_name.c_str() : ("iptables-" + iptables + "-restore in a private netns").c_str(),
              services, endpoints, objects.c_str());
  std::printf("  cache %d services+slices (parse, retain): %.0f ms; decode and track them: %.0f ms\n", services, cache_ms,
              track_ms);
  std::printf("  first (full) sync:               %.0f ms\n", first_ms);
  std::printf("  one endpoint change, event -> rules applied: median %.2f ms, p90 %.2f ms, max %.2f ms (%d changes, %s)\n",
              lat[lat.size() / 2], lat[lat.size() * 9 / 10], lat.back(), changes,
              last && !last->full ? "partial syncs" : "full syncs");
  std::printf("  live heap: informers' caches (retained metadata) %.1f MiB, + trackers %.1f MiB, + proxier and syncer after the first sync %.1f MiB"
              " = %.1f MiB\n",
              heap_informers - heap0, heap_tracked - heap_informers, heap_synced - heap_tracked, heap_synced - heap0);
  std::printf("  RSS: %ld MiB after decode+track, %ld MiB after the first sync (peak %ld MiB), %ld MiB at the end\n",
              rss_tracked / 1024, rss_synced / 1024, hwm_synced / 1024, rss_kib() / 1024);
  return 0;
}
