// The kubelet's network manager with the fake CNI executor and the fake runtime: NetworkReady in
// upstream's wording (runtime condition + conf dir + plugin STATUS), the knode handler's conflist,
// and the CNI GC of attachments whose sandbox is gone.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "cni_test_util.h"
#include "agent/kubelet/network_manager.h"
#include "agent/kubelet/runtime_handler.h"
#include "agent/kubelet/status_manager.h"
#include "cni/fake_executor.h"
#include "cni/result_cache.h"
#include "cri/fake_runtime.h"
#include "cri/types.h"

namespace knode::kubelet {
namespace {

using cni::testing::read_file;
using cni::testing::TempDir;
using cni::testing::write_file;

std::string conflist(const std::string& version, const std::string& name = "podnet") {
  return R"({"cniVersion":")" + version + R"(","name":")" + name +
         R"(","plugins":[{"type":"bridge","bridge":"cni0","ipam":{"type":"host-local"}}]})";
}

struct Fixture {
  TempDir dir;
  cni::FakeExecutor exec;
  cri::FakeRuntime rt;
  std::vector<std::string> dels;  // container ids the fake bridge was asked to DEL
  std::string status_error;       // what the fake bridge answers to STATUS ("" = ready)
  std::vector<NetworkCondition> changes;

  Fixture() {
    exec.add_plugin("bridge", [this](const cni::FakeCall& c) {
      if (c.command == "VERSION") return cni::FakeExecutor::all_versions();
      if (c.command == "ADD")
        return cni::FakeExecutor::ok(R"({"cniVersion":"1.0.0","ips":[{"address":"10.22.0.5/24"}]})");
      if (c.command == "DEL") dels.push_back(c.env_value("CNI_CONTAINERID"));
      if (c.command == "STATUS" && !status_error.empty())
        return cni::FakeExecutor::fail(50, status_error, "no leases left");
      return cni::FakeExecutor::ok();
    });
    rt.add_runtime_handler("knode");
    rt.set_status_info("config", R"({"containerd":{"runtimes":{"runc":{},"knode":{"cniConfDir":")" +
                                     dir / "handler" + R"("}}}})");
  }

  NetworkManagerOptions options() {
    return {.cni = true,
            .conf_dir = dir / "net.d",
            .bin_dirs = {"/fake"},
            .cache_dir = dir / "cache",
            .gc_grace = std::chrono::milliseconds(0),
            .on_change = [this](const NetworkCondition& c) { changes.push_back(c); }};
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

  // An attachment as knode-cni leaves it: ADD through the library, so the cache holds it.
  void attach(const std::string& container_id) {
    cni::Runtime r(exec, {.bin_dirs = {"/fake"}, .cache_dir = dir / "cache"});
    auto net = cni::load_network(dir / "net.d");
    REQUIRE(net.ok());
    REQUIRE(r.add(net->list, {.container_id = container_id, .netns = "/var/run/netns/x", .ifname = "eth0"}).ok());
  }

  bool cached(const std::string& container_id, const std::string& network = "podnet") {
    return std::filesystem::exists(dir / ("cache/results/" + network + "-" + container_id + "-eth0"));
  }
};

}  // namespace

