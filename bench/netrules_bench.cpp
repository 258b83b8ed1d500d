// Numbers for the iptables backend: N Services × E endpoints (synthetic), loaded into fresh
// private network namespaces with iptables-nft and iptables-legacy. Needs root for the restore
// parts. Prints medians as a table.
//
//   knode_bench_netrules [--sizes 1000,10000] [--endpoints 10] [--reps 5] [--modes nft,legacy]
//                        [--nft-limit-services 2000]
#include <sys/resource.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "netrules/iptables_backend.h"
#include "netrules/iptables_state.h"
#include "netrules/iptables_syncer.h"

using namespace knode::netrules;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

// Applies nothing; its canary chains hold the last stamp written (so a restart can adopt).
class NullBackend final : public Backend {
 public:
  knode::Status restore(std::string_view payload) override {
    if (auto at = payload.find("--comment \"knode ruleset "); at != std::string_view::npos)
      stamp_ = std::string(payload.substr(at, payload.find('\n', at) - at));
    return knode::Status::Ok();
  }
  knode::Result<std::string> save() override { return std::string(); }
  knode::Result<std::optional<std::vector<std::string>>> list_chain(std::string_view, std::string_view) override {
    return std::optional<std::vector<std::string>>(std::vector<std::string>{"-j RETURN", stamp_});
  }

 private:
  std::string stamp_;
};

struct Svc {
  ServicePort port;
  std::vector<Endpoint> eps;
};

std::string ip4(int a, int n) { return fmt::format("{}.{}.{}.{}", a, (n >> 16) & 255, (n >> 8) & 255, n & 255); }

std::vector<Svc> synth(int n, int e) {
  std::vector<Svc> out;
  out.reserve(n);
  int ep = 0;
  for (int i = 0; i < n; ++i) {
    Svc s;
    s.port.name = {.namespace_name = fmt::format("ns{}", i % 50), .name = fmt::format("svc{}", i), .port = "http",
                   .protocol = Protocol::TCP};
    s.port.cluster_ip = ip4(172, (30 << 16) + i + 1);
    s.port.port = 80;
    if (i % 10 == 0) s.port.node_port = 30000 + (i / 10) % 2768;
    for (int k = 0; k < e; ++k) s.eps.push_back({.ip = ip4(10, ++ep), .port = 8080, .is_local = (k == 0)});
    out.push_back(std::move(s));
  }
  return out;
}

NodeSettings bench_node() {
  NodeSettings n;
  n.local_detector = {.mode = LocalTrafficDetector::Mode::ClusterCIDR, .value = "10.0.0.0/8"};
  n.node_ip = "192.168.0.2";
  return n;
}

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

