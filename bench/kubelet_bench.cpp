// Kubelet core benchmarks; prints numbers.
//  1. PLEG relist CPU per relist at N pods on the in-memory FakeRuntime (the agent's own cost:
//     diffing and bookkeeping, no gRPC).
//  2. Memory: RSS of this process before and after a Kubelet runs N static pods on the FakeRuntime.
//  3. With KNODE_TEST_CRI_ENDPOINT (real containerd): pod start latency, raw CRI calls
//     (RunPodSandbox + CreateContainer + StartContainer) vs manifest written → Running reported by
//     the Kubelet; then PLEG relist wall/CPU against containerd with those pods.
//
//   knode_bench_kubelet [N=110]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/log.h"
#include "agent/kubelet/kubelet.h"
#include "agent/kubelet/pleg.h"
#include "cri/convert.h"
#include "cri/fake_runtime.h"
#include "cri/grpc_runtime.h"
#include "cri/types.h"

using namespace knode;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string manifest(const std::string& name) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
         "}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n"
         "    image: knode.local/busybox:1.36\n    imagePullPolicy: Never\n"
         "    command: [sh, -c, \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n";
}

struct TempDir {
  fs::path path;
  explicit TempDir(const char* prefix) {
    std::string t = std::string("/tmp/") + prefix + "XXXXXX";
    path = mkdtemp(t.data());
    fs::create_directories(path / "manifests");
  }
  ~TempDir() { fs::remove_all(path); }
};

bool all_running(kubelet::Kubelet& kl, size_t n, const std::string& prefix) {
  size_t running = 0;
  for (const auto& p : kl.status().pods())
    if (p.metadata.name.rfind(prefix, 0) == 0 && p.status.phase == "Running" && !p.status.container_statuses.empty() &&
        p.status.container_statuses[0].state.running)
      ++running;
  return running >= n;
}

