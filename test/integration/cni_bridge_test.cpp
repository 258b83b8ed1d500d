// The runtime with the real reference plugins (bridge, host-local, portmap, loopback, tuning) in network
// namespaces the test creates: one as the node ("host"), others as pods. Needs root.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cni/network_config.h"
#include "cni/plugin_error.h"
#include "cni/process_executor.h"
#include "cni/runtime.h"
#include "test/integration/cni_netns.h"
#include "test/unit/cni_test_util.h"

using namespace knode::cni;
using namespace knode::cni::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kSubnet = "10.250.0.0/24";
constexpr const char* kGateway = "10.250.0.1";

struct Node {
  TempDir dir;
  Netns host{"host"};
  ProcessExecutor exec;
  Runtime runtime{exec, {.bin_dirs = {"/usr/lib/cni", dir / "bin"}, .cache_dir = dir / "cache", .plugin_timeout = 1500ms}};

  Node() { fs::create_directories(dir / "bin"); }

  std::string bridge_plugin() const {
    return R"({"type":"bridge","bridge":"kntbr0","isGateway":true,"ipMasq":false,"hairpinMode":true,)"
           R"("ipam":{"type":"host-local","ranges":[[{"subnet":")" + std::string(kSubnet) +
           R"("}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":")" + (dir / "ipam") + R"("}})";
  }
  NetworkConfigList list(const std::string& more_plugins = R"(,{"type":"portmap","capabilities":{"portMappings":true}})",
                         const std::string& version = "1.0.0", const std::string& name = "kntnet") {
    auto l = parse_network_list(R"({"cniVersion":")" + version + R"(","name":")" + name + R"(","plugins":[)" +
                                bridge_plugin() + more_plugins + "]}");
    REQUIRE(l.ok());
    return *l;
  }
  std::vector<std::string> leases(const std::string& network = "kntnet") const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / ("ipam/" + network), ec)) {
      std::string n = e.path().filename().string();
      if (n != "lock" && n.rfind("last_reserved_ip", 0) != 0) out.push_back(n);
    }
    return out;
  }
  void fake_plugin(const std::string& name, const std::string& body) {
    write_file(dir / ("bin/" + name), "#!/bin/sh\n" + body + "\n", true);
  }
};

RuntimeConf pod(const Netns& ns, const std::string& id) {
  return {.container_id = id, .netns = ns.path(), .ifname = "eth0", .args = kubernetes_cni_args("default", id, id, "uid-" + id)};
}

std::string ip_of(const PluginResult& r) {
  REQUIRE_FALSE(r.ips.empty());
  return r.ips[0].address.substr(0, r.ips[0].address.find('/'));
}

bool has_eth0(const Netns& ns) { return ns.exec("ip link show eth0").rc == 0; }

}  // namespace

TEST_CASE("two pods get IPs on the bridge and reach each other; loopback comes up", "[cni][integration]") {
  REQUIRE(is_root());
  Node node;
  Netns p1("p1"), p2("p2");
  auto lo = parse_network_list(R"({"cniVersion":"1.0.0","name":"kntlo","plugins":[{"type":"loopback"}]})");
  REQUIRE(lo.ok());
  EnterNetns in(node.host);
  auto net = node.list();
  for (const Netns* p : {&p1, &p2}) REQUIRE(p->exec("ip link set lo down").rc == 0);
  auto r1 = node.runtime.add(net, pod(p1, "pod1"));
  REQUIRE(r1.ok());
  auto r2 = node.runtime.add(net, pod(p2, "pod2"));
  REQUIRE(r2.ok());
  REQUIRE(node.runtime.add(*lo, pod(p1, "pod1")).ok());
  CHECK(r1->ips[0].gateway == kGateway);
  CHECK(ip_of(*r1) != ip_of(*r2));
  CHECK_THAT(p1.exec("ip -4 addr show eth0").out, Catch::Contains(r1->ips[0].address));
  CHECK_THAT(p1.exec("ip link show lo").out, Catch::Contains("UP"));
  auto ping = p1.exec("busybox ping -c 1 -W 3 " + ip_of(*r2));
  INFO(ping.out);
  CHECK(ping.rc == 0);
  CHECK(node.leases().size() == 2);

  REQUIRE(node.runtime.del(*lo, pod(p1, "pod1")).ok());
  REQUIRE(node.runtime.del(net, pod(p1, "pod1")).ok());
  REQUIRE(node.runtime.del(net, pod(p2, "pod2")).ok());
  CHECK(node.leases().empty());
}

