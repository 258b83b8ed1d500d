#include <catch2/catch.hpp>

#include "agent/kubelet/pod_sources.h"
#include "kubelet_test_util.h"

using namespace knode;
using namespace knode::kubelet;

namespace {

kube::Pod named(const std::string& name, const std::string& uid) {
  return testing::pod_from_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
                                    "}\nspec: {containers: [{name: c, image: i}]}\n",
                                uid);
}

}  // namespace

TEST_CASE("pod sources: merged set, ready once every source delivered, first source wins a name",
          "[kubelet][sources]") {
  std::vector<std::pair<std::vector<std::string>, bool>> delivered;
  std::vector<std::set<std::string>> ready_calls;
  PodSourceMerger m(
      {"file", "http"},
      [&](std::vector<kube::Pod> pods, bool ready) {
        std::vector<std::string> uids;
        for (const auto& p : pods) uids.push_back(p.metadata.uid);
        delivered.emplace_back(uids, ready);
      },
      [&](const std::set<std::string>& uids) { ready_calls.push_back(uids); });
  m.update("file", {named("a", "u-a")});
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0] == std::make_pair(std::vector<std::string>{"u-a"}, false));
  CHECK(ready_calls.empty());
  CHECK_FALSE(m.all_ready());

  m.update("http", {named("b", "u-b"), named("a", "u-a2")});  // "a" is the file source's
  REQUIRE(delivered.size() == 2);
  CHECK(delivered[1] == std::make_pair(std::vector<std::string>{"u-a", "u-b"}, true));
  REQUIRE(ready_calls.size() == 1);
  CHECK(ready_calls[0] == std::set<std::string>{"u-a", "u-b"});

  m.update("file", {});  // the file pod goes; the http "a" now takes its name
  CHECK(delivered[2] == std::make_pair(std::vector<std::string>{"u-b", "u-a2"}, true));
  CHECK(ready_calls.size() == 1);  // announced once
}