bool wait_until(std::chrono::seconds timeout, const std::function<bool()>& f) {
  auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

void pleg_numbers(cri::Runtime& rt, const char* what) {
  kubelet::Pleg pleg(rt, [](const std::string&, bool) {});
  pleg.relist();
  std::vector<double> cpu, wall;
  for (int i = 0; i < 50; ++i) {
    pleg.relist();
    auto s = pleg.stats();
    cpu.push_back(s.last_cpu.count() / 1000.0);
    wall.push_back(s.last_duration.count() / 1000.0);
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  auto s = pleg.stats();
  std::printf("pleg relist (%s): %zu pods, %zu containers: cpu p50 %.3f ms p90 %.3f ms, wall p50 %.3f ms p90 %.3f ms\n",
              what, s.pods, s.containers, cpu[25], cpu[45], wall[25], wall[45]);
}

void fake_benchmarks(int n) {
  std::printf("== FakeRuntime, %d pods\n", n);
  cri::FakeRuntime rt;
  rt.add_image("knode.local/busybox:1.36");
  TempDir dir("knode-bench-kubelet-");
  long rss0 = rss_kib();
  {
    kubelet::KubeletSettings s{.node_name = "bench", .root_dir = (dir.path / "root").string(),
                               .static_pod_path = (dir.path / "manifests").string(), .status_file = false};
    kubelet::Kubelet kl(rt, rt, s);
    kl.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    long idle = rss_kib();
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) std::ofstream(dir.path / "manifests" / ("p" + std::to_string(i) + ".yaml")) << manifest("p" + std::to_string(i));
    bool ok = wait_until(std::chrono::seconds(60), [&] { return all_running(kl, n, "p"); });
    double start_ms = ms_since(t0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a relist or two
    long loaded = rss_kib();
    std::printf("%d pods running in %.0f ms (%s); RSS: process before %ld KiB, kubelet idle +%ld KiB, with %d pods +%ld KiB\n",
                n, start_ms, ok ? "ok" : "TIMEOUT", rss0, idle - rss0, n, loaded - rss0);
    pleg_numbers(rt, "fake runtime");
    kl.stop();
  }
}

void containerd_benchmarks(const std::string& endpoint, int n) {
  std::printf("== containerd at %s\n", endpoint.c_str());
  auto rt = cri::GrpcRuntime::Connect({.endpoint = endpoint});
  if (!rt) {
    std::printf("cannot connect: %s\n", rt.error().message().c_str());
    return;
  }
  auto& r = **rt;
  // Raw CRI: the three calls a pod start needs (configs built beforehand).
  cri::NodeSettings node;
  node.dns.resolv_conf_path = "";
  std::vector<double> raw;
  for (int i = 0; i < 5; ++i) {
    kube::Pod pod;
    auto decoded = kube::decode_pod(manifest("raw" + std::to_string(i)));
    pod = *decoded;
    kube::apply_defaults(pod);
    pod.metadata.namespace_ = "default";
    pod.metadata.uid = "bench-raw-" + std::to_string(getpid()) + "-" + std::to_string(i);
    auto sbc = cri::make_sandbox_config(pod, 0, node);
    fs::create_directories(sbc->log_directory());
    cri::ContainerInputs in;
    auto cc = cri::make_container_config(pod, pod.spec.containers[0], in, node);
    if (!sbc || !cc) {
      std::printf("config failed\n");
      return;
    }
    auto t0 = Clock::now();
    auto sb = r.RunPodSandbox(*sbc, "");
    auto cid = sb ? r.CreateContainer(*sb, *cc, *sbc) : Result<std::string>(sb.error());
    Status st = cid ? r.StartContainer(*cid) : Status(cid.error());
    raw.push_back(ms_since(t0));
    if (!st.ok()) std::printf("raw start failed: %s\n", st.message().c_str());
    if (cid) {
      r.StopContainer(*cid, std::chrono::seconds(1)).ok();
      r.RemoveContainer(*cid).ok();
    }
    if (sb) {
      r.StopPodSandbox(*sb).ok();
      r.RemovePodSandbox(*sb).ok();
    }
  }
  std::sort(raw.begin(), raw.end());
  std::printf("raw CRI pod start (RunPodSandbox+CreateContainer+StartContainer): p50 %.0f ms, min %.0f ms, max %.0f ms\n",
              raw[2], raw[0], raw[4]);

  TempDir dir("knode-bench-kubelet-crio-");
  kubelet::KubeletSettings s{.node_name = "bench-" + std::to_string(getpid()),
                             .root_dir = (dir.path / "root").string(),
                             .static_pod_path = (dir.path / "manifests").string(),
                             .status_file = false};
  s.node.dns.resolv_conf_path = "";
  kubelet::Kubelet kl(r, r, s);
  kl.start();
  std::vector<double> agent;
  for (int i = 0; i < 5; ++i) {
    std::string name = "one" + std::to_string(i);
    auto t0 = Clock::now();
    std::ofstream(dir.path / "manifests" / (name + ".yaml")) << manifest(name);
    bool ok = wait_until(std::chrono::seconds(30), [&] { return all_running(kl, 1, name); });
    agent.push_back(ms_since(t0));
    if (!ok) std::printf("pod %s did not start\n", name.c_str());
    fs::remove(dir.path / "manifests" / (name + ".yaml"));
    wait_until(std::chrono::seconds(30), [&] { return kl.status().pods().empty(); });
  }
  std::sort(agent.begin(), agent.end());
  std::printf("kubelet pod start (manifest written -> Running reported): p50 %.0f ms, min %.0f ms, max %.0f ms; "
              "overhead over raw CRI p50: %.0f ms (%.0f %%)\n",
              agent[2], agent[0], agent[4], agent[2] - raw[2], 100.0 * (agent[2] - raw[2]) / raw[2]);

  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    std::ofstream(dir.path / "manifests" / ("m" + std::to_string(i) + ".yaml")) << manifest("m" + std::to_string(i));
  bool ok = wait_until(std::chrono::seconds(600), [&] { return all_running(kl, n, "m"); });
  std::printf("%d pods running in %.1f s (%s)\n", n, ms_since(t0) / 1000, ok ? "ok" : "TIMEOUT");
  pleg_numbers(r, "containerd");
  for (int i = 0; i < n; ++i) fs::remove(dir.path / "manifests" / ("m" + std::to_string(i) + ".yaml"));
  wait_until(std::chrono::seconds(600), [&] { return kl.status().pods().empty(); });
  kl.stop();
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 110;
  log::Options lo;
  lo.verbosity = -1;
  log::set_sink([](std::string_view, void*) {}, nullptr);  // quiet
  fake_benchmarks(n);
  if (const char* ep = std::getenv("KNODE_TEST_CRI_ENDPOINT"); ep && *ep) {
    int real_n = argc > 2 ? std::atoi(argv[2]) : 20;
    containerd_benchmarks(ep, real_n);
  } else {
    std::printf("(set KNODE_TEST_CRI_ENDPOINT for the containerd numbers)\n");
  }
  return 0;
}
