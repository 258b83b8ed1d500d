// CRI call latencies through knode's client against a running containerd.
//
//   test/scripts/containerd-up.sh
//   build/bench/knode_bench_cri [--endpoint unix:///run/knode-test/containerd/containerd.sock]
//                               [--runs 10] [--pods 20] [--lists 50]
//
// Prints medians (and p90/min/max) of RunPodSandbox, CreateContainer, StartContainer,
// StopPodSandbox, RemovePodSandbox over --runs pods made one after another, then the latency of
// ListPodSandbox + ListContainers (a PLEG relist) with --pods pods running. Removes what it made.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "cri/grpc_runtime.h"
#include "cri/types.h"

using namespace knode;
using namespace knode::cri;
using Clock = std::chrono::steady_clock;

namespace {

struct Samples {
  std::vector<double> ms;
  void add(Clock::duration d) { ms.push_back(std::chrono::duration<double, std::milli>(d).count()); }
  void print(const char* name) {
    if (ms.empty()) return;
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
    std::printf("%-34s median %8.2f ms   p90 %8.2f ms   min %8.2f   max %8.2f   n=%zu\n", name,
                at(0.5), at(0.9), ms.front(), ms.back(), ms.size());
  }
};

v1::PodSandboxConfig pod(int i, const std::string& run_id) {
  v1::PodSandboxConfig c;
  std::string name = "bench-" + std::to_string(i);
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("knode-bench");
  c.mutable_metadata()->set_uid(run_id + "-" + std::to_string(i));
  c.set_hostname(name);
  c.set_log_directory("/tmp/knode-bench-cri/" + run_id + "/" + name);
  (*c.mutable_labels())["knode-bench"] = run_id;
  return c;
}

v1::ContainerConfig sleeper() {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name("sleep");
  c.mutable_image()->set_image("knode.local/busybox:1.36");
  c.add_command("sleep");
  c.add_command("3600");
  c.set_log_path("sleep/0.log");
  (*c.mutable_labels())["io.kubernetes.container.name"] = "sleep";
  return c;
}

int fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), e.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint = "unix:///run/knode-test/containerd/containerd.sock";
  if (const char* e = std::getenv("KNODE_TEST_CRI_ENDPOINT"); e && *e) endpoint = e;
  int runs = 10, pods = 20, lists = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--endpoint") endpoint = argv[i + 1];
    else if (a == "--runs") runs = std::atoi(argv[i + 1]);
    else if (a == "--pods") pods = std::atoi(argv[i + 1]);
    else if (a == "--lists") lists = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  auto rt = GrpcRuntime::Connect({.endpoint = endpoint, .connect_timeout = std::chrono::seconds(5)});
  if (!rt) {
    std::fprintf(stderr, "%s\n(start the test containerd with test/scripts/containerd-up.sh)\n",
                 rt.error().message().c_str());
    return 1;
  }
  auto& r = **rt;
  const std::string run_id = std::to_string(getpid()) + "-" +
                             std::to_string(Clock::now().time_since_epoch().count() % 1000000);
  std::printf("knode CRI client bench: %s %s via %s, %d sequential pods, relist with %d pods\n",
              r.runtime_name().c_str(), r.runtime_version().c_str(), endpoint.c_str(), runs, pods);

  Samples version;
  for (int i = 0; i < 50; ++i) {
    auto t = Clock::now();
    if (auto v = r.Version(); !v) return fail("Version", v.error());
    version.add(Clock::now() - t);
  }

  Samples run, create, start, stop, remove, total;
  for (int i = 0; i < runs; ++i) {
    auto cfg = pod(i, run_id);
    auto t0 = Clock::now();
    auto sb = r.RunPodSandbox(cfg, "");
    if (!sb) return fail("RunPodSandbox", sb.error());
    auto t1 = Clock::now();
    auto c = r.CreateContainer(*sb, sleeper(), cfg);
    if (!c) return fail("CreateContainer", c.error());
    auto t2 = Clock::now();
    if (auto s = r.StartContainer(*c); !s) return fail("StartContainer", s.error());
    auto t3 = Clock::now();
    if (auto s = r.StopPodSandbox(*sb); !s) return fail("StopPodSandbox", s.error());
    auto t4 = Clock::now();
    if (auto s = r.RemovePodSandbox(*sb); !s) return fail("RemovePodSandbox", s.error());
    auto t5 = Clock::now();
    run.add(t1 - t0);
    create.add(t2 - t1);
    start.add(t3 - t2);
    stop.add(t4 - t3);
    remove.add(t5 - t4);
    total.add(t5 - t0);
  }
  version.print("Version (round trip)");
  run.print("RunPodSandbox");
  create.print("CreateContainer");
  start.print("StartContainer");
  stop.print("StopPodSandbox");
  remove.print("RemovePodSandbox");
  total.print("whole pod (run..remove)");

  // Relist cost with `pods` pods running.
  std::vector<std::string> sandboxes;
  int status = 0;
  for (int i = 0; i < pods && status == 0; ++i) {
    auto cfg = pod(1000 + i, run_id);
    auto sb = r.RunPodSandbox(cfg, "");
    if (!sb) {
      status = fail("RunPodSandbox", sb.error());
      break;
    }
    sandboxes.push_back(*sb);
    auto c = r.CreateContainer(*sb, sleeper(), cfg);
    if (!c || !r.StartContainer(*c)) status = fail("container", c ? Error("start failed") : c.error());
  }
  if (status == 0) {
    Samples list_sb, list_ctr, relist, statuses;
    for (int i = 0; i < lists; ++i) {
      auto t0 = Clock::now();
      auto s = r.ListPodSandbox(nullptr);
      auto t1 = Clock::now();
      auto c = r.ListContainers(nullptr);
      auto t2 = Clock::now();
      if (!s || !c) {
        status = fail("list", s ? c.error() : s.error());
        break;
      }
      list_sb.add(t1 - t0);
      list_ctr.add(t2 - t1);
      relist.add(t2 - t0);
      auto t3 = Clock::now();
      for (const auto& ctr : *c) (void)r.ContainerStatus(ctr.id(), false);
      statuses.add(Clock::now() - t3);
    }
    char label[64];
    std::snprintf(label, sizeof label, "ListPodSandbox (%d pods)", pods);
    list_sb.print(label);
    std::snprintf(label, sizeof label, "ListContainers (%d containers)", pods);
    list_ctr.print(label);
    relist.print("ListPodSandbox+ListContainers");
    std::snprintf(label, sizeof label, "ContainerStatus x%d", pods);
    statuses.print(label);
  }
  Samples teardown;
  auto t = Clock::now();
  for (const auto& id : sandboxes) {
    (void)r.StopPodSandbox(id);
    (void)r.RemovePodSandbox(id);
  }
  teardown.add(Clock::now() - t);
  std::printf("teardown of %zu pods: %.0f ms\n", sandboxes.size(), teardown.ms.empty() ? 0.0 : teardown.ms[0]);
  std::system(("rm -rf /tmp/knode-bench-cri/" + run_id).c_str());
  return status;
}
