// Pod network set-up through knode's CNI runtime handler vs containerd running the same chain itself.
//
//   KNODE_TEST_KNODE_HANDLER=1 KNODE_TEST_CNI_BIN_DIR=<plugins + knode-cni link> \
//     test/scripts/containerd-up.sh /run/knode-test/cni-bench
//   build/bench/knode_bench_cni_handler --endpoint unix:///run/knode-test/cni-bench/containerd.sock \
//     --conf-dir /run/knode-test/cni-bench/net.d --bin-dir <same bin dir> [--runs 20]
//
// Writes the "knode" handler's conflist (as the kubelet does) so knode-cni runs --conf-dir — the very
// conf dir containerd's default handler runs — then times RunPodSandbox (sandbox + CNI ADD) and
// StopPodSandbox (CNI DEL) with the default handler and with "knode", alternating. Removes what it made.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "agent/kubelet/runtime_handler.h"
#include "cri/grpc_runtime.h"
#include "cri/types.h"

using namespace knode;
using Clock = std::chrono::steady_clock;

namespace {

struct Series {
  std::vector<double> ms;
  double at(double q) {
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  }
};

cri::v1::PodSandboxConfig sandbox(const std::string& id) {
  cri::v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name("bench-" + id);
  c.mutable_metadata()->set_namespace_("knode-bench");
  c.mutable_metadata()->set_uid("uid-" + id);
  c.set_hostname("bench");
  c.set_log_directory("/tmp/knode-bench-cni-handler/" + id);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, conf_dir, bin_dir, cache_dir = "/tmp/knode-bench-cni-handler/cache";
  int runs = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--endpoint") endpoint = v;
    else if (a == "--conf-dir") conf_dir = v;
    else if (a == "--bin-dir") bin_dir = v;
    else if (a == "--runs") runs = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (endpoint.empty() || conf_dir.empty() || bin_dir.empty()) {
    std::fprintf(stderr, "usage: %s --endpoint E --conf-dir D --bin-dir D [--runs N]\n", argv[0]);
    return 2;
  }
  auto rt = cri::GrpcRuntime::Connect({.endpoint = endpoint, .connect_timeout = std::chrono::seconds(5)});
  if (!rt) return std::fprintf(stderr, "%s\n", rt.error().message().c_str()), 1;
  auto& r = **rt;
  auto path = kubelet::prepare_knode_handler(r, "knode", {.conf_dir = conf_dir, .bin_dirs = {bin_dir}, .cache_dir = cache_dir});
  if (!path) return std::fprintf(stderr, "%s\n", path.error().message().c_str()), 1;

  const std::string run_id = std::to_string(getpid());
  auto once = [&](const std::string& handler, int i, Series* add, Series* del) -> bool {
    auto cfg = sandbox(run_id + "-" + (handler.empty() ? "default" : handler) + "-" + std::to_string(i));
    auto t0 = Clock::now();
    auto sb = r.RunPodSandbox(cfg, handler);
    auto t1 = Clock::now();
    if (!sb) {
      if (add) std::fprintf(stderr, "RunPodSandbox (%s): %s\n", handler.c_str(), sb.error().message().c_str());
      return false;
    }
    (void)r.StopPodSandbox(*sb);
    auto t2 = Clock::now();
    (void)r.RemovePodSandbox(*sb);
    if (add) add->ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (del) del->ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    return true;
  };
  // Warm-up; containerd picks the handler's conflist up through its file watcher.
  bool warm = false;
  for (int i = 0; i < 50 && !warm; ++i) {
    warm = once("knode", -1 - i, nullptr, nullptr);
    if (!warm) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!warm || !once("", -1, nullptr, nullptr)) return std::fprintf(stderr, "warm-up failed\n"), 1;

  Series add_default, add_knode, del_default, del_knode;
  for (int i = 0; i < runs; ++i) {
    bool knode_first = i % 2 == 1;
    if (knode_first && !once("knode", i, &add_knode, &del_knode)) return 1;
    if (!once("", i, &add_default, &del_default)) return 1;
    if (!knode_first && !once("knode", i, &add_knode, &del_knode)) return 1;
  }
  std::printf("RunPodSandbox (sandbox + CNI ADD), %d runs each, chain in %s\n", runs, conf_dir.c_str());
  std::printf("  default handler (containerd runs the chain): median %7.1f ms  p90 %7.1f ms\n", add_default.at(0.5),
              add_default.at(0.9));
  std::printf("  knode handler (containerd runs knode-cni):   median %7.1f ms  p90 %7.1f ms\n", add_knode.at(0.5),
              add_knode.at(0.9));
  std::printf("StopPodSandbox (CNI DEL + stop)\n");
  std::printf("  default handler: median %7.1f ms  p90 %7.1f ms\n", del_default.at(0.5), del_default.at(0.9));
  std::printf("  knode handler:   median %7.1f ms  p90 %7.1f ms\n", del_knode.at(0.5), del_knode.at(0.9));
  return 0;
}