struct Row {
  std::string what;
  std::string value;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{1000, 10000};
  int endpoints = 10, reps = 5, nft_limit = 2000;
  std::vector<std::string> modes{"nft", "legacy"};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    auto list = [&](auto conv) {
      std::vector<decltype(conv(std::string()))> out;
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t c = v.find(',', pos);
        if (c == std::string::npos) c = v.size();
        out.push_back(conv(v.substr(pos, c - pos)));
        pos = c + 1;
      }
      return out;
    };
    if (a == "--sizes") sizes = list([](const std::string& s) { return std::atoi(s.c_str()); });
    else if (a == "--endpoints") endpoints = std::atoi(v.c_str());
    else if (a == "--reps") reps = std::atoi(v.c_str());
    else if (a == "--modes") modes = list([](const std::string& s) { return s; });
    else if (a == "--nft-limit-services") nft_limit = std::atoi(v.c_str());
    else if (a == "--dump-payload") {  // --dump-payload N: print the full payload for N services
      NullBackend nb;
      IptablesSyncer s(nb, bench_node());
      for (auto& x : synth(std::atoi(v.c_str()), endpoints)) s.update_service(x.port, x.eps);
      fmt::print("{}", s.full_payload());
      return 0;
    }
  }
  const bool root = geteuid() == 0;
  std::vector<Row> rows;
  auto add = [&](std::string what, std::string value) {
    fmt::print("{:<72} {}\n", what, value);
    std::fflush(stdout);
    rows.push_back({std::move(what), std::move(value)});
  };

  for (int n : sizes) {
    auto svcs = synth(n, endpoints);
    // Generation only: the complete payload for empty tables.
    {
      long rss0 = rss_kib();
      NullBackend nb;
      IptablesSyncer s(nb, bench_node());
      for (auto& x : svcs) s.update_service(x.port, x.eps);
      std::vector<double> t;
      size_t bytes = 0, lines = 0;
      for (int r = 0; r < reps; ++r) {
        auto t0 = Clock::now();
        std::string p = s.full_payload();
        t.push_back(ms_since(t0));
        bytes = p.size();
        lines = static_cast<size_t>(std::count(p.begin(), p.end(), '\n'));
      }
      add(fmt::format("{}x{}: payload generation (ours), {} lines, {:.1f} MiB", n, endpoints, lines, bytes / 1048576.0),
          fmt::format("{:.1f} ms", median(t)));
      auto t0 = Clock::now();
      (void)s.sync();
      malloc_trim(0);  // count live memory, not freed pages malloc kept
      add(fmt::format("{}x{}: RSS of the syncer's state after a sync (delta; process total)", n, endpoints),
          fmt::format("{:.1f} MiB ({:.1f} MiB)", (rss_kib() - rss0) / 1024.0, rss_kib() / 1024.0));
      // One endpoint change, generation only (no iptables).
      std::vector<double> pt;
      for (int k = 0; k < reps; ++k) {
        auto& x = svcs[(k * 7919) % n];
        x.eps.back().ip = ip4(11, k + 1);
        auto t1 = Clock::now();
        s.update_service(x.port, x.eps);
        auto rr = s.sync();
        pt.push_back(ms_since(t1));
      }
      (void)t0;
      add(fmt::format("{}x{}: one endpoint change, diff + payload, no-op backend", n, endpoints),
          fmt::format("{:.2f} ms", median(pt)));
      // A restart's own cost (the stamp matches; no iptables): digest of the inputs, adoption.
      std::vector<double> rt;
      bool adopted = true;
      for (int k = 0; k < reps; ++k) {
        IptablesSyncer again(nb, bench_node());
        for (auto& x : svcs) again.update_service(x.port, x.eps);
        auto t1 = Clock::now();
        auto rr = again.sync();
        rt.push_back(ms_since(t1));
        adopted = adopted && rr.ok() && rr->adopted;
      }
      add(fmt::format("{}x{}: restart with the stamp matching, our part (no-op backend)", n, endpoints),
          fmt::format("{:.1f} ms{}", median(rt), adopted ? ", adopted" : " NOT ADOPTED"));
      svcs = synth(n, endpoints);
    }
    if (!root) continue;
    for (const auto& mode_name : modes) {
      IptablesMode mode = mode_name == "legacy" ? IptablesMode::Legacy : IptablesMode::Nft;
      std::string label = fmt::format("{}x{} {}", n, endpoints, mode_name);
      if (mode == IptablesMode::Nft && n > nft_limit) {
        add(label + ": full restore", fmt::format("skipped (> {} services on nft: many minutes, see DESIGN §5)", nft_limit));
        continue;
      }
      std::string ns = fmt::format("knrb{}-{}-{}", getpid(), mode_name, n);
      if (sh("ip netns add " + ns) != 0) {
        add(label, "cannot create netns");
        continue;
      }
      struct Del {
        std::string ns;
        ~Del() { sh("ip netns del " + ns); }
      } del{ns};
      IptablesRestoreBackend backend({.mode = mode, .netns = "/run/netns/" + ns});
      // Cold load.
      IptablesSyncer s(backend, bench_node());
      for (auto& x : svcs) s.update_service(x.port, x.eps);
      auto t0 = Clock::now();
      auto r = s.sync();
      double full_ms = ms_since(t0);
      if (!r.ok()) {
        add(label + ": full sync", "FAILED: " + r.error().message().substr(0, 200));
        continue;
      }
      // The restore alone, for comparison with DESIGN §5's numbers.
      add(label + ": full sync into an empty netns (save + generate + restore)", fmt::format("{:.0f} ms", full_ms));
      // Partial sync: one endpoint change.
      std::vector<double> pt;
      for (int k = 0; k < reps; ++k) {
        auto& x = svcs[(k * 7919 + 13) % n];
        x.eps.back().ip = ip4(12, k + 1);
        auto t1 = Clock::now();
        s.update_service(x.port, x.eps);
        auto rr = s.sync();
        pt.push_back(ms_since(t1));
        if (!rr.ok()) {
          add(label + ": partial sync", "FAILED: " + rr.error().message().substr(0, 200));
          break;
        }
      }
      add(label + ": one endpoint change, event -> restore done (median)", fmt::format("{:.1f} ms", median(pt)));
      // A new service: lines inserted into KUBE-SERVICES.
      std::vector<double> at;
      for (int k = 0; k < reps; ++k) {
        Svc extra;
        extra.port.name = {.namespace_name = "zz", .name = fmt::format("new{}", k), .port = "http"};
        extra.port.cluster_ip = ip4(172, (31 << 16) + k + 1);
        extra.port.port = 80;
        for (int e = 0; e < endpoints; ++e) extra.eps.push_back({.ip = ip4(13, k * 100 + e + 1), .port = 80});
        auto t1 = Clock::now();
        s.update_service(extra.port, extra.eps);
        auto rr = s.sync();
        at.push_back(ms_since(t1));
        svcs.push_back(std::move(extra));
      }
      add(label + ": add one service, event -> restore done (median)", fmt::format("{:.1f} ms", median(at)));
      // Restart with the rules in place.
      std::vector<double> rt, st;
      bool wrote = false;
      for (int k = 0; k < std::max(3, reps / 2); ++k) {
        IptablesSyncer again(backend, bench_node());
        for (auto& x : svcs) again.update_service(x.port, x.eps);
        auto t2 = Clock::now();
        auto rr = again.sync();
        rt.push_back(ms_since(t2));
        if (!rr.ok() || rr->restored || !rr->adopted) wrote = true;
        // The slower verification a later full sync does: iptables-save + parse + compare.
        again.request_full_sync();
        auto t1 = Clock::now();
        auto full = again.sync();
        st.push_back(ms_since(t1));
        if (!full.ok() || full->restored) wrote = true;
      }
      add(label + ": restart with rules in place (canary stamp vs digest of the inputs)",
          fmt::format("{:.0f} ms{}", median(rt), wrote ? " WROTE RULES" : ", nothing written"));
      // Of which the iptables tool's part: reading the three canary chains (legacy loads the
      // whole table for each).
      std::vector<double> ct;
      for (int k = 0; k < 3; ++k) {
        auto t1 = Clock::now();
        for (const char* table : {"mangle", "filter", "nat"}) (void)backend.list_chain(table, "KUBE-PROXY-CANARY");
        ct.push_back(ms_since(t1));
      }
      add(label + ":   of which reading the 3 canary chains (iptables -S)", fmt::format("{:.0f} ms", median(ct)));
      add(label + ": full resync with rules in place (iptables-save + parse + compare)",
          fmt::format("{:.0f} ms{}", median(st), wrote ? " WROTE RULES" : ", nothing written"));
      svcs = synth(n, endpoints);
    }
  }
  fmt::print("\n| measurement | median |\n|---|---|\n");
  for (const auto& r : rows) fmt::print("| {} | {} |\n", r.what, r.value);
  return 0;
}
