// The kubelet's network manager with the real reference plugins (bridge, host-local) in network
// namespaces the test creates (one as the node, others as pods) and the in-memory runtime as the
// sandbox list: NetworkReady from the real conf dir and plugins, and CNI GC releasing the host-local
// lease and the veth of a sandbox the runtime no longer has. Needs root.
#include <catch2/catch.hpp>

#include <filesystem>

#include "agent/kubelet/network_manager.h"
#include "cni/process_executor.h"
#include "cri/fake_runtime.h"
#include "cri/types.h"
#include "test/integration/cni_netns.h"
#include "test/unit/cni_test_util.h"

using namespace knode;
using namespace knode::cni::testing;
namespace fs = std::filesystem;

namespace {

struct Node {
  TempDir dir;
  Netns host{"kl-host"};
  cni::ProcessExecutor exec;
  cri::FakeRuntime rt;

  Node() {
    rt.add_runtime_handler("knode");
    rt.set_status_info("config", R"({"containerd":{"runtimes":{"knode":{"cniConfDir":")" + dir / "handler" +
                                     R"("}}}})");
  }
  void write_network(const std::string& version, const std::string& extra = "") {
    write_file(dir / "net.d/10-kl.conflist",
               R"({"cniVersion":")" + version + R"(","name":"klnet","plugins":[{"type":"bridge","bridge":"kltbr0",)"
               R"("isGateway":true,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.251.0.0/24"}]],)"
               R"("dataDir":")" + dir / "ipam" + R"("}})" + extra + "]}");
  }
  kubelet::NetworkManagerOptions options() {
    return {.cni = true,
            .conf_dir = dir / "net.d",
            .bin_dirs = {"/usr/lib/cni"},
            .cache_dir = dir / "cache",
            .gc_grace = std::chrono::milliseconds(0)};
  }
  std::vector<std::string> leases() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / "ipam/klnet", ec)) {
      std::string n = e.path().filename().string();
      if (n != "lock" && n.rfind("last_reserved_ip", 0) != 0) out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string sandbox(const std::string& name) {
    cri::v1::PodSandboxConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_metadata()->set_namespace_("default");
    c.mutable_metadata()->set_uid("uid-" + name);
    auto id = rt.RunPodSandbox(c, "knode");
    REQUIRE(id.ok());
    return *id;
  }
  std::string attach(cni::Runtime& r, const Netns& pod, const std::string& id) {
    auto net = cni::load_network(dir / "net.d");
    REQUIRE(net.ok());
    auto res = r.add(net->list, {.container_id = id, .netns = pod.path(), .ifname = "eth0"});
    REQUIRE(res.ok());
    return res->ips.at(0).address.substr(0, res->ips.at(0).address.find('/'));
  }
};

}  // namespace

TEST_CASE("NetworkReady with the real plugins", "[kubelet][network][integration]") {
  REQUIRE(is_root());
  Node node;
  EnterNetns in(node.host);
  kubelet::NetworkManager nm(node.rt, node.exec, node.options());

  auto c = nm.refresh();
  CHECK_FALSE(c.ready);
  CHECK(c.message.find(node.dir / "net.d") != std::string::npos);

  node.write_network("1.0.0");
  CHECK(nm.refresh().ready);
  // A 1.1 list: Debian's plugins (1.1.1) speak up to 1.0.0, so they have no STATUS and count as ready.
  node.write_network("1.1.0");
  CHECK(nm.refresh().ready);
  // A 1.1 list with a plugin that is not installed: STATUS cannot run it, naming the plugin.
  node.write_network("1.1.0", R"(,{"type":"kl-missing-plugin"})");
  c = nm.refresh();
  CHECK_FALSE(c.ready);
  CHECK(c.reason == "NetworkPluginNotReady");
  CHECK(c.message.find("kl-missing-plugin") != std::string::npos);
  CHECK(nm.network_error().rfind("container runtime network not ready: NetworkReady=false "
                                 "reason:NetworkPluginNotReady message:Network plugin returns error: ",
                                 0) == 0);
}

TEST_CASE("CNI GC releases the lease and veth of a vanished sandbox, never while the runtime cannot be listed",
          "[kubelet][network][integration]") {
  REQUIRE(is_root());
  Node node;
  node.write_network("1.0.0");
  Netns live_ns("kl-live"), gone_ns("kl-gone");
  EnterNetns in(node.host);
  cni::Runtime attacher(node.exec, {.bin_dirs = {"/usr/lib/cni"}, .cache_dir = node.dir / "cache"});
  std::string live = node.sandbox("live");
  std::string live_ip = node.attach(attacher, live_ns, live);
  std::string gone_ip = node.attach(attacher, gone_ns, "0123456789abcdef-gone");
  REQUIRE(node.leases() == std::vector<std::string>{live_ip, gone_ip});
  REQUIRE(gone_ns.exec("ip link show eth0").rc == 0);

  kubelet::NetworkManager nm(node.rt, node.exec, node.options());
  node.rt.fail_next("ListPodSandbox", cri::Code::Unavailable, "connection refused");
  CHECK_FALSE(nm.collect_garbage().ok());
  CHECK(node.leases().size() == 2);

  auto gc = nm.collect_garbage();
  REQUIRE(gc.ok());
  CHECK(*gc == 1);
  CHECK(node.leases() == std::vector<std::string>{live_ip});
  CHECK(gone_ns.exec("ip link show eth0").rc != 0);  // the bridge plugin's DEL removed the veth
  CHECK(live_ns.exec("ip link show eth0").rc == 0);
  CHECK_FALSE(fs::exists(node.dir / "cache/results/klnet-0123456789abcdef-gone-eth0"));
  CHECK(fs::exists(node.dir / ("cache/results/klnet-" + live + "-eth0")));

  // Tidy: the live attachment too.
  auto net = cni::load_network(node.dir / "net.d");
  REQUIRE(net.ok());
  CHECK(attacher.del(net->list, {.container_id = live, .netns = live_ns.path(), .ifname = "eth0"}).ok());
  CHECK(node.leases().empty());
}
