// The runtime against a fake executor: chaining, capabilities, cache use, negotiation, errors, GC.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "cni/fake_executor.h"
#include "cni/runtime.h"
#include "cni_test_util.h"

using namespace knode::cni;
namespace json = boost::json;
using knode::cni::testing::TempDir;

namespace {

const char* kBridgeResult =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"cni0","mac":"aa:00:00:00:00:01"},{"name":"eth0","mac":"aa:00:00:00:00:02","sandbox":"/run/netns/p1"}],)"
    R"("ips":[{"interface":1,"address":"10.1.0.5/24","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}})";

json::object stdin_of(const FakeCall& c) { return json::parse(c.stdin_data).as_object(); }

// Passes prevResult through, as chained plugins like portmap do.
ExecOutput passthrough(const FakeCall& c) {
  if (c.command == "VERSION") return FakeExecutor::all_versions();
  if (c.command != "ADD") return FakeExecutor::ok();
  auto o = stdin_of(c);
  return FakeExecutor::ok(json::serialize(o.at("prevResult")));
}

struct Fixture {
  TempDir dir;
  FakeExecutor exec;
  Runtime runtime{exec, {.bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"}, .cache_dir = dir.path(),
                         .plugin_timeout = std::chrono::seconds(5)}};
  RuntimeConf rt{.container_id = "c1",
                 .netns = "/run/netns/p1",
                 .ifname = "eth0",
                 .args = kubernetes_cni_args("default", "web-0", "c1", "uid-1"),
                 .capability_args = {{"portMappings", R"([{"hostPort":8080,"containerPort":80,"protocol":"tcp"}])"},
                                     {"bandwidth", R"({"ingressRate":1000})"}}};
  Fixture() {
    exec.add_plugin("bridge", [](const FakeCall& c) {
      if (c.command == "VERSION") return FakeExecutor::all_versions();
      return c.command == "ADD" ? FakeExecutor::ok(kBridgeResult) : FakeExecutor::ok();
    });
    exec.add_plugin("portmap", passthrough);
    exec.add_plugin("bandwidth", passthrough);
  }
  NetworkConfigList list(const std::string& version = "1.0.0", const std::string& extra = "") {
    auto l = parse_network_list(R"({"cniVersion":")" + version + R"(","name":"net1")" + extra +
                                R"(,"plugins":[{"type":"bridge","bridge":"cni0"},)"
                                R"({"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}}]})");
    REQUIRE(l.ok());
    return *l;
  }
};

}  // namespace

TEST_CASE("CNI_ARGS are formatted and parsed", "[cni][runtime]") {
  CHECK(format_cni_args(kubernetes_cni_args("ns", "pod", "id", "uid")) ==
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=id;K8S_POD_UID=uid");
  auto p = parse_cni_args("A=1;B=x=y;;C=");
  REQUIRE(p.ok());
  CHECK(*p == CniArgs{{"A", "1"}, {"B", "x=y"}, {"C", ""}});
  CHECK_FALSE(parse_cni_args("novalue").ok());
}

TEST_CASE("ADD runs the plugins in order with the CNI environment and chains prevResult", "[cni][runtime]") {
  Fixture f;
  auto l = f.list();
  auto r = f.runtime.add(l, f.rt);
  REQUIRE(r.ok());
  CHECK(r->ips.at(0).address == "10.1.0.5/24");
  const auto& calls = f.exec.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].type == "bridge");
  CHECK(calls[1].type == "portmap");
  for (const auto& c : calls) {
    CHECK(c.command == "ADD");
    CHECK(c.env_value("CNI_CONTAINERID") == "c1");
    CHECK(c.env_value("CNI_NETNS") == "/run/netns/p1");
    CHECK(c.env_value("CNI_IFNAME") == "eth0");
    CHECK(c.env_value("CNI_ARGS") ==
          "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=uid-1");
    CHECK(c.env_value("CNI_PATH") == "/opt/cni/bin:/usr/lib/cni");
  }
  // The first plugin gets its own config with name and cniVersion injected, keys sorted as libcni sends them.
  CHECK(calls[0].stdin_data == R"({"bridge":"cni0","cniVersion":"1.0.0","name":"net1","type":"bridge"})");
  auto second = stdin_of(calls[1]);
  CHECK(second.at("prevResult") == json::parse(kBridgeResult));
}

