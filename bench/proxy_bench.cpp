// The proxy's event → rules-applied latency: N Services × E endpoints programmed through the
// Proxier, then single endpoint changes (EndpointSlice JSON decoded, tracked, synced) timed
// end to end. Default backend: one that accepts payloads without applying them (the proxy's
// own cost: decode, trackers, endpoint selection, rule generation, diff); --backend fake uses
// the in-memory FakeBackend (which copies its whole state per transaction). With
// --iptables legacy|nft the rules go through the real iptables-restore inside a private network
// namespace this process unshares (root needed; the host's rules are never touched).
//
//   knode_bench_proxy [--services 10000] [--endpoints 10] [--changes 20] [--iptables legacy|nft]
//                     [--backend null|fake]
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

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

std::string svc_ip(int i) { return fmt::format("172.30.{}.{}", i / 250, i % 250 + 1); }
// Endpoint j of service i: unique per (i, j) for i < 64000; `variant` moves endpoint 0.
std::string slice_json(int i, int endpoints, int variant) {
  std::string eps;
  for (int j = 0; j < endpoints; ++j) {
    if (!eps.empty()) eps += ",";
    std::string ip = fmt::format("10.{}.{}.{}", 64 + j + (j == 0 ? variant * 20 : 0), (i / 250) % 256, i % 250 + 1);
    eps += fmt::format(R"({{"addresses":["{}"],"conditions":{{"ready":true}},"nodeName":"n{}"}})", ip, j % 3);
  }
  return fmt::format(R"({{"metadata":{{"name":"svc{}-abc","namespace":"bench","labels":{{"kubernetes.io/service-name":"svc{}"}}}},"addressType":"IPv4","endpoints":[{}],"ports":[{{"name":"http","protocol":"TCP","port":8080}}]}})",
                     i, i, eps);
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
  std::string iptables, backend_name = "null";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--services") services = std::atoi(argv[i + 1]);
    else if (a == "--endpoints") endpoints = std::atoi(argv[i + 1]);
    else if (a == "--changes") changes = std::atoi(argv[i + 1]);
    else if (a == "--iptables") iptables = argv[i + 1];
    else if (a == "--backend") backend_name = argv[i + 1];
  }
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
  proxy::Proxier p(proxy::ProxierOptions{.hostname = "n0", .node = {.cluster_cidr = "10.64.0.0/10"},
                                         .local_addresses = [] { return std::vector<std::string>{"127.0.0.1"}; }},
                   proxy::ProxierDeps{.syncer = syncer, .clock = clock});
  p.services_synced();
  p.endpoint_slices_synced();
  p.node_synced();

  auto t0 = SteadyClock::now();
  std::vector<kube::EndpointSlice> slices;
  for (int i = 0; i < services; ++i) {
    auto svc = kube::decode_service_json(fmt::format(
        R"({{"metadata":{{"name":"svc{}","namespace":"bench"}},"spec":{{"clusterIP":"{}","ports":[{{"name":"http","port":80,"targetPort":8080}}]}}}})",
        i, svc_ip(i)));
    auto sl = kube::decode_endpoint_slice_json(slice_json(i, endpoints, 0));
    if (!svc || !sl) {
      std::fprintf(stderr, "decode failed\n");
      return 1;
    }
    p.on_service(nullptr, &*svc);
    p.on_endpoint_slice(nullptr, &*sl);
    slices.push_back(std::move(*sl));
  }
  double build_ms = ms_since(t0);
  long rss_tracked = rss_kib();
  t0 = SteadyClock::now();
  p.sync();
  double first_ms = ms_since(t0);
  auto st = p.stats();
  if (st.syncs != 1) {
    std::fprintf(stderr, "first sync failed\n");
    return 1;
  }

  std::vector<double> lat;
  for (int c = 0; c < changes; ++c) {
    int i = (c * 7919) % services;
    auto t = SteadyClock::now();
    auto sl = kube::decode_endpoint_slice_json(slice_json(i, endpoints, 1 + c % 2));
    p.on_endpoint_slice(&slices[i], &*sl);
    p.sync();
    lat.push_back(ms_since(t));
    slices[i] = std::move(*sl);
  }
  std::sort(lat.begin(), lat.end());
  auto last = p.stats().last;
  std::printf("backend=%s services=%d endpoints/service=%d\n", iptables.empty() ? backend_name.c_str() : ("iptables-" + iptables + "-restore in a private netns").c_str(),
              services, endpoints);
  std::printf("  decode+track %d services+slices: %.0f ms\n", services, build_ms);
  std::printf("  first (full) sync:               %.0f ms\n", first_ms);
  std::printf("  one endpoint change, event -> rules applied: median %.2f ms, p90 %.2f ms, max %.2f ms (%d changes, %s)\n",
              lat[lat.size() / 2], lat[lat.size() * 9 / 10], lat.back(), changes,
              last && !last->full ? "partial syncs" : "full syncs");
  std::printf("  RSS: %ld MiB after decode+track (incl. the bench's own copy of the slices), %ld MiB at the end\n",
              rss_tracked / 1024, rss_kib() / 1024);
  return 0;
}