TEST_CASE("a hostPort through portmap answers in the node namespace", "[cni][integration]") {
  REQUIRE(is_root());
  Node node;
  Netns p1("web");
  write_file(node.dir / "www/index.html", "hello from the pod\n");
  auto net = node.list();
  RuntimeConf rt = pod(p1, "web1");
  rt.capability_args["portMappings"] = R"([{"hostPort":18080,"containerPort":8080,"protocol":"tcp"}])";
  {
    EnterNetns in(node.host);
    auto r = node.runtime.add(net, rt);
    REQUIRE(r.ok());
  }
  Background httpd(p1, "busybox httpd -f -p 8080 -h " + (node.dir / "www"));
  ShellResult got;
  for (int i = 0; i < 30; ++i) {  // until httpd listens
    got = node.host.exec(std::string("sh -c \"printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | timeout 3 busybox nc ") +
                         kGateway + " 18080\"");
    if (got.out.find("hello from the pod") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(got.out);
  CHECK_THAT(got.out, Catch::Contains("hello from the pod"));
  CHECK_THAT(node.host.exec("iptables-save -t nat").out, Catch::Contains("--dport 18080"));
  {
    EnterNetns in(node.host);
    REQUIRE(node.runtime.del(net, rt).ok());
  }
  CHECK_THAT(node.host.exec("iptables-save -t nat").out, !Catch::Contains("--dport 18080"));
}

TEST_CASE("DEL releases the lease, the interface and the cache entry", "[cni][integration]") {
  REQUIRE(is_root());
  Node node;
  Netns p1("del");
  EnterNetns in(node.host);
  auto net = node.list();
  auto r = node.runtime.add(net, pod(p1, "c-del"));
  REQUIRE(r.ok());
  CHECK(node.leases() == std::vector<std::string>{ip_of(*r)});
  CHECK(fs::exists(node.dir / "cache/results/kntnet-c-del-eth0"));
  REQUIRE(node.runtime.del(net, pod(p1, "c-del")).ok());
  CHECK(node.leases().empty());
  CHECK_FALSE(has_eth0(p1));
  CHECK_FALSE(fs::exists(node.dir / "cache/results/kntnet-c-del-eth0"));
  CHECK(node.runtime.del(net, pod(p1, "c-del")).ok());  // DEL is idempotent
}

TEST_CASE("CHECK passes on a healthy attachment and detects a deleted interface", "[cni][integration]") {
  REQUIRE(is_root());
  Node node;
  Netns p1("chk");
  EnterNetns in(node.host);
  auto net = node.list();
  REQUIRE(node.runtime.add(net, pod(p1, "c-chk")).ok());
  auto ok = node.runtime.check(net, pod(p1, "c-chk"));
  INFO(ok.message());
  CHECK(ok.ok());
  REQUIRE(p1.exec("ip link del eth0").rc == 0);
  auto bad = node.runtime.check(net, pod(p1, "c-chk"));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.message(), Catch::Contains("plugin type=\"bridge\" failed (check)"));
  CHECK_THAT(bad.message(), Catch::Contains("eth0"));
  REQUIRE(node.runtime.del(net, pod(p1, "c-chk")).ok());
  CHECK(node.leases().empty());
}

TEST_CASE("a plugin that crashes, hangs or prints garbage fails clearly and leaves nothing behind", "[cni][integration]") {
  REQUIRE(is_root());
  struct Case {
    const char* type;
    const char* body;
    const char* want;
  } cases[] = {
      {"knt-crash", "cat >/dev/null; [ \"$CNI_COMMAND\" = ADD ] && kill -SEGV $$; exit 0", "killed by signal 11"},
      {"knt-hang", "cat >/dev/null; [ \"$CNI_COMMAND\" = ADD ] && exec sleep 60; exit 0", "timed out after 1500ms"},
      {"knt-garbage", "cat >/dev/null; [ \"$CNI_COMMAND\" = ADD ] && echo 'this is not json'; exit 0",
       "invalid result: result is not valid JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.type);
    Node node;
    Netns p1("bad");
    node.fake_plugin(c.type, c.body);
    EnterNetns in(node.host);
    auto net = node.list(std::string(R"(,{"type":")") + c.type + "\"}");
    auto start = std::chrono::steady_clock::now();
    auto r = node.runtime.add(net, pod(p1, "c-bad"));
    REQUIRE_FALSE(r.ok());
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    CHECK_THAT(r.error().message(), Catch::Contains(std::string("plugin type=\"") + c.type + "\" failed (add): " + c.want));
    CHECK_FALSE(has_eth0(p1));
    CHECK(node.leases().empty());
    CHECK_FALSE(fs::exists(node.dir / "cache/results/kntnet-c-bad-eth0"));
  }
}

TEST_CASE("CNI versions: a 0.4.0 list works, and a 0.4.0-only plugin in a 1.0.0 list negotiates", "[cni][integration]") {
  REQUIRE(is_root());
  Node node;
  Netns p1("v040"), p2("vneg");
  EnterNetns in(node.host);
  auto v040 = node.list("", "0.4.0", "knt040");
  auto r = node.runtime.add(v040, pod(p1, "c-040"));
  REQUIRE(r.ok());
  CHECK(r->cni_version == "0.4.0");
  auto text = result_to_json(*r, r->cni_version);
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains(R"("version":"4")"));
  CHECK(node.runtime.check(v040, pod(p1, "c-040")).ok());
  REQUIRE(node.runtime.del(v040, pod(p1, "c-040")).ok());
  CHECK(node.leases("knt040").empty());

  // A wrapper around the real tuning plugin that speaks only 0.3.x/0.4.0 and says so with code 1.
  node.fake_plugin("knt-only040", "conf=$(cat)\n"
                   "[ \"$CNI_COMMAND\" = VERSION ] && { echo '{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\"]}'; exit 0; }\n"
                   "v=$(printf '%s' \"$conf\" | sed -n 's/^{.*\"cniVersion\":\"\\([0-9.]*\\)\".*/\\1/p')\n"
                   "echo \"$CNI_COMMAND $v\" >> " + (node.dir / "only040.log") + "\n"
                   "case \"$v\" in 0.3.0|0.3.1|0.4.0) ;; *) echo '{\"code\":1,\"msg\":\"incompatible CNI versions\"}'; exit 1;; esac\n"
                   "printf '%s' \"$conf\" | exec /usr/lib/cni/tuning");
  auto net = node.list(R"(,{"type":"knt-only040"})");
  auto r2 = node.runtime.add(net, pod(p2, "c-neg"));
  INFO((r2.ok() ? std::string() : r2.error().message()));
  REQUIRE(r2.ok());
  CHECK(r2->cni_version == "1.0.0");
  CHECK_THAT(p2.exec("ip -4 addr show eth0").out, Catch::Contains(r2->ips[0].address));
  CHECK(node.runtime.check(net, pod(p2, "c-neg")).ok());
  REQUIRE(node.runtime.del(net, pod(p2, "c-neg")).ok());
  CHECK(read_file(node.dir / "only040.log") == "ADD 1.0.0\nADD 0.4.0\nCHECK 0.4.0\nDEL 0.4.0\n");
  CHECK(node.leases().empty());
}

TEST_CASE("GC releases the lease of an attachment not in valid-attachments", "[cni][integration]") {
  REQUIRE(is_root());
  Node node;
  Netns p1("gc1"), p2("gc2");
  EnterNetns in(node.host);
  auto net = node.list();
  auto r1 = node.runtime.add(net, pod(p1, "c-gone"));
  auto r2 = node.runtime.add(net, pod(p2, "c-live"));
  REQUIRE((r1.ok() && r2.ok()));
  CHECK(node.leases().size() == 2);
  auto st = node.runtime.gc(net, {{"c-live", "eth0"}});
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(node.leases() == std::vector<std::string>{ip_of(*r2)});
  CHECK_FALSE(fs::exists(node.dir / "cache/results/kntnet-c-gone-eth0"));
  CHECK(fs::exists(node.dir / "cache/results/kntnet-c-live-eth0"));
  CHECK_FALSE(has_eth0(p1));
  CHECK(has_eth0(p2));
  REQUIRE(node.runtime.del(net, pod(p2, "c-live")).ok());
}

TEST_CASE("knode-cni invoked like a runtime invokes a plugin returns the real result", "[cni][integration]") {
  REQUIRE(is_root());
  std::string binary = std::string(KNODE_BINARY_DIR) + "/knode-cni";
  REQUIRE(fs::exists(binary));
  Node node;
  Netns p1("plug");
  fs::create_symlink(binary, node.dir / "bin/knode-cni");
  auto inner = node.list();
  write_file(node.dir / "net.d/10-kntnet.conflist", inner.bytes);
  // What containerd sends: the handler's conf with name/cniVersion, runtimeConfig for declared capabilities.
  std::string outer = R"({"cniVersion":"1.0.0","name":"knode","type":"knode-cni","capabilities":{"portMappings":true},)"
                      R"("confDir":")" + (node.dir / "net.d") + R"(","binDir":"/usr/lib/cni","cacheDir":")" +
                      (node.dir / "cache") + R"(","runtimeConfig":{"portMappings":[{"hostPort":18081,"containerPort":80,"protocol":"tcp"}]}})";
  std::vector<std::string> env = {"CNI_COMMAND=ADD", "CNI_CONTAINERID=sandbox1", "CNI_NETNS=" + p1.path(),
                                  "CNI_IFNAME=eth0",
                                  "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sandbox1",
                                  "CNI_PATH=" + (node.dir / "bin")};
  EnterNetns in(node.host);
  auto out = node.exec.run({.path = node.dir / "bin/knode-cni", .env = env, .stdin_data = outer, .timeout = 20s});
  REQUIRE(out.ok());
  INFO(out->stdout_data + out->stderr_data);
  REQUIRE(out->exit_code == 0);
  auto r = parse_result(out->stdout_data);
  REQUIRE(r.ok());
  CHECK(r->cni_version == "1.0.0");
  CHECK_THAT(r->ips.at(0).address, Catch::StartsWith("10.250.0."));
  CHECK_THAT(p1.exec("ip -4 addr show eth0").out, Catch::Contains(r->ips[0].address));
  CHECK_THAT(node.host.exec("iptables-save -t nat").out, Catch::Contains("--dport 18081"));
  CHECK(fs::exists(node.dir / "cache/results/kntnet-sandbox1-eth0"));

  env[0] = "CNI_COMMAND=CHECK";
  std::string with_prev = outer.substr(0, outer.size() - 1) + R"(,"prevResult":)" + out->stdout_data + "}";
  auto chk = node.exec.run({.path = node.dir / "bin/knode-cni", .env = env, .stdin_data = with_prev, .timeout = 20s});
  REQUIRE(chk.ok());
  INFO(chk->stdout_data + chk->stderr_data);
  if (chk->exit_code != 0) {
    // Debian's portmap 1.1.1 fails CHECK of IPv4-only mappings when ip6tables is usable ("could not
    // check ipv6 dnat"): then its error must come back exactly as portmap printed it.
    auto e = parse_plugin_error(chk->stdout_data);
    REQUIRE(e.has_value());
    CHECK_THAT(e->msg, Catch::StartsWith("could not check ipv6 dnat"));
  }

  env[0] = "CNI_COMMAND=DEL";
  auto del = node.exec.run({.path = node.dir / "bin/knode-cni", .env = env, .stdin_data = with_prev, .timeout = 20s});
  REQUIRE(del.ok());
  CHECK(del->exit_code == 0);
  CHECK(node.leases().empty());
  CHECK_FALSE(has_eth0(p1));
  CHECK_THAT(node.host.exec("iptables-save -t nat").out, !Catch::Contains("--dport 18081"));
}

