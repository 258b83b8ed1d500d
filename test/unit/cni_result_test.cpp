// Results: one model for 0.3.x/0.4.0/1.0.0/1.1.0, conversion between versions, Go-exact JSON.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "cni/go_json.h"
#include "cni/plugin_result.h"
#include "cni/version.h"

using namespace knode::cni;

namespace {
const char* kResult040 = R"({
  "cniVersion": "0.4.0",
  "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:01"}, {"name": "eth0", "mac": "aa:bb:cc:dd:ee:02", "sandbox": "/var/run/netns/x"}],
  "ips": [{"version": "4", "interface": 1, "address": "10.1.0.5/24", "gateway": "10.1.0.1"},
          {"version": "6", "interface": 1, "address": "fd00:0:0:0::5/64"}],
  "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1"}],
  "dns": {"nameservers": ["10.96.0.10"], "search": ["svc.cluster.local"]}
})";
}

TEST_CASE("versions parse and order", "[cni][version]") {
  CHECK(version_at_least("1.0.0", "0.4.0"));
  CHECK(version_at_least("0.4.0", "0.4.0"));
  CHECK_FALSE(version_at_least("0.3.1", "0.4.0"));
  CHECK(version_at_least("1.1", "1.0.9"));
  CHECK_FALSE(parse_version("1.x").has_value());
  CHECK_FALSE(parse_version("").has_value());
  CHECK(result_version_supported("0.3.1"));
  CHECK_FALSE(result_version_supported("0.2.0"));
}

TEST_CASE("a 0.4.0 result reads into the model", "[cni][result]") {
  auto r = parse_result(kResult040);
  REQUIRE(r.ok());
  CHECK(r->cni_version == "0.4.0");
  REQUIRE(r->interfaces.size() == 2);
  CHECK(r->interfaces[1].sandbox == "/var/run/netns/x");
  REQUIRE(r->ips.size() == 2);
  CHECK(r->ips[0].interface == 1);
  CHECK(r->ips[1].address == "fd00::5/64");  // canonical, as Go prints net.IPNet
  CHECK(r->routes[0].gw == "10.1.0.1");
  CHECK(r->dns.nameservers == std::vector<std::string>{"10.96.0.10"});
}

TEST_CASE("results convert between versions", "[cni][result]") {
  auto r = parse_result(kResult040);
  REQUIRE(r.ok());
  auto v1 = result_to_json(*r, "1.0.0");
  REQUIRE(v1.ok());
  CHECK(*v1 ==
        R"({"cniVersion":"1.0.0","interfaces":[{"name":"cni0","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/var/run/netns/x"}],)"
        R"("ips":[{"interface":1,"address":"10.1.0.5/24","gateway":"10.1.0.1"},{"interface":1,"address":"fd00::5/64"}],)"
        R"("routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{"nameservers":["10.96.0.10"],"search":["svc.cluster.local"]}})");
  auto back = parse_result(*v1);
  REQUIRE(back.ok());
  auto v031 = result_to_json(*back, "0.3.1");
  REQUIRE(v031.ok());
  CHECK_THAT(*v031, Catch::Contains(R"({"version":"4","interface":1,"address":"10.1.0.5/24","gateway":"10.1.0.1"})"));
  CHECK_THAT(*v031, Catch::Contains(R"({"version":"6","interface":1,"address":"fd00::5/64"})"));
  CHECK_THAT(*v031, Catch::StartsWith(R"({"cniVersion":"0.3.1",)"));
  // Round trip through every version keeps the model.
  for (const auto& v : supported_versions()) {
    auto text = result_to_json(*r, v);
    REQUIRE(text.ok());
    auto again = parse_result(*text);
    REQUIRE(again.ok());
    again->cni_version = r->cni_version;
    CHECK(*again == *r);
  }
}

TEST_CASE("1.1.0 fields are kept in 1.1.0 and dropped below", "[cni][result]") {
  auto r = parse_result(R"({"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1400,"socketPath":"/s","pciID":"0000:00:01.0"}],
    "routes":[{"dst":"10.0.0.0/8","mtu":1300,"advmss":1260,"priority":5,"table":100,"scope":0}]})");
  REQUIRE(r.ok());
  CHECK(r->interfaces[0].mtu == 1400);
  CHECK(r->routes[0].table == 100);
  CHECK(r->routes[0].scope == 0);
  auto v11 = result_to_json(*r, "1.1.0");
  REQUIRE(v11.ok());
  CHECK(*v11 == R"({"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1400,"socketPath":"/s","pciID":"0000:00:01.0"}],)"
                R"("routes":[{"dst":"10.0.0.0/8","mtu":1300,"advmss":1260,"priority":5,"table":100,"scope":0}],"dns":{}})");
  auto v10 = result_to_json(*r, "1.0.0");
  REQUIRE(v10.ok());
  CHECK(*v10 == R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"routes":[{"dst":"10.0.0.0/8"}],"dns":{}})");
}

TEST_CASE("bad results are errors naming the field", "[cni][result]") {
  CHECK_THAT(parse_result("garbage").error().message(), Catch::Contains("not valid JSON"));
  CHECK_THAT(parse_result(R"({"ips":[]})").error().message(), Catch::Contains("no cniVersion"));
  CHECK_THAT(parse_result(R"({"cniVersion":"0.2.0","ip4":{}})").error().message(), Catch::Contains("0.2.0"));
  CHECK_THAT(parse_result(R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.300/24"}]})").error().message(),
             Catch::Contains("ips[0].address"));
  CHECK_THAT(parse_result(R"({"cniVersion":"1.0.0","routes":[{"dst":"x"}]})").error().message(),
             Catch::Contains("routes[0].dst"));
  CHECK_THAT(result_to_json(PluginResult{}, "0.2.0").error().message(), Catch::Contains("0.2.0"));
}

TEST_CASE("go_marshal writes what Go's encoding/json writes", "[cni][json]") {
  auto v = boost::json::parse(R"({"b":"<a&b>\u2028\n\u0001","a":[1.5,1e21,1e-7,0.000001,100,-3],"c":{},"d":[],"e":null,"f":true})");
  CHECK(go_marshal(v) ==
        R"({"b":"\u003ca\u0026b\u003e\u2028\n\u0001","a":[1.5,1e+21,1e-7,0.000001,100,-3],"c":{},"d":[],"e":null,"f":true})");
  sort_keys(v);
  CHECK(go_marshal(v) ==
        R"({"a":[1.5,1e+21,1e-7,0.000001,100,-3],"b":"\u003ca\u0026b\u003e\u2028\n\u0001","c":{},"d":[],"e":null,"f":true})");
  auto small = boost::json::parse(R"({"k":[1,{"x":"y"}],"e":{}})");
  CHECK(go_marshal(small, "    ") == "{\n    \"k\": [\n        1,\n        {\n            \"x\": \"y\"\n        }\n    ],\n    \"e\": {}\n}");
}
