// Network configuration loading: precedence, .conf wrapping, version choice, errors naming file and field.
#include <catch2/catch.hpp>

#include "cni/network_config.h"
#include "cni_test_util.h"

using namespace knode::cni;
using knode::cni::testing::TempDir;
using knode::cni::testing::write_file;

namespace {
const char* kBridgeList = R"({"cniVersion":"1.0.0","name":"alpha","plugins":[{"type":"bridge","ipam":{"type":"host-local"}},{"type":"portmap","capabilities":{"portMappings":true}}]})";
}

TEST_CASE("a conflist parses into its plugins with sorted plugin bytes", "[cni][config]") {
  auto l = parse_network_list(R"({"cniVersion":"1.0.0","name":"n","disableCheck":true,"plugins":[{"type":"bridge","z":1,"a":{"y":2,"b":3}}]})");
  REQUIRE(l.ok());
  CHECK(l->name == "n");
  CHECK(l->cni_version == "1.0.0");
  CHECK(l->disable_check);
  REQUIRE(l->plugins.size() == 1);
  CHECK(l->plugins[0].type == "bridge");
  CHECK(l->plugins[0].bytes == R"({"a":{"b":3,"y":2},"type":"bridge","z":1})");
}

TEST_CASE("capabilities are read per plugin", "[cni][config]") {
  auto l = parse_network_list(kBridgeList);
  REQUIRE(l.ok());
  CHECK(l->plugins[0].capabilities.empty());
  CHECK(l->plugins[1].capabilities.at("portMappings"));
}

TEST_CASE("errors name the source and the field", "[cni][config]") {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {R"({"cniVersion":"1.0.0","plugins":[{"type":"x"}]})", "f.conflist: name: missing"},
      {R"({"cniVersion":"1.0.0","name":"a b","plugins":[{"type":"x"}]})", "f.conflist: name: invalid network name"},
      {R"({"name":"n","plugins":[{"type":"x"}]})", "f.conflist: cniVersion: missing"},
      {R"({"cniVersion":"0.2.0","name":"n","plugins":[{"type":"x"}]})", "f.conflist: cniVersion: no version knode supports"},
      {R"({"cniVersion":"1.0.0","name":"n"})", "f.conflist: plugins: missing"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[]})", "f.conflist: plugins: empty"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"a"},{"bridge":"x"}]})", "f.conflist: plugins[1].type: missing"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"a","capabilities":{"portMappings":"yes"}}]})",
       "f.conflist: plugins[0].capabilities.portMappings: not a boolean"},
      {R"({"cniVersion":"1.0.0","name":"n","disableCheck":"maybe","plugins":[{"type":"a"}]})", "f.conflist: disableCheck"},
      {R"({"cniVersion":"1.0.0",)", "f.conflist: invalid JSON"},
  };
  for (const auto& c : cases) {
    auto l = parse_network_list(c.text, "f.conflist");
    INFO(c.text);
    REQUIRE_FALSE(l.ok());
    CHECK_THAT(l.error().message(), Catch::StartsWith(c.want));
  }
}

TEST_CASE("cniVersions picks the highest version knode speaks", "[cni][config]") {
  auto l = parse_network_list(R"({"cniVersion":"0.4.0","cniVersions":["1.0.0","1.1.0","2.0.0"],"name":"n","plugins":[{"type":"x"}]})");
  REQUIRE(l.ok());
  CHECK(l->cni_version == "1.1.0");
  CHECK(l->declared_versions.size() == 4);
}

TEST_CASE("a .conf is wrapped into a one-plugin list with libcni's bytes", "[cni][config]") {
  auto l = parse_single_conf(R"({"type":"bridge","name":"one","cniVersion":"0.4.0","ipam":{"type":"host-local"}})", "x.conf");
  REQUIRE(l.ok());
  CHECK(l->name == "one");
  CHECK(l->cni_version == "0.4.0");
  REQUIRE(l->plugins.size() == 1);
  CHECK(l->bytes ==
        R"({"cniVersion":"0.4.0","name":"one","plugins":[{"cniVersion":"0.4.0","ipam":{"type":"host-local"},"name":"one","type":"bridge"}]})");
  auto bad = parse_single_conf(R"({"name":"one","cniVersion":"0.4.0"})", "x.conf");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "x.conf: type: missing");
  auto list_in_conf = parse_single_conf(kBridgeList, "y.conf");
  REQUIRE_FALSE(list_in_conf.ok());
  CHECK_THAT(list_in_conf.error().message(), Catch::Contains("belongs in a .conflist"));
}

TEST_CASE("the conf dir is read in lexical order, first valid wins, invalid ones are reported", "[cni][config]") {
  TempDir d;
  write_file(d / "00-broken.conflist", R"({"cniVersion":"1.0.0","name":"broken","plugins":[{"bridge":"x"}]})");
  write_file(d / "10-beta.conf", R"({"cniVersion":"1.0.0","name":"beta","type":"ptp"})");
  write_file(d / "20-alpha.conflist", kBridgeList);
  write_file(d / "05-ignored.txt", "not a conf");
  auto n = load_network(d.path());
  REQUIRE(n.ok());
  CHECK(n->list.name == "beta");
  CHECK(n->list.source == d / "10-beta.conf");
  REQUIRE(n->skipped.size() == 1);
  CHECK_THAT(n->skipped[0], Catch::StartsWith(d / "00-broken.conflist: plugins[0].type: missing"));

  auto by_name = load_network(d.path(), "alpha");
  REQUIRE(by_name.ok());
  CHECK(by_name->list.name == "alpha");
  CHECK(by_name->list.bytes == kBridgeList);  // cached verbatim

  auto missing = load_network(d.path(), "gamma");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message(), Catch::Contains("named \"gamma\""));
  CHECK_THAT(missing.error().message(), Catch::Contains("00-broken.conflist"));
}

TEST_CASE("an empty or missing conf dir is an error naming it", "[cni][config]") {
  TempDir d;
  auto n = load_network(d.path());
  REQUIRE_FALSE(n.ok());
  CHECK_THAT(n.error().message(), Catch::Contains(d.path()));
  auto m = load_network(d / "nope");
  REQUIRE_FALSE(m.ok());
  CHECK_THAT(m.error().message(), Catch::Contains("does not exist"));
}

TEST_CASE("drop-in plugin files are appended unless loadOnlyInlinedPlugins", "[cni][config]") {
  TempDir d;
  write_file(d / "10-alpha.conflist", kBridgeList);
  write_file(d / "alpha/50-tuning.conf", R"({"type":"tuning"})");
  auto n = load_network_file(d / "10-alpha.conflist");
  REQUIRE(n.ok());
  REQUIRE(n->plugins.size() == 3);
  CHECK(n->plugins[2].type == "tuning");
  write_file(d / "10-alpha.conflist",
             R"({"cniVersion":"1.0.0","name":"alpha","loadOnlyInlinedPlugins":true,"plugins":[{"type":"bridge"}]})");
  auto only = load_network_file(d / "10-alpha.conflist");
  REQUIRE(only.ok());
  CHECK(only->plugins.size() == 1);
}

TEST_CASE("identifiers follow libcni's rules", "[cni][config]") {
  CHECK(validate_container_id("abc-1_2.3").ok());
  CHECK_FALSE(validate_container_id("-abc").ok());
  CHECK_FALSE(validate_container_id("").ok());
  CHECK(validate_interface_name("eth0").ok());
  CHECK_FALSE(validate_interface_name("a-very-long-name0").ok());
  CHECK_FALSE(validate_interface_name("e:1").ok());
  CHECK_FALSE(validate_interface_name("..").ok());
}
