#include <catch2/catch.hpp>

#include "agent/proxy/node_settings.h"
#include "agent/proxy/service_health.h"

using namespace knode;
using namespace knode::proxy;

namespace {
NodeSettingsConfig with_addresses(std::vector<std::string> a) {
  NodeSettingsConfig c;
  c.node_port_addresses = std::move(a);
  c.bind_address = "192.168.1.5";  // the node IP without a Node object
  return c;
}
const std::vector<std::string> kLocal = {"127.0.0.1", "192.168.1.5", "10.0.0.7", "fd00::5"};
}  // namespace

TEST_CASE("nodePortAddresses select the node's addresses", "[proxy][node]") {
  auto unset = build_node_settings(with_addresses({}), nullptr, kLocal);
  REQUIRE(unset.ok());
  CHECK(unset->nodeport_all_local);
  CHECK_FALSE(health_check_ips(*unset).has_value());

  auto cidrs = build_node_settings(with_addresses({"192.168.0.0/16", "10.0.0.0/8", "fd00::/64"}), nullptr, kLocal);
  REQUIRE(cidrs.ok());
  CHECK_FALSE(cidrs->nodeport_all_local);
  CHECK(cidrs->nodeport_ips == std::vector<std::string>{"192.168.1.5", "10.0.0.7"});
  CHECK_FALSE(cidrs->localhost_nodeports);  // no loopback among them
  CHECK(health_check_ips(*cidrs) ==
        std::optional<std::vector<std::string>>({"192.168.1.5", "10.0.0.7"}));

  auto primary = build_node_settings(with_addresses({"primary"}), nullptr, kLocal);
  REQUIRE(primary.ok());
  CHECK(primary->nodeport_ips == std::vector<std::string>{"192.168.1.5"});

  // A catch-all CIDR means every local address, now and later, as unset does.
  auto all = build_node_settings(with_addresses({"10.0.0.0/8", "0.0.0.0/0"}), nullptr, kLocal);
  REQUIRE(all.ok());
  CHECK(all->nodeport_all_local);
  CHECK(all->localhost_nodeports);
  CHECK_FALSE(health_check_ips(*all).has_value());

  auto none = build_node_settings(with_addresses({"172.31.0.0/16"}), nullptr, kLocal);
  REQUIRE(none.ok());
  CHECK_FALSE(none->nodeport_all_local);
  CHECK(none->nodeport_ips.empty());
  CHECK(health_check_ips(*none) == std::optional<std::vector<std::string>>(std::vector<std::string>{}));
}

TEST_CASE("nodePortAddresses primary needs a node IP", "[proxy][node]") {
  NodeSettingsConfig c;
  c.node_port_addresses = {"primary"};
  auto r = build_node_settings(c, nullptr, kLocal);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("nodePortAddresses primary") != std::string::npos);
}