TEST_CASE("NetworkCondition reads as upstream's runtime network error", "[kubelet][network]") {
  NetworkCondition ready;
  CHECK(ready.error().empty());
  NetworkCondition c{.ready = false, .reason = "NetworkPluginNotReady", .message = "Network plugin returns error: x"};
  CHECK(c.str() == "NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: x");
  CHECK(c.error() == "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                     "message:Network plugin returns error: x");
}

TEST_CASE("NetworkReady follows the conf dir, the plugins' STATUS and the runtime's condition", "[kubelet][network]") {
  Fixture f;
  NetworkManager nm(f.rt, f.exec, f.options());

  // No conf dir yet: not ready, naming the dir.
  auto c = nm.refresh();
  CHECK_FALSE(c.ready);
  CHECK(c.reason == "NetworkPluginNotReady");
  CHECK(c.message.find("Network plugin returns error: cni config load failed") == 0);
  CHECK(c.message.find(f.dir / "net.d") != std::string::npos);
  CHECK(nm.network_error().find("container runtime network not ready: NetworkReady=false "
                                "reason:NetworkPluginNotReady message:") == 0);

  // The handler's conflist was written where the runtime says its cni_conf_dir is.
  std::string handler = read_file(f.dir / "handler/10-knode.conflist");
  CHECK(handler.find(R"("type": "knode-cni")") != std::string::npos);
  CHECK(handler.find(R"("confDir": ")" + f.dir / "net.d" + "\"") != std::string::npos);
  CHECK(handler.find(R"("cacheDir": ")" + f.dir / "cache" + "\"") != std::string::npos);
  CHECK(handler.find(R"("binDir": "/fake")") != std::string::npos);

  // Removed behind the kubelet's back: written again on the next check.
  std::filesystem::remove(f.dir / "handler/10-knode.conflist");
  nm.refresh();
  CHECK(read_file(f.dir / "handler/10-knode.conflist") == handler);

  // An invalid file only: still not ready, the file's problem in the message.
  write_file(f.dir / "net.d/05-bad.conflist", R"({"cniVersion":"1.0.0","name":"bad","plugins":[{}]})");
  c = nm.refresh();
  CHECK_FALSE(c.ready);
  CHECK(c.message.find("05-bad.conflist: plugins[0].type") != std::string::npos);

  // A 1.0 network: nothing to ask, ready.
  write_file(f.dir / "net.d/10-podnet.conflist", conflist("1.0.0"));
  CHECK(nm.refresh().ready);
  CHECK(nm.network_error().empty());

  // A 1.1 network whose plugin answers STATUS with an error: not ready, naming network and plugin.
  write_file(f.dir / "net.d/10-podnet.conflist", conflist("1.1.0"));
  f.status_error = "address pool exhausted";
  c = nm.refresh();
  CHECK_FALSE(c.ready);
  CHECK(c.message.find("Network plugin returns error: " + f.dir / "net.d/10-podnet.conflist: network \"podnet\": ") == 0);
  CHECK(c.message.find("plugin type=\"bridge\"") != std::string::npos);
  CHECK(c.message.find("address pool exhausted") != std::string::npos);
  f.status_error.clear();
  CHECK(nm.refresh().ready);

  // The runtime's own condition wins with its reason and message.
  f.rt.set_condition("NetworkReady", false, "NetworkPluginNotReady", "Network plugin returns error: cni plugin not initialized");
  c = nm.refresh();
  CHECK(c.error() == "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                     "message:Network plugin returns error: cni plugin not initialized");
  f.rt.set_condition("NetworkReady", true);

  // A failing Status call is not "ready".
  f.rt.fail_next("Status", cri::Code::Unavailable, "connection refused");
  CHECK_FALSE(nm.refresh().ready);
  CHECK(nm.refresh().ready);

  // Only changes are reported.
  REQUIRE(f.changes.size() == 8);
  CHECK(f.changes.back().ready);
  nm.refresh();
  CHECK(f.changes.size() == 8);
}

TEST_CASE("Without --network-plugin only the runtime's condition counts", "[kubelet][network]") {
  Fixture f;
  auto o = f.options();
  o.cni = false;
  NetworkManager nm(f.rt, f.exec, o);
  CHECK(nm.refresh().ready);  // no conf dir, no handler: not ours to judge
  CHECK_FALSE(std::filesystem::exists(f.dir / "handler/10-knode.conflist"));
  f.rt.set_condition("NetworkReady", false, "NetworkPluginNotReady", "no network config found");
  nm.refresh();
  CHECK(nm.network_error() ==
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:no network "
        "config found");
  auto gc = nm.collect_garbage();
  REQUIRE(gc.ok());
  CHECK(*gc == 0);
}

TEST_CASE("A runtime without the knode handler: not ready, naming the handler", "[kubelet][network]") {
  TempDir dir;
  cni::FakeExecutor exec;
  cri::FakeRuntime rt;
  rt.add_runtime_handler("runc");
  NetworkManager nm(rt, exec, {.cni = true, .conf_dir = dir / "net.d", .cache_dir = dir / "cache"});
  auto c = nm.refresh();
  CHECK_FALSE(c.ready);
  CHECK(c.message.find("no runtime handler \"knode\" (it has: runc)") != std::string::npos);

  // containerd 1.6 shows the handler without a cni_conf_dir: its pods would get the default network.
  cri::FakeRuntime rt2;
  rt2.add_runtime_handler("knode");
  rt2.set_status_info("config", R"({"containerd":{"runtimes":{"knode":{"runtimeType":"io.containerd.runc.v2"}}}})");
  auto p = prepare_knode_handler(rt2, "knode", {});
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().message().find("runtime handler \"knode\" has no cni_conf_dir") != std::string::npos);
}

TEST_CASE("The handler conflist is written in place, only when it changes", "[kubelet][network]") {
  TempDir dir;
  std::string path = dir / "h/10-knode.conflist";
  auto w = write_in_place_if_changed(path, "one\n");
  REQUIRE(w.ok());
  CHECK(*w);
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  w = write_in_place_if_changed(path, "one\n");
  REQUIRE(w.ok());
  CHECK_FALSE(*w);
  w = write_in_place_if_changed(path, "two\n");
  REQUIRE(w.ok());
  CHECK(*w);
  struct stat after {};
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);  // the same file: containerd's watcher sees the write
  CHECK(read_file(path) == "two\n");

  std::string conf = cni::handler_conflist({.conf_dir = "/x/net.d", .bin_dirs = {"/a", "/b"}, .cache_dir = "/c"});
  CHECK(conf.find(R"("confDir": "/x/net.d")") != std::string::npos);
  CHECK(conf.find(R"("binDir": "/a:/b")") != std::string::npos);
  CHECK(conf.find(R"("cacheDir": "/c")") != std::string::npos);
  // The shipped conflist is exactly what the defaults give.
  CHECK(cni::handler_conflist({}) == read_file(std::string(KNODE_SOURCE_DIR) + "/cni/containerd/10-knode.conflist"));
}

