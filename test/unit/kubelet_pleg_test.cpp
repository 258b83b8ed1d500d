#include <catch2/catch.hpp>

#include "agent/kubelet/kubelet.h"
#include "agent/kubelet/pleg.h"
#include "cri/fake_runtime.h"
#include "cri/types.h"

using namespace knode;
using namespace knode::kubelet;

namespace {

std::string run_sandbox(cri::FakeRuntime& rt, const std::string& uid, const std::string& name,
                        const std::map<std::string, std::string>& annotations) {
  cri::v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("default");
  c.mutable_metadata()->set_uid(uid);
  (*c.mutable_labels())["io.kubernetes.pod.uid"] = uid;
  (*c.mutable_labels())["io.kubernetes.pod.name"] = name;
  for (const auto& [k, v] : annotations) (*c.mutable_annotations())[k] = v;
  auto id = rt.RunPodSandbox(c, "");
  REQUIRE(id.ok());
  return *id;
}

}  // namespace

TEST_CASE("pleg: relist reports only pods that changed, with ownership", "[kubelet][pleg]") {
  cri::FakeRuntime rt;
  PlegOptions opts{.managed = [](const auto& l, const auto& a) { return is_managed_sandbox(l, a, "n1"); }};
  Pleg pleg(rt, [](const std::string&, bool) {}, opts);
  CHECK(pleg.relist().empty());
  std::string mine = run_sandbox(rt, "u-mine", "web-n1", {{"kubernetes.io/config.source", "file"}});
  run_sandbox(rt, "u-other-node", "web-n2", {{"kubernetes.io/config.source", "file"}});
  run_sandbox(rt, "u-foreign", "test", {});
  auto changes = pleg.relist();
  REQUIRE(changes.size() == 3);
  std::map<std::string, bool> managed;
  for (const auto& c : changes) managed[c.uid] = c.managed;
  CHECK(managed["u-mine"]);
  CHECK_FALSE(managed["u-other-node"]);
  CHECK_FALSE(managed["u-foreign"]);
  CHECK(pleg.relist().empty());  // nothing changed
  REQUIRE(rt.StopPodSandbox(mine).ok());
  changes = pleg.relist();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].uid == "u-mine");
  REQUIRE(rt.RemovePodSandbox(mine).ok());
  changes = pleg.relist();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].managed);  // remembered from the previous relist
  CHECK(pleg.healthy());
  CHECK(pleg.stats().relists == 5);
}

TEST_CASE("pleg: API pods are managed; static pods only with this node's suffix", "[kubelet][pleg]") {
  CHECK(is_managed_sandbox({{"io.kubernetes.pod.name", "x"}}, {{"kubernetes.io/config.source", "api"}}, "n1"));
  CHECK(is_managed_sandbox({{"io.kubernetes.pod.name", "etcd-n1"}}, {{"kubernetes.io/config.source", "file"}}, "n1"));
  CHECK_FALSE(is_managed_sandbox({{"io.kubernetes.pod.name", "etcd-n12"}}, {{"kubernetes.io/config.source", "file"}}, "n1"));
  CHECK_FALSE(is_managed_sandbox({{"io.kubernetes.pod.name", "etcd-n1"}}, {}, "n1"));
}