TEST_CASE("only the capabilities a plugin declares reach its runtimeConfig", "[cni][runtime]") {
  Fixture f;
  auto r = f.runtime.add(f.list(), f.rt);
  REQUIRE(r.ok());
  const auto& calls = f.exec.calls();
  CHECK_FALSE(stdin_of(calls[0]).contains("runtimeConfig"));  // bridge declares none
  auto pm = stdin_of(calls[1]);
  REQUIRE(pm.contains("runtimeConfig"));
  const auto& rc = pm.at("runtimeConfig").as_object();
  CHECK(rc.size() == 1);  // bandwidth is declared false, so not passed
  CHECK(rc.at("portMappings") == json::parse(R"([{"hostPort":8080,"containerPort":80,"protocol":"tcp"}])"));
  // With runtimeConfig, libcni re-encodes the whole document with sorted keys.
  CHECK_THAT(calls[1].stdin_data,
             Catch::StartsWith(R"({"capabilities":{"bandwidth":false,"portMappings":true},"cniVersion":"1.0.0","name":"net1",)"
                               R"("prevResult":{"cniVersion":"1.0.0","dns":{},"interfaces":)"));
}

TEST_CASE("ADD writes the cache; DEL runs in reverse with the cached result and removes it", "[cni][runtime]") {
  Fixture f;
  auto l = f.list();
  REQUIRE(f.runtime.add(l, f.rt).ok());
  std::string cache_file = f.dir / "results/net1-c1-eth0";
  REQUIRE(std::filesystem::exists(cache_file));
  auto cached = f.runtime.cached(l, f.rt);
  REQUIRE(cached.ok());
  REQUIRE(cached->has_value());
  CHECK((*cached)->config == l.bytes);
  CHECK((*cached)->cni_args == f.rt.args);

  f.exec.clear_calls();
  REQUIRE(f.runtime.del(l, f.rt).ok());
  const auto& calls = f.exec.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].type == "portmap");
  CHECK(calls[1].type == "bridge");
  for (const auto& c : calls) {
    CHECK(c.command == "DEL");
    CHECK(stdin_of(c).at("prevResult") == json::parse(kBridgeResult));
  }
  CHECK_FALSE(std::filesystem::exists(cache_file));
  // A second DEL is fine and carries no prevResult.
  f.exec.clear_calls();
  REQUIRE(f.runtime.del(l, f.rt).ok());
  CHECK_FALSE(stdin_of(f.exec.calls()[0]).contains("prevResult"));
}

TEST_CASE("DEL of a 0.3.1 network carries no prevResult; a failed DEL keeps the cache", "[cni][runtime]") {
  Fixture f;
  auto l = f.list("0.3.1");
  REQUIRE(f.runtime.add(l, f.rt).ok());
  f.exec.clear_calls();
  REQUIRE(f.runtime.del(l, f.rt).ok());
  for (const auto& c : f.exec.calls()) CHECK_FALSE(stdin_of(c).contains("prevResult"));

  auto l1 = f.list();
  REQUIRE(f.runtime.add(l1, f.rt).ok());
  f.exec.add_plugin("bridge", [](const FakeCall&) { return FakeExecutor::fail(11, "busy", "try again"); });
  auto st = f.runtime.del(l1, f.rt);
  REQUIRE_FALSE(st.ok());
  CHECK(std::filesystem::exists(f.dir / "results/net1-c1-eth0"));
}

TEST_CASE("CHECK follows the spec's rules", "[cni][runtime]") {
  Fixture f;
  auto old = f.list("0.3.1");
  auto st = f.runtime.check(old, f.rt);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("does not support the CHECK command"));

  auto l = f.list();
  st = f.runtime.check(l, f.rt);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("no cached result"));

  REQUIRE(f.runtime.add(l, f.rt).ok());
  f.exec.clear_calls();
  REQUIRE(f.runtime.check(l, f.rt).ok());
  REQUIRE(f.exec.calls().size() == 2);
  CHECK(f.exec.calls()[0].command == "CHECK");
  CHECK(f.exec.calls()[0].type == "bridge");
  CHECK(stdin_of(f.exec.calls()[1]).at("prevResult") == json::parse(kBridgeResult));

  f.exec.clear_calls();
  REQUIRE(f.runtime.check(f.list("1.0.0", R"(,"disableCheck":true)"), f.rt).ok());
  CHECK(f.exec.calls().empty());
}