TEST_CASE("CNI GC DELs the attachments of gone sandboxes and keeps the live ones", "[kubelet][network]") {
  Fixture f;
  write_file(f.dir / "net.d/10-podnet.conflist", conflist("1.0.0"));
  std::string live = f.sandbox("live");
  f.attach(live);
  f.attach("gone1");
  f.attach("gone2");
  NetworkManager nm(f.rt, f.exec, f.options());

  // The runtime cannot be listed: nothing is deleted.
  f.rt.fail_next("ListPodSandbox", cri::Code::Unavailable, "connection refused");
  auto gc = nm.collect_garbage();
  CHECK_FALSE(gc.ok());
  CHECK(f.dels.empty());
  CHECK(f.cached("gone1"));

  gc = nm.collect_garbage();
  REQUIRE(gc.ok());
  CHECK(*gc == 2);
  std::sort(f.dels.begin(), f.dels.end());
  CHECK(f.dels == std::vector<std::string>{"gone1", "gone2"});
  CHECK(f.cached(live));
  CHECK_FALSE(f.cached("gone1"));
  CHECK_FALSE(f.cached("gone2"));

  // A network whose conf file is gone: its stale attachment is DELeted with the cached config.
  f.attach("renamed-gone");
  std::filesystem::remove(f.dir / "net.d/10-podnet.conflist");
  write_file(f.dir / "net.d/20-other.conflist", conflist("1.0.0", "othernet"));
  f.dels.clear();
  gc = nm.collect_garbage();
  REQUIRE(gc.ok());
  CHECK(*gc == 1);
  CHECK(f.dels == std::vector<std::string>{"renamed-gone"});
  CHECK(f.cached(live));

  // Nothing left to do.
  f.dels.clear();
  gc = nm.collect_garbage();
  REQUIRE(gc.ok());
  CHECK(*gc == 0);
  CHECK(f.dels.empty());
}

TEST_CASE("CNI GC keeps attachments younger than the grace period (a RunPodSandbox in flight)", "[kubelet][network]") {
  Fixture f;
  write_file(f.dir / "net.d/10-podnet.conflist", conflist("1.0.0"));
  f.attach("creating");
  f.attach("old");
  auto old_path = f.dir / "cache/results/podnet-old-eth0";
  std::filesystem::last_write_time(old_path, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(5));
  auto o = f.options();
  o.gc_grace = std::chrono::minutes(2);
  NetworkManager nm(f.rt, f.exec, o);
  auto gc = nm.collect_garbage();
  REQUIRE(gc.ok());
  CHECK(*gc == 1);
  CHECK(f.dels == std::vector<std::string>{"old"});
  CHECK(f.cached("creating"));
}

TEST_CASE("CNI GC of a 1.1 network sends the valid attachments", "[kubelet][network]") {
  Fixture f;
  write_file(f.dir / "net.d/10-podnet.conflist", conflist("1.1.0"));
  std::string live = f.sandbox("live");
  NetworkManager nm(f.rt, f.exec, f.options());
  REQUIRE(nm.collect_garbage().ok());
  REQUIRE(f.exec.calls().size() == 2);
  CHECK(f.exec.calls()[0].command == "VERSION");
  const auto& call = f.exec.calls()[1];
  CHECK(call.command == "GC");
  CHECK(call.stdin_data.find(R"("cni.dev/valid-attachments":[{"containerID":")" + live +
                             R"(","ifname":"eth0"}])") != std::string::npos);
}

TEST_CASE("The status file carries the NetworkReady condition", "[kubelet][network]") {
  StatusManager sm("");
  CHECK(sm.render().find("networkReady") == std::string::npos);
  NetworkCondition c{.ready = false, .reason = "NetworkPluginNotReady", .message = "Network plugin returns error: \"x\""};
  sm.set_network_condition(c.ready, c.reason, c.error());
  CHECK(sm.render().find(R"("networkReady":{"type":"NetworkReady","status":"False","reason":"NetworkPluginNotReady",)"
                         R"("message":"container runtime network not ready: NetworkReady=false )"
                         R"(reason:NetworkPluginNotReady message:Network plugin returns error: \"x\""})") !=
        std::string::npos);
}

}  // namespace knode::kubelet