TEST_CASE("knode cni add/check/del works as an operator's cnitool", "[cni][integration]") {
  REQUIRE(is_root());
  std::string knode = std::string(KNODE_BINARY_DIR) + "/knode";
  if (!fs::exists(knode)) {
    WARN("knode binary not built; skipping the command test");
    return;
  }
  Node node;
  Netns p1("cli");
  write_file(node.dir / "net.d/10-kntnet.conflist", node.list().bytes);
  std::string common = " --conf-dir " + (node.dir / "net.d") + " --bin-dir /usr/lib/cni --cache-dir " +
                       (node.dir / "cache") + " --netns " + p1.path() + " --container-id cli1";
  auto add = node.host.exec(knode + " cni add" + common + " --args 'IgnoreUnknown=1;K8S_POD_NAME=x'" +
                            R"( --cap-args '{"portMappings":[{"hostPort":18082,"containerPort":80,"protocol":"tcp"}]}')");
  INFO(add.out);
  REQUIRE(add.rc == 0);
  auto r = parse_result(add.out);
  REQUIRE(r.ok());
  CHECK_THAT(add.out, Catch::Contains("    \"cniVersion\": \"1.0.0\""));  // pretty-printed like cnitool
  CHECK(node.host.exec(knode + " cni check" + common).rc == 0);
  CHECK(node.host.exec(knode + " cni status" + common).rc == 0);
  CHECK(node.host.exec(knode + " cni del" + common).rc == 0);
  CHECK(node.leases().empty());
  auto bad = node.host.exec(knode + " cni add --conf-dir " + (node.dir / "none") + " --netns x --container-id y");
  CHECK(bad.rc == 1);
  CHECK_THAT(bad.out, Catch::Contains("does not exist"));
}