TEST_CASE("a plugin's error JSON is surfaced verbatim", "[cni][runtime]") {
  Fixture f;
  f.exec.add_plugin("portmap", [](const FakeCall& c) {
    return c.command == "ADD" ? FakeExecutor::fail(7, "invalid portMappings", "hostPort 99999 out of range")
                              : FakeExecutor::ok();
  });
  PluginError pe;
  auto r = f.runtime.add(f.list(), f.rt, &pe);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(),
             Catch::Contains(R"(plugin type="portmap" failed (add): invalid portMappings; hostPort 99999 out of range)"));
  CHECK(pe == PluginError{7, "invalid portMappings", "hostPort 99999 out of range"});
}

TEST_CASE("a failed ADD is undone with DEL in reverse and leaves no cache", "[cni][runtime]") {
  Fixture f;
  f.exec.add_plugin("portmap", [](const FakeCall& c) {
    return c.command == "ADD" ? ExecOutput{.exit_code = 2, .stderr_data = "panic: boom"} : FakeExecutor::ok();
  });
  auto r = f.runtime.add(f.list(), f.rt);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains(R"(plugin type="portmap" failed (add): exit status 2; stderr: panic: boom)"));
  const auto& calls = f.exec.calls();
  REQUIRE(calls.size() == 4);
  CHECK((calls[2].type == "portmap" && calls[2].command == "DEL"));
  CHECK((calls[3].type == "bridge" && calls[3].command == "DEL"));
  CHECK(stdin_of(calls[3]).at("prevResult") == json::parse(kBridgeResult));  // what was attached so far
  CHECK_FALSE(std::filesystem::exists(f.dir / "results/net1-c1-eth0"));
}

TEST_CASE("garbage on stdout is an invalid result naming the plugin", "[cni][runtime]") {
  Fixture f;
  f.exec.add_plugin("bridge", [](const FakeCall& c) {
    return c.command == "ADD" ? FakeExecutor::ok("hello, not json") : FakeExecutor::ok();
  });
  PluginError pe;
  auto r = f.runtime.add(f.list(), f.rt, &pe);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains(R"(plugin type="bridge" failed (add): invalid result)"));
  CHECK_THAT(r.error().message(), Catch::Contains("hello, not json"));
  CHECK(pe.code == kDecodeFailure);
  CHECK(f.exec.calls().back().command == "DEL");
}

TEST_CASE("a missing plugin is an error naming the type and the dirs", "[cni][runtime]") {
  Fixture f;
  auto l = parse_network_list(R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"nosuch"}]})");
  REQUIRE(l.ok());
  auto r = f.runtime.add(*l, f.rt);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains(R"(failed to find plugin "nosuch" in path [/opt/cni/bin /usr/lib/cni])"));
}

TEST_CASE("invalid identifiers are refused before any plugin runs", "[cni][runtime]") {
  Fixture f;
  f.rt.container_id = "bad id";
  REQUIRE_FALSE(f.runtime.add(f.list(), f.rt).ok());
  f.rt.container_id = "c1";
  f.rt.ifname = "a/b";
  REQUIRE_FALSE(f.runtime.add(f.list(), f.rt).ok());
  CHECK(f.exec.calls().empty());
}

TEST_CASE("a plugin that speaks only 0.4.0 gets the configuration translated", "[cni][runtime]") {
  Fixture f;
  const std::vector<std::string> speaks = {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0"};
  f.exec.add_plugin("old", [&](const FakeCall& c) {
    if (c.command == "VERSION") return FakeExecutor::ok(R"({"cniVersion":"0.4.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0"]})");
    auto o = stdin_of(c);
    std::string v(o.at("cniVersion").as_string());
    if (std::find(speaks.begin(), speaks.end(), v) == speaks.end()) {
      return FakeExecutor::fail(1, "incompatible CNI versions", "config is \"" + v + "\", plugin supports [...]");
    }
    return passthrough(c);
  });
  auto l = parse_network_list(R"({"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"bridge"},{"type":"old"}]})");
  REQUIRE(l.ok());
  auto r = f.runtime.add(*l, f.rt);
  REQUIRE(r.ok());
  CHECK(r->cni_version == "1.0.0");
  CHECK(r->ips.at(0).address == "10.1.0.5/24");
  auto calls = f.exec.calls();
  REQUIRE(calls.size() == 4);  // bridge ADD, old ADD (refused), old VERSION, old ADD at 0.4.0
  CHECK(calls[2].command == "VERSION");
  auto translated = stdin_of(calls[3]);
  CHECK(translated.at("cniVersion") == "0.4.0");
  const auto& prev = translated.at("prevResult").as_object();
  CHECK(prev.at("cniVersion") == "0.4.0");
  CHECK(prev.at("ips").as_array()[0].as_object().at("version") == "4");  // 0.4.0 shape
  auto cached = f.runtime.cached(*l, f.rt);
  REQUIRE((cached.ok() && cached->has_value()));
  CHECK((*cached)->result->cni_version == "1.0.0");

  // Known now: DEL goes straight to 0.4.0.
  f.exec.clear_calls();
  REQUIRE(f.runtime.del(*l, f.rt).ok());
  REQUIRE(f.exec.calls().size() == 2);
  CHECK(stdin_of(f.exec.calls()[0]).at("cniVersion") == "0.4.0");
  CHECK(stdin_of(f.exec.calls()[1]).at("cniVersion") == "1.0.0");
}

