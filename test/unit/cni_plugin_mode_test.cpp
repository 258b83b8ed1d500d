// knode as the knode-cni plugin: through the library with a fake executor, and the real knode-cni
// binary invoked as a runtime invokes it (environment + stdin) over shell-script plugins.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "cni/fake_executor.h"
#include "cni/network_config.h"
#include "cni/plugin_mode.h"
#include "cni/process_executor.h"
#include "cni_test_util.h"

using namespace knode::cni;
namespace json = boost::json;
using knode::cni::testing::TempDir;
using knode::cni::testing::write_file;

namespace {

const char* kInnerResult =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/p"}],"ips":[{"interface":0,"address":"10.9.0.7/24","gateway":"10.9.0.1"}],"dns":{}})";

struct Fixture {
  TempDir dir;
  FakeExecutor exec;
  Fixture() {
    write_file(dir / "net.d/10-real.conflist",
               R"({"cniVersion":"1.0.0","name":"real","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}]})");
    exec.add_plugin("bridge", [](const FakeCall& c) { return FakeExecutor::ok(c.command == "ADD" ? kInnerResult : ""); });
    exec.add_plugin("portmap", [](const FakeCall& c) {
      if (c.command != "ADD") return FakeExecutor::ok();
      return FakeExecutor::ok(json::serialize(json::parse(c.stdin_data).at("prevResult")));
    });
  }
  std::string conf(const std::string& version = "0.4.0", const std::string& extra = "") {
    return R"({"cniVersion":")" + version + R"(","name":"knode","type":"knode-cni","confDir":")" + (dir / "net.d") +
           R"(","cacheDir":")" + (dir / "cache") + R"(","binDir":"/opt/cni/bin")" + extra + "}";
  }
  PluginReply call(const std::string& command, const std::string& stdin_data) {
    PluginInvocation inv{.env = {{"CNI_COMMAND", command}, {"CNI_CONTAINERID", "ctr1"}, {"CNI_NETNS", "/run/netns/p"},
                                 {"CNI_IFNAME", "eth0"}, {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web"}},
                         .stdin_data = stdin_data};
    return run_plugin_mode(inv, exec);
  }
};

}  // namespace

TEST_CASE("plugin mode answers VERSION", "[cni][plugin]") {
  Fixture f;
  auto r = f.call("VERSION", R"({"cniVersion":"1.0.0"})");
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == R"({"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})");
}

TEST_CASE("plugin mode ADD runs the real chain and returns its result in the caller's version", "[cni][plugin]") {
  Fixture f;
  auto r = f.call("ADD", f.conf("0.4.0", R"(,"runtimeConfig":{"portMappings":[{"hostPort":80,"containerPort":8080}]})"));
  REQUIRE(r.exit_code == 0);
  CHECK(r.stdout_data ==
        R"({"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/p"}],"ips":[{"version":"4","interface":0,"address":"10.9.0.7/24","gateway":"10.9.0.1"}],"dns":{}})");
  const auto& calls = f.exec.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].env_value("CNI_CONTAINERID") == "ctr1");
  CHECK(calls[0].env_value("CNI_ARGS") == "IgnoreUnknown=1;K8S_POD_NAME=web");
  CHECK(json::parse(calls[0].stdin_data).at("name") == "real");
  CHECK(json::parse(calls[1].stdin_data).at("runtimeConfig").at("portMappings").as_array().size() == 1);
  CHECK(std::filesystem::exists(f.dir / "cache/results/real-ctr1-eth0"));

  f.exec.clear_calls();
  auto del = f.call("DEL", f.conf("0.4.0", R"(,"prevResult":{"cniVersion":"0.4.0"})"));
  CHECK(del.exit_code == 0);
  CHECK(del.stdout_data.empty());
  REQUIRE(f.exec.calls().size() == 2);
  CHECK(f.exec.calls()[0].type == "portmap");
  CHECK_FALSE(std::filesystem::exists(f.dir / "cache/results/real-ctr1-eth0"));
}

TEST_CASE("plugin mode passes an inner plugin's error through verbatim", "[cni][plugin]") {
  Fixture f;
  f.exec.add_plugin("bridge", [](const FakeCall& c) {
    return c.command == "ADD" ? FakeExecutor::fail(11, "address pool exhausted", "no IP addresses available in range set")
                              : FakeExecutor::ok();
  });
  auto r = f.call("ADD", f.conf("1.0.0"));
  CHECK(r.exit_code == 1);
  CHECK(r.stdout_data ==
        R"({"cniVersion":"1.0.0","code":11,"msg":"address pool exhausted","details":"no IP addresses available in range set"})");
}

