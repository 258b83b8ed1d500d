#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "config/proxy_config.h"

using namespace knode::config;

namespace {
std::string fixture(const std::string& rel) { return std::string(KNODE_SOURCE_DIR) + "/test/fixtures/" + rel; }
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
const std::string kHead = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

KubeProxyConfiguration decode_ok(const std::string& body) {
  auto r = decode_proxy_config(kHead + body, "config.conf");
  INFO((r ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  return r->config;
}
std::string decode_err(const std::string& text) {
  auto r = decode_proxy_config(text, "config.conf");
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}
std::string validate_err(const std::string& body) {
  auto c = decode_ok(body);
  auto st = validate_proxy_config(c, "config.conf");
  REQUIRE_FALSE(st.ok());
  return st.message();
}
}  // namespace

TEST_CASE("proxy config: kubeadm's config.conf defaults exactly as upstream", "[proxy_config]") {
  auto r = load_proxy_config_file(fixture("proxy/config.conf"));
  REQUIRE(r.ok());
  CHECK(r->warnings.empty());
  const KubeProxyConfiguration& c = r->config;
  CHECK(c.bind_address == "0.0.0.0");
  CHECK(c.healthz_bind_address == "0.0.0.0:10256");
  CHECK(c.metrics_bind_address == "127.0.0.1:10249");
  CHECK(c.client_connection.kubeconfig == "/var/lib/kube-proxy/kubeconfig.conf");
  CHECK(c.client_connection.content_type == "application/vnd.kubernetes.protobuf");
  CHECK(c.client_connection.accept_content_types.empty());
  CHECK(c.client_connection.qps.v == 5.0f);
  CHECK(c.client_connection.burst == 10);
  CHECK(c.cluster_cidr == "10.244.0.0/16");
  CHECK(c.config_sync_period == Duration::minutes(15));
  CHECK(c.conntrack.max_per_core == 32768);
  CHECK(c.conntrack.min == 131072);
  CHECK(c.conntrack.tcp_established_timeout == Duration::hours(24));
  CHECK(c.conntrack.tcp_close_wait_timeout == Duration::hours(1));
  CHECK_FALSE(c.conntrack.tcp_be_liberal);
  CHECK(c.conntrack.udp_timeout.is_zero());
  CHECK(c.conntrack.udp_stream_timeout.is_zero());
  CHECK(c.iptables.masquerade_bit == 14);
  CHECK(c.iptables.localhost_node_ports == true);
  CHECK_FALSE(c.iptables.masquerade_all);
  CHECK(c.iptables.sync_period == Duration::seconds(30));
  CHECK(c.iptables.min_sync_period == Duration::seconds(1));
  CHECK(c.ipvs.sync_period == Duration::seconds(30));
  CHECK(c.ipvs.min_sync_period.is_zero());
  CHECK(c.ipvs.scheduler.empty());
  CHECK(c.ipvs.exclude_cidrs.empty());
  CHECK(c.nftables.masquerade_bit == 14);
  CHECK(c.nftables.sync_period == Duration::seconds(30));
  CHECK(c.nftables.min_sync_period == Duration::seconds(1));
  CHECK(c.oom_score_adj == -999);
  CHECK(c.mode.empty());  // "" until the platform default at use time
  CHECK(c.detect_local_mode.empty());
  CHECK(c.node_port_addresses.empty());
  CHECK(c.feature_gates.empty());
  CHECK(c.logging.format == "text");
  CHECK(c.logging.flush_frequency.duration == Duration::seconds(5));
  CHECK(c.logging.verbosity == 0);
  CHECK(c.port_range.empty());
  CHECK(validate_proxy_config(c, "config.conf").ok());
  // The accessors resolve the mode's section as upstream's internal configuration does.
  CHECK(c.sync_period() == Duration::seconds(30));
  CHECK(c.min_sync_period() == Duration::seconds(1));
  CHECK(c.masquerade_bit() == 14);
}

TEST_CASE("proxy config: effective YAML equals upstream's defaulted v1alpha1 output", "[proxy_config]") {
  auto r = load_proxy_config_file(fixture("proxy/config.conf"));
  REQUIRE(r.ok());
  CHECK(encode_proxy_config(r->config) == slurp(fixture("proxy/config.conf.defaulted.yaml")));
}

TEST_CASE("proxy config: an empty document defaults like upstream", "[proxy_config]") {
  auto c = decode_ok("");
  auto from_file = load_proxy_config_file(fixture("proxy/config.conf"));
  REQUIRE(from_file.ok());
  from_file->config.client_connection.kubeconfig.clear();
  from_file->config.cluster_cidr.clear();
  CHECK(encode_proxy_config(c) == encode_proxy_config(from_file->config));
}

TEST_CASE("proxy config: bind addresses pick their family from bindAddress and get ports", "[proxy_config]") {
  auto c = decode_ok("bindAddress: \"::\"\n");
  CHECK(c.healthz_bind_address == "[::]:10256");
  CHECK(c.metrics_bind_address == "[::1]:10249");
  c = decode_ok("healthzBindAddress: 10.0.0.1\nmetricsBindAddress: \"fd00::1\"\n");
  CHECK(c.healthz_bind_address == "10.0.0.1:10256");
  CHECK(c.metrics_bind_address == "[fd00::1]:10249");
  c = decode_ok("healthzBindAddress: 10.0.0.1:1234\nmetricsBindAddress: 0.0.0.0:9999\n");
  CHECK(c.healthz_bind_address == "10.0.0.1:1234");
  CHECK(c.metrics_bind_address == "0.0.0.0:9999");
  CHECK(append_port_if_needed("not-an-ip", 1) == "not-an-ip");
}

TEST_CASE("proxy config: explicit values are kept, zero pointers are not defaulted", "[proxy_config]") {
  auto c = decode_ok(
      "mode: nftables\n"
      "oomScoreAdj: 0\n"
      "conntrack:\n  maxPerCore: 0\n  min: 0\n  tcpEstablishedTimeout: 0s\n"
      "iptables:\n  masqueradeBit: 0\n  localhostNodePorts: false\n  syncPeriod: 1m\n"
      "nftables:\n  masqueradeAll: true\n  syncPeriod: 10s\n  minSyncPeriod: 2s\n"
      "clientConnection:\n  qps: 0.5\n  burst: 100\n"
      "featureGates:\n  Foo: true\n"
      "logging:\n  flushFrequency: 1000000000\n  verbosity: 4\n  vmodule:\n  - filePattern: proxier*\n    verbosity: 6\n");
  CHECK(c.oom_score_adj == 0);
  CHECK(c.conntrack.max_per_core == 0);
  CHECK(c.conntrack.min == 0);
  CHECK(c.conntrack.tcp_established_timeout == Duration{});
  CHECK(c.iptables.masquerade_bit == 0);
  CHECK(c.iptables.localhost_node_ports == false);
  CHECK(c.iptables.sync_period == Duration::minutes(1));
  CHECK(c.sync_period() == Duration::seconds(10));
  CHECK(c.min_sync_period() == Duration::seconds(2));
  CHECK(c.masquerade_all());
  CHECK(c.client_connection.qps.v == 0.5f);
  CHECK(c.client_connection.burst == 100);
  CHECK(c.feature_gates.at("Foo"));
  CHECK(c.logging.verbosity == 4);
  CHECK(c.logging.flush_frequency.duration == Duration::seconds(1));
  REQUIRE(c.logging.vmodule.size() == 1);
  CHECK(c.logging.vmodule[0].file_pattern == "proxier*");
  std::string y = encode_proxy_config(c);
  CHECK(y.find("  flushFrequency: 1000000000\n") != std::string::npos);
  CHECK(y.find("  qps: 0.5\n") != std::string::npos);
  CHECK(y.find("featureGates:\n  Foo: true\n") != std::string::npos);
  CHECK(y.find("oomScoreAdj: 0\n") != std::string::npos);
  CHECK(y.find("  vmodule:\n  - filePattern: proxier*\n    verbosity: 6\n") != std::string::npos);
}

TEST_CASE("proxy config: JSON documents decode too", "[proxy_config]") {
  auto r = decode_proxy_config(
      R"({"apiVersion":"kubeproxy.config.k8s.io/v1alpha1","kind":"KubeProxyConfiguration","mode":"ipvs",)"
      R"("ipvs":{"scheduler":"lc","excludeCIDRs":["10.0.0.0/8"]}})",
      "c.json");
  REQUIRE(r.ok());
  CHECK(r->config.mode == "ipvs");
  CHECK(r->config.ipvs.scheduler == "lc");
  CHECK(r->config.ipvs.exclude_cidrs == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(validate_proxy_config(r->config, "c.json").ok());
}

TEST_CASE("proxy config: unknown and duplicate fields decode leniently with a warning", "[proxy_config]") {
  auto r = decode_proxy_config(kHead + "mode: ipvs\nudpIdleTimeout: 250ms\niptables:\n  bogus: 1\nmode: iptables\n",
                               "config.conf");
  REQUIRE(r.ok());
  CHECK(r->config.mode == "iptables");
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0] ==
        "config.conf: using lenient decoding as strict decoding failed: unknown field \"iptables.bogus\", "
        "unknown field \"udpIdleTimeout\", duplicate field \"mode\"");
}

TEST_CASE("proxy config: wrong apiVersion or kind and malformed values are errors", "[proxy_config]") {
  CHECK(decode_err("apiVersion: kubeproxy.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n") ==
        "config.conf: apiVersion: unsupported apiVersion \"kubeproxy.config.k8s.io/v1beta1\", want "
        "\"kubeproxy.config.k8s.io/v1alpha1\"");
  CHECK(decode_err("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n") ==
        "config.conf: kind: unsupported kind \"KubeletConfiguration\", want \"KubeProxyConfiguration\"");
  CHECK(decode_err(kHead + "iptables:\n  syncPeriod: 30x\n") == "config.conf: iptables.syncPeriod: invalid duration \"30x\"");
  CHECK(decode_err(kHead + "conntrack:\n  maxPerCore: lots\n") == "config.conf: conntrack.maxPerCore: invalid integer \"lots\"");
  CHECK(decode_err(kHead + "iptables:\n  masqueradeBit: 99999999999\n") ==
        "config.conf: iptables.masqueradeBit: integer out of range \"99999999999\"");
  CHECK(decode_err(kHead + "masqueradeAll: maybe\niptables:\n  masqueradeAll: maybe\n") ==
        "config.conf: iptables.masqueradeAll: invalid boolean \"maybe\"");
  CHECK(decode_err(kHead + "nodePortAddresses: 10.0.0.0/8\n").rfind("config.conf: nodePortAddresses: expected a list", 0) == 0);
  CHECK(decode_err(kHead + "mode: [a\n").rfind("config.conf: invalid YAML", 0) == 0);
}

TEST_CASE("proxy config: validation errors name field and value", "[proxy_config]") {
  CHECK(validate_err("mode: userspace\n") ==
        "config.conf: mode: Invalid value: \"userspace\": must be iptables,ipvs,nftables or blank (blank means the "
        "best-available proxy [currently iptables])");
  CHECK(validate_err("iptables:\n  masqueradeBit: 32\n") ==
        "config.conf: iptables.masqueradeBit: Invalid value: 32: must be within the range [0, 31]");
  CHECK(validate_err("iptables:\n  syncPeriod: 1s\n  minSyncPeriod: 2s\n") ==
        "config.conf: iptables.syncPeriod: Invalid value: \"1s\": must be greater than or equal to "
        "iptables.minSyncPeriod (2s)");
  CHECK(validate_err("mode: nftables\nnftables:\n  syncPeriod: -1s\n") ==
        "config.conf: nftables.syncPeriod: Invalid value: \"-1s\": must be greater than 0; nftables.syncPeriod: Invalid "
        "value: \"-1s\": must be greater than or equal to nftables.minSyncPeriod (1s)");
  CHECK(validate_err("clusterCIDR: 10.244.0.0/33\n") ==
        "config.conf: clusterCIDR: Invalid value: \"10.244.0.0/33\": must be a valid CIDR block (e.g. 10.100.0.0/16 or "
        "fde4:8dba:82e1::/48)");
  CHECK(validate_err("clusterCIDR: 10.244.0.0/16,10.245.0.0/16\n") ==
        "config.conf: clusterCIDR: Invalid value: \"10.244.0.0/16,10.245.0.0/16\": must be a valid DualStack CIDR (e.g. "
        "10.100.0.0/16,fde4:8dba:82e1::/48)");
  CHECK(validate_err("bindAddress: 1.2.3\n") ==
        "config.conf: bindAddress: Invalid value: \"1.2.3\": not a valid textual representation of an IP address");
  CHECK(validate_err("nodePortAddresses: [primary, 10.0.0.0/8]\n") ==
        "config.conf: nodePortAddresses[0]: Invalid value: \"primary\": can't use both 'primary' and CIDRs");
  CHECK(validate_err("nodePortAddresses: [10.0.0.0/8, bogus]\n") ==
        "config.conf: nodePortAddresses[1]: Invalid value: \"bogus\": must be a valid CIDR");
  CHECK(validate_err("detectLocalMode: Magic\n") ==
        "config.conf: detectLocalMode: Unsupported value: \"Magic\": supported values: \"ClusterCIDR\", \"NodeCIDR\", "
        "\"BridgeInterface\", \"InterfaceNamePrefix\", \"\"");
  CHECK(validate_err("detectLocalMode: BridgeInterface\n") ==
        "config.conf: detectLocal.bridgeInterface: Invalid value: \"\": must not be empty");
  CHECK(validate_err("detectLocalMode: InterfaceNamePrefix\n") ==
        "config.conf: detectLocal.interfaceNamePrefix: Invalid value: \"\": must not be empty");
  CHECK(validate_err("conntrack:\n  maxPerCore: -1\n  udpTimeout: -5s\n") ==
        "config.conf: conntrack.maxPerCore: Invalid value: -1: must be greater than or equal to 0; conntrack.udpTimeout: "
        "Invalid value: \"-5s\": must be greater than or equal to 0");
  CHECK(validate_err("oomScoreAdj: 1001\n") == "config.conf: oomScoreAdj: Invalid value: 1001: must be within the range [-1000, 1000]");
  CHECK(validate_err("healthzBindAddress: 1.2.3.4:0\n") ==
        "config.conf: healthzBindAddress: Invalid value: \"0\": must be a valid port");
  CHECK(validate_err("mode: ipvs\nipvs:\n  scheduler: fastest\n  excludeCIDRs: [nope]\n") ==
        "config.conf: ipvs.scheduler: Invalid value: \"fastest\": must be in [rr wrr lc wlc lblc lblcr sh dh sed nq mh ], "
        "blank means the default algorithm method (currently rr); ipvs.excludeCIDRs[0]: Invalid value: \"nope\": must "
        "be a valid CIDR");
  CHECK(validate_err("showHiddenMetricsForVersion: \"1.30\"\n") ==
        "config.conf: showHiddenMetricsForVersion: Invalid value: \"1.30\": --show-hidden-metrics-for-version must be "
        "omitted or have the value '1.31'. Only the previous minor version is allowed");
  CHECK(validate_err("clientConnection:\n  burst: -1\n") ==
        "config.conf: clientConnection.burst: Invalid value: -1: must be greater than or equal to 0");
  CHECK(validate_err("logging:\n  format: xml\n") ==
        "config.conf: logging.format: Unsupported value: \"xml\": supported values: \"json\", \"text\"");
  CHECK(validate_err("logging:\n  options:\n    json:\n      splitStream: true\n") ==
        "config.conf: logging.options.json.splitStream: Forbidden: Feature LoggingAlphaOptions is disabled");
  // Valid combinations.
  CHECK(validate_proxy_config(decode_ok("nodePortAddresses: [primary]\nclusterCIDR: 10.0.0.0/8,fd00::/64\n"), "c").ok());
  CHECK(validate_proxy_config(decode_ok("mode: ipvs\nipvs:\n  scheduler: rr\n  syncPeriod: 5s\n  minSyncPeriod: 5s\n"), "c").ok());
  CHECK(validate_proxy_config(decode_ok("featureGates:\n  NFTablesProxyMode: false\nmode: iptables\n"), "c").ok());
  CHECK(validate_err("featureGates:\n  NFTablesProxyMode: false\nmode: nftables\n").find("must be iptables,ipvs or blank") !=
        std::string::npos);
}

TEST_CASE("proxy config: platform defaults", "[proxy_config]") {
  auto c = decode_ok("");
  apply_proxy_platform_defaults(c);
  CHECK(c.mode == "iptables");
  CHECK(c.detect_local_mode == "ClusterCIDR");
  CHECK(c.node_port_addresses.empty());
  c = decode_ok("mode: nftables\n");
  apply_proxy_platform_defaults(c);
  CHECK(c.node_port_addresses == std::vector<std::string>{"primary"});
}