TEST_CASE("no common version is an error listing what the plugin speaks", "[cni][runtime]") {
  Fixture f;
  f.exec.add_plugin("ancient", [](const FakeCall& c) {
    if (c.command == "VERSION") return FakeExecutor::ok(R"({"cniVersion":"0.2.0","supportedVersions":["0.1.0","0.2.0"]})");
    return FakeExecutor::fail(1, "incompatible CNI versions");
  });
  auto l = parse_network_list(R"({"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"ancient"}]})");
  PluginError pe;
  auto r = f.runtime.add(*l, f.rt, &pe);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("plugin supports 0.1.0, 0.2.0; network uses 1.0.0"));
  CHECK(pe.code == kIncompatibleVersion);
}

TEST_CASE("STATUS asks 1.1 plugins and passes their error on", "[cni][runtime]") {
  Fixture f;
  REQUIRE(f.runtime.status(f.list("1.0.0")).ok());
  CHECK(f.exec.calls().empty());  // nothing to ask below 1.1.0
  REQUIRE(f.runtime.status(f.list("1.1.0")).ok());
  // Each plugin is asked VERSION first (older plugins do not know STATUS and fail it their own way).
  REQUIRE(f.exec.calls().size() == 4);
  CHECK(f.exec.calls()[0].command == "VERSION");
  CHECK(f.exec.calls()[1].command == "STATUS");
  CHECK(f.exec.calls()[1].env_value("CNI_CONTAINERID").empty());
  CHECK(stdin_of(f.exec.calls()[1]).at("cniVersion") == "1.1.0");
  f.exec.add_plugin("portmap", [](const FakeCall&) { return FakeExecutor::fail(50, "plugin not available", "no iptables"); });
  PluginError pe;
  auto st = f.runtime.status(f.list("1.1.0"), &pe);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("plugin not available; no iptables"));
  CHECK(pe.code == 50);
}

TEST_CASE("GC deletes cached attachments that are not valid, then sends GC with valid-attachments", "[cni][runtime]") {
  Fixture f;
  auto l = f.list("1.1.0");
  REQUIRE(f.runtime.add(l, f.rt).ok());
  RuntimeConf other = f.rt;
  other.container_id = "c2";
  other.args = {{"K8S_POD_NAME", "other"}};
  REQUIRE(f.runtime.add(l, other).ok());
  f.exec.clear_calls();
  REQUIRE(f.runtime.gc(l, {{"c1", "eth0"}}).ok());
  CHECK(std::filesystem::exists(f.dir / "results/net1-c1-eth0"));
  CHECK_FALSE(std::filesystem::exists(f.dir / "results/net1-c2-eth0"));
  std::vector<FakeCall> calls;
  for (const auto& c : f.exec.calls())
    if (c.command != "VERSION") calls.push_back(c);
  REQUIRE(calls.size() == 4);
  CHECK((calls[0].command == "DEL" && calls[0].type == "portmap"));
  CHECK(calls[0].env_value("CNI_CONTAINERID") == "c2");
  CHECK(calls[0].env_value("CNI_ARGS") == "K8S_POD_NAME=other");  // the attachment's own args
  CHECK(calls[1].command == "DEL");
  CHECK(calls[2].command == "GC");
  CHECK(stdin_of(calls[2]).at("cni.dev/valid-attachments") == json::parse(R"([{"containerID":"c1","ifname":"eth0"}])"));
  CHECK(calls[3].command == "GC");

  f.exec.clear_calls();
  REQUIRE(f.runtime.gc(f.list("1.1.0", R"(,"disableGC":true)"), {}).ok());
  for (const auto& c : f.exec.calls()) CHECK(c.command == "DEL");  // the stale c1 only
}