TEST_CASE("plugin mode refuses configurations that cannot work", "[cni][plugin]") {
  Fixture f;
  auto err_code = [](const PluginReply& r) { return json::parse(r.stdout_data).at("code").as_int64(); };
  auto bad_version = f.call("ADD", f.conf("0.2.0"));
  CHECK(bad_version.exit_code == 1);
  CHECK(err_code(bad_version) == 1);

  write_file(f.dir / "self/10-self.conf", R"({"cniVersion":"1.0.0","name":"loop","type":"knode-cni"})");
  auto self = f.call("ADD", f.conf("1.0.0", R"(,"confDir":")" + (f.dir / "self") + "\""));
  CHECK(err_code(self) == 7);
  CHECK_THAT(self.stdout_data, Catch::Contains("calls knode-cni itself"));

  auto same = f.call("ADD", R"({"cniVersion":"1.0.0","name":"real","type":"knode-cni","confDir":")" + (f.dir / "net.d") + "\"}");
  CHECK(err_code(same) == 7);

  auto none = f.call("ADD", f.conf("1.0.0", R"(,"confDir":")" + (f.dir / "missing") + "\""));
  CHECK(err_code(none) == 7);
  CHECK_THAT(none.stdout_data, Catch::Contains("does not exist"));

  auto garbage = f.call("ADD", "{{{");
  CHECK(err_code(garbage) == 6);
  CHECK(f.exec.calls().empty());
}

TEST_CASE("plugin mode GC forwards the valid attachments", "[cni][plugin]") {
  Fixture f;
  REQUIRE(f.call("ADD", f.conf("1.1.0")).exit_code == 0);
  f.exec.clear_calls();
  auto r = f.call("GC", f.conf("1.1.0", R"(,"cni.dev/valid-attachments":[{"containerID":"other","ifname":"eth0"}])"));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(f.dir / "cache/results/real-ctr1-eth0"));
  auto status = f.call("STATUS", f.conf("1.1.0"));
  CHECK(status.exit_code == 0);
}

TEST_CASE("the knode-cni binary works when invoked as a runtime invokes a plugin", "[cni][plugin]") {
  std::string binary = std::string(KNODE_BINARY_DIR) + "/knode-cni";
  REQUIRE(std::filesystem::exists(binary));
  TempDir d;
  // An inner chain of one shell-script plugin that answers ADD with a fixed result.
  write_file(d / "bin/fakebr",
             "#!/bin/sh\ncat > " + (d / "stdin.$CNI_COMMAND") + "\n"
             "case \"$CNI_COMMAND\" in\n"
             "  ADD) printf '%s' '" + std::string(kInnerResult) + "' ;;\n"
             "  VERSION) echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}' ;;\n"
             "esac\n",
             true);
  std::filesystem::create_symlink(binary, d / "bin/knode-cni");
  write_file(d / "net.d/10-inner.conflist", R"({"cniVersion":"1.0.0","name":"inner","plugins":[{"type":"fakebr"}]})");
  std::string conf = R"({"cniVersion":"1.0.0","name":"outer","type":"knode-cni","confDir":")" + (d / "net.d") +
                     R"(","cacheDir":")" + (d / "cache") + "\"}";
  ProcessExecutor exec;
  std::vector<std::string> env = {"CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x", "CNI_IFNAME=eth0",
                                  "CNI_ARGS=IgnoreUnknown=1", "CNI_PATH=" + (d / "bin")};
  auto out = exec.run({.path = d / "bin/knode-cni", .env = env, .stdin_data = conf});
  REQUIRE(out.ok());
  INFO(out->stderr_data);
  CHECK(out->exit_code == 0);
  CHECK(json::parse(out->stdout_data) == json::parse(kInnerResult));
  CHECK(json::parse(knode::cni::testing::read_file(d / "stdin.ADD")).at("name") == "inner");

  env[0] = "CNI_COMMAND=VERSION";
  auto ver = exec.run({.path = d / "bin/knode-cni", .env = env, .stdin_data = R"({"cniVersion":"1.0.0"})"});
  REQUIRE(ver.ok());
  CHECK_THAT(ver->stdout_data, Catch::Contains("\"1.1.0\""));
}

TEST_CASE("the shipped containerd conf is a valid knode-cni network", "[cni][plugin]") {
  auto l = load_network_file(std::string(KNODE_SOURCE_DIR) + "/cni/containerd/10-knode.conflist");
  REQUIRE(l.ok());
  REQUIRE(l->plugins.size() == 1);
  CHECK(l->plugins[0].type == "knode-cni");
  CHECK(l->plugins[0].capabilities.at("portMappings"));
  CHECK(l->name != "kntnet");
  std::string toml = knode::cni::testing::read_file(std::string(KNODE_SOURCE_DIR) + "/cni/containerd/config.toml");
  CHECK_THAT(toml, Catch::Contains("cni_conf_dir = \"/etc/knode/cni/net.d\""));
}
