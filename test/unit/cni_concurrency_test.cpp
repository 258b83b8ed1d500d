// Several pods attached at once through one Runtime and real processes (shell-script plugins).
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "cni/process_executor.h"
#include "cni/runtime.h"
#include "cni_test_util.h"

using namespace knode::cni;
using knode::cni::testing::TempDir;
using knode::cni::testing::write_file;

TEST_CASE("one Runtime serves concurrent attachments", "[cni][runtime]") {
  TempDir d;
  // An IPAM-less plugin that answers with an address derived from the container id; and a plugin
  // that speaks only 0.4.0, so every thread also goes through version negotiation.
  write_file(d / "bin/fakeip",
             "#!/bin/sh\ncat >/dev/null\n[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
             "printf '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.%s/24\"}]}' \"${CNI_CONTAINERID#c}\"\n",
             true);
  write_file(d / "bin/old",
             "#!/bin/sh\nconf=$(cat)\n"
             "[ \"$CNI_COMMAND\" = VERSION ] && { echo '{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.4.0\"]}'; exit 0; }\n"
             "case \"$conf\" in *'\"cniVersion\":\"0.4.0\"'*) ;; *) echo '{\"code\":1,\"msg\":\"incompatible CNI versions\"}'; exit 1;; esac\n"
             "[ \"$CNI_COMMAND\" = ADD ] && printf '%s' \"$conf\" | sed 's/.*\"prevResult\":\\(.*\\),\"type\":\"old\"}$/\\1/'\nexit 0\n",
             true);
  auto list = parse_network_list(R"({"cniVersion":"1.0.0","name":"par","plugins":[{"type":"fakeip"},{"type":"old"}]})");
  REQUIRE(list.ok());
  ProcessExecutor exec;
  Runtime runtime(exec, {.bin_dirs = {d / "bin"}, .cache_dir = d / "cache"});
  constexpr int kThreads = 8;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      RuntimeConf rt{.container_id = "c" + std::to_string(i + 1), .netns = "/run/netns/x"};
      auto r = runtime.add(*list, rt);
      if (!r) {
        errors[i] = r.error().message();
        return;
      }
      if (r->ips.size() != 1 || r->ips[0].address != "10.0.0." + std::to_string(i + 1) + "/24") {
        errors[i] = "wrong result";
        return;
      }
      if (auto st = runtime.del(*list, rt); !st) errors[i] = st.message();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e == "");
  CHECK(std::filesystem::is_empty(d / "cache/results"));
}
