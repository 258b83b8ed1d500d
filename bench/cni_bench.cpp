// ADD+DEL latency of a bridge chain (bridge + host-local, portmap) through the cni/ library, against
// the floor: the same plugins invoked directly from a shell script. Needs root; runs in network
// namespaces it creates and removes. Usage: knode_bench_cni [runs=30]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cni/network_config.h"
#include "cni/process_executor.h"
#include "cni/runtime.h"
#include "test/integration/cni_netns.h"
#include "test/unit/cni_test_util.h"

using namespace knode::cni;
using namespace knode::cni::testing;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int run_script(const std::string& path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", path.c_str(), nullptr);
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 30;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "knode_bench_cni needs root (it creates network namespaces)\n");
    return 1;
  }
  TempDir dir;
  Netns host("bhost"), pod("bpod");
  const std::string bridge = R"({"cniVersion":"1.0.0","name":"kntbench","type":"bridge","bridge":"kntbr0","isGateway":true,)"
                             R"("ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.251.0.0/24"}]],"dataDir":")" +
                             (dir / "ipam") + R"("}})";
  const std::string portmap = R"({"cniVersion":"1.0.0","name":"kntbench","type":"portmap","capabilities":{"portMappings":true}})";
  auto list = parse_network_list(R"({"cniVersion":"1.0.0","name":"kntbench","plugins":[)" + bridge + "," + portmap + "]}");
  if (!list) {
    std::fprintf(stderr, "%s\n", list.error().message().c_str());
    return 1;
  }
  // The floor: one shell script, the same four plugin executions with the same environment.
  auto strip = [](const std::string& s) { return s.substr(0, s.size() - 1); };  // drop the closing brace
  write_file(dir / "floor.sh",
             "export CNI_CONTAINERID=bench1 CNI_NETNS=" + pod.path() + " CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni\n"
             "export CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench'\n"
             "res=$(printf '%s' '" + bridge + "' | CNI_COMMAND=ADD /usr/lib/cni/bridge) || exit 1\n"
             "res=$(printf '%s' '" + strip(portmap) + ",\"prevResult\":'\"$res\"'}' | CNI_COMMAND=ADD /usr/lib/cni/portmap) || exit 1\n"
             "printf '%s' '" + strip(portmap) + ",\"prevResult\":'\"$res\"'}' | CNI_COMMAND=DEL /usr/lib/cni/portmap || exit 1\n"
             "printf '%s' '" + strip(bridge) + ",\"prevResult\":'\"$res\"'}' | CNI_COMMAND=DEL /usr/lib/cni/bridge || exit 1\n");

  ProcessExecutor exec;
  Runtime runtime(exec, {.bin_dirs = {"/usr/lib/cni"}, .cache_dir = dir / "cache"});
  RuntimeConf rt{.container_id = "bench1", .netns = pod.path(), .ifname = "eth0",
                 .args = kubernetes_cni_args("default", "bench", "bench1", "uid")};
  EnterNetns in(host);
  std::vector<double> lib, lib_add, lib_del, floor;
  for (int i = -2; i < runs; ++i) {  // two warm-up rounds
    auto t0 = Clock::now();
    auto r = runtime.add(*list, rt);
    double add_ms = ms_since(t0);
    if (!r) {
      std::fprintf(stderr, "add: %s\n", r.error().message().c_str());
      return 1;
    }
    auto t1 = Clock::now();
    auto st = runtime.del(*list, rt);
    double del_ms = ms_since(t1);
    double total = ms_since(t0);
    if (!st) {
      std::fprintf(stderr, "del: %s\n", st.message().c_str());
      return 1;
    }
    auto t2 = Clock::now();
    if (run_script(dir / "floor.sh") != 0) {
      std::fprintf(stderr, "the shell floor script failed\n");
      return 1;
    }
    double floor_ms = ms_since(t2);
    if (i < 0) continue;
    lib.push_back(total);
    lib_add.push_back(add_ms);
    lib_del.push_back(del_ms);
    floor.push_back(floor_ms);
  }
  std::printf("CNI ADD+DEL, bridge(host-local)+portmap, %d runs (median / p90, ms)\n", runs);
  std::printf("  knode cni library   ADD+DEL %7.2f / %7.2f   (ADD %6.2f, DEL %6.2f)\n", percentile(lib, 0.5),
              percentile(lib, 0.9), percentile(lib_add, 0.5), percentile(lib_del, 0.5));
  std::printf("  shell script floor  ADD+DEL %7.2f / %7.2f\n", percentile(floor, 0.5), percentile(floor, 0.9));
  std::printf("  ratio library/floor (median) %.3f\n", percentile(lib, 0.5) / percentile(floor, 0.5));
  return 0;
}
