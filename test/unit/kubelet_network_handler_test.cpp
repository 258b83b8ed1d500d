// --network-plugin=cni's handler choice through the pod syncer: pods without a runtimeClassName run
// on the configured handler, pods with one keep theirs (the in-memory runtime records the handler).
#include <catch2/catch.hpp>

#include <filesystem>

#include "agent/kubelet/pod_syncer.h"
#include "agent/kubelet/status_manager.h"
#include "cri/fake_runtime.h"
#include "cri/types.h"
#include "kubelet_test_util.h"

using namespace knode;
using namespace knode::kubelet;

namespace {

std::string sandbox_handler(cri::FakeRuntime& rt) {
  auto list = rt.ListPodSandbox(nullptr);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  return list->front().runtime_handler();
}

std::string handler_for(const std::string& configured, const std::string& pod_yaml) {
  cri::FakeRuntime rt;
  rt.add_image("knode.local/busybox:1.36");
  StatusManager status("");
  std::string dir = std::filesystem::temp_directory_path() / "knode-unit-kubelet-handler";
  PodSyncer syncer(rt, rt, status, nullptr, PodSyncerOptions{.pods_dir = dir, .runtime_handler = configured});
  PodState state;
  syncer.sync_pod(testing::pod_from_yaml(pod_yaml), state);
  std::filesystem::remove_all(dir);
  return sandbox_handler(rt);
}

}  // namespace

TEST_CASE("pods without a runtimeClassName run on the network plugin's handler", "[kubelet][network]") {
  CHECK(handler_for("knode", testing::kWebPod) == "knode");
  CHECK(handler_for("", testing::kWebPod).empty());  // no --network-plugin: the runtime's default

  std::string with_class = testing::kWebPod;
  with_class.replace(with_class.find("spec:\n"), 6, "spec:\n  runtimeClassName: gvisor\n");
  CHECK(handler_for("knode", with_class) == "gvisor");
}
