#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "config/proxy_options.h"

using namespace knode::config;

namespace {
std::string fixture(const std::string& rel) { return std::string(KNODE_SOURCE_DIR) + "/test/fixtures/" + rel; }

ProxyOptions load_ok(std::vector<std::string> args) {
  auto r = load_proxy_options(args);
  INFO((r ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  return std::move(*r);
}
std::string load_err(std::vector<std::string> args) {
  auto r = load_proxy_options(args);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}
std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = std::string(KNODE_BINARY_DIR) + "/" + name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("proxy options: no flags give upstream's effective defaults", "[proxy_options]") {
  auto o = load_ok({});
  const auto& c = o.config;
  CHECK(c.mode == "iptables");
  CHECK(c.detect_local_mode == "ClusterCIDR");
  CHECK(c.bind_address == "0.0.0.0");
  CHECK(c.healthz_bind_address == "0.0.0.0:10256");
  CHECK(c.metrics_bind_address == "127.0.0.1:10249");
  CHECK(c.iptables.sync_period == Duration::seconds(30));
  CHECK(c.iptables.min_sync_period == Duration::seconds(1));
  CHECK(c.oom_score_adj == -999);
  CHECK(c.conntrack.max_per_core == 32768);
  CHECK(c.config_sync_period == Duration::minutes(15));
  CHECK(o.logging.verbosity == 0);
  CHECK(o.effective_yaml.rfind("apiVersion: kubeproxy.config.k8s.io/v1alpha1\n", 0) == 0);
  CHECK(o.effective_yaml.find("\nkind: KubeProxyConfiguration\n") != std::string::npos);
  CHECK(o.effective_yaml.find("\nmode: iptables\n") != std::string::npos);
}

TEST_CASE("proxy options: kubeadm's DaemonSet command line with config.conf", "[proxy_options]") {
  auto o = load_ok({"--config=" + fixture("proxy/config.conf"), "--hostname-override=Node-1"});
  const auto& c = o.config;
  CHECK(o.config_file == fixture("proxy/config.conf"));
  CHECK(c.hostname_override == "node-1");
  CHECK(c.client_connection.kubeconfig == "/var/lib/kube-proxy/kubeconfig.conf");
  CHECK(c.mode == "iptables");
  CHECK(c.cluster_cidr == "10.244.0.0/16");
  CHECK(c.iptables.masquerade_bit == 14);
  CHECK(c.conntrack.tcp_close_wait_timeout == Duration::hours(1));
  CHECK(o.warnings.empty());
}

TEST_CASE("proxy options: flags set the configuration without --config", "[proxy_options]") {
  auto o = load_ok({"--proxy-mode=ipvs", "--ipvs-scheduler", "wrr", "--ipvs-sync-period=10s", "--ipvs-min-sync-period=2s",
                    "--iptables-sync-period=5s", "--cluster-cidr=10.0.0.0/8,fd00::/64", "--masquerade-all",
                    "--nodeport-addresses=10.0.0.0/8", "--oom-score-adj=-500", "--conntrack-max-per-core=0",
                    "--conntrack-tcp-timeout-established=2h", "--feature-gates=Foo=true,Bar=false",
                    "--kube-api-qps=20", "--kube-api-burst=40", "--kubeconfig=/k.conf", "--master=https://m:6443",
                    "--bind-address=10.1.2.3", "--metrics-bind-address=0.0.0.0", "--healthz-bind-address=[::1]:99",
                    "-v=4", "--vmodule=proxier*=6", "--profiling", "--detect-local-mode=NodeCIDR"});
  const auto& c = o.config;
  CHECK(c.mode == "ipvs");
  CHECK(c.ipvs.scheduler == "wrr");
  CHECK(c.ipvs.sync_period == Duration::seconds(10));
  CHECK(c.ipvs.min_sync_period == Duration::seconds(2));
  CHECK(c.iptables.sync_period == Duration::seconds(30));  // ignored in ipvs mode, as upstream
  CHECK(c.cluster_cidr == "10.0.0.0/8,fd00::/64");
  CHECK(c.iptables.masquerade_all);
  CHECK(c.node_port_addresses == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(c.oom_score_adj == -500);
  CHECK(c.conntrack.max_per_core == 0);
  CHECK(c.conntrack.tcp_established_timeout == Duration::hours(2));
  CHECK(c.feature_gates == std::map<std::string, bool>{{"Bar", false}, {"Foo", true}});
  CHECK(c.client_connection.qps.v == 20);
  CHECK(c.client_connection.burst == 40);
  CHECK(c.client_connection.kubeconfig == "/k.conf");
  CHECK(o.master == "https://m:6443");
  CHECK(c.bind_address == "10.1.2.3");
  CHECK(c.metrics_bind_address == "0.0.0.0:10249");
  CHECK(c.healthz_bind_address == "[::1]:99");
  CHECK(c.enable_profiling);
  CHECK(c.detect_local_mode == "NodeCIDR");
  CHECK(o.logging.verbosity == 4);
  CHECK(o.logging.vmodule == "proxier*=6");
  CHECK(c.logging.verbosity == 4);
}

TEST_CASE("proxy options: iptables sync flags feed the nftables section in nftables mode", "[proxy_options]") {
  auto o = load_ok({"--proxy-mode", "nftables", "--iptables-sync-period=7s", "--iptables-min-sync-period=0s",
                    "--masquerade-all"});
  CHECK(o.config.nftables.sync_period == Duration::seconds(7));
  CHECK(o.config.nftables.min_sync_period.is_zero());
  CHECK(o.config.nftables.masquerade_all);
  CHECK_FALSE(o.config.iptables.masquerade_all);
  CHECK(o.config.node_port_addresses == std::vector<std::string>{"primary"});
  CHECK(o.config.sync_period() == Duration::seconds(7));
}

TEST_CASE("proxy options: with --config, configuration flags are ignored but logging flags win", "[proxy_options]") {
  auto path = write_temp("c2-proxy-config.yaml",
                         "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n"
                         "hostnameOverride: from-file\nlogging:\n  verbosity: 2\n  vmodule:\n  - filePattern: a\n    verbosity: 1\n");
  auto o = load_ok({"--config", path, "--proxy-mode=ipvs", "--cluster-cidr=1.0.0.0/8", "--oom-score-adj=5",
                    "-v", "5", "--vmodule=b=3", "--master=http://x:8080"});
  CHECK(o.config.mode == "nftables");
  CHECK(o.config.cluster_cidr.empty());
  CHECK(o.config.oom_score_adj == -999);
  CHECK(o.config.hostname_override == "from-file");
  CHECK(o.config.logging.verbosity == 5);
  CHECK(o.logging.verbosity == 5);
  CHECK(o.logging.vmodule == "b=3,a=1");
  CHECK(o.master == "http://x:8080");
  auto o2 = load_ok({"--config", path, "--hostname-override", "  Override  "});
  CHECK(o2.config.hostname_override == "override");
  CHECK(o2.config.logging.verbosity == 2);
}

TEST_CASE("proxy options: deprecated port flags", "[proxy_options]") {
  auto o = load_ok({"--healthz-port=0", "--metrics-bind-address=10.0.0.1", "--metrics-port=9000"});
  CHECK(o.config.healthz_bind_address.empty());
  CHECK(o.config.metrics_bind_address == "10.0.0.1:9000");
  REQUIRE(o.warnings.size() == 2);
  CHECK(o.warnings[0] ==
        "Flag --healthz-port has been deprecated, use --healthz-bind-address; slated for removal.");
  CHECK(o.effective_yaml.find("\nhealthzBindAddress: \"\"\n") != std::string::npos);
}

TEST_CASE("proxy options: flag-only settings", "[proxy_options]") {
  auto o = load_ok({"--cleanup", "--init-only", "--dry-run", "--write-config-to=/tmp/x.yaml"});
  CHECK(o.cleanup);
  CHECK(o.init_only);
  CHECK(o.dry_run);
  CHECK(o.write_config_to == "/tmp/x.yaml");
  CHECK(load_ok({"--help"}).help);
  CHECK(load_ok({"-h"}).help);
  CHECK(load_ok({"--version"}).version);
  CHECK(load_ok({"--version=raw"}).version);
  CHECK_FALSE(load_ok({"--version=false"}).version);
}

TEST_CASE("proxy options: errors", "[proxy_options]") {
  CHECK(load_err({"--proxy-mode=userspace"}) ==
        "kube-proxy flags: mode: Invalid value: \"userspace\": must be iptables,ipvs,nftables or blank (blank means the "
        "best-available proxy [currently iptables])");
  CHECK(load_err({"--cluster-cidr=10.0.0.0/40"}) ==
        "kube-proxy flags: clusterCIDR: Invalid value: \"10.0.0.0/40\": must be a valid CIDR block (e.g. 10.100.0.0/16 "
        "or fde4:8dba:82e1::/48)");
  CHECK(load_err({"--iptables-sync-period=fast"}) ==
        "invalid argument \"fast\" for \"--iptables-sync-period\" flag: time: invalid duration \"fast\"");
  CHECK(load_err({"--bind-address=nope"}) ==
        "invalid argument \"nope\" for \"--bind-address\" flag: \"nope\" is not a valid IP address");
  CHECK(load_err({"--metrics-bind-address=1.2.3.4:http"}) ==
        "invalid argument \"1.2.3.4:http\" for \"--metrics-bind-address\" flag: \"http\" is not a valid number");
  CHECK(load_err({"-v=-1"}) ==
        "invalid argument \"-1\" for \"-v, --v\" flag: strconv.ParseUint: parsing \"-1\": invalid syntax");
  CHECK(load_err({"--vmodule=foo"}) == "invalid argument \"foo\" for \"--vmodule\" flag: \"foo\" does not have the pattern=N format");
  CHECK(load_err({"--nope"}) == "unknown flag: --nope");
  CHECK(load_err({"--config"}) == "flag needs an argument: --config");
  CHECK(load_err({"extra"}) == "\"kube-proxy\" does not take any arguments, got [extra]");
  CHECK(load_err({"--hostname-override= "}) == "--hostname-override: empty hostname-override is invalid");
  CHECK(load_err({"--config=/nonexistent/kp.yaml"}) == "/nonexistent/kp.yaml: cannot read file");
  auto bad = write_temp("c2-proxy-bad.yaml",
                        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n"
                        "nftables:\n  masqueradeBit: 40\n");
  CHECK(load_err({"--config", bad}) == bad + ": nftables.masqueradeBit: Invalid value: 40: must be within the range [0, 31]");
}

TEST_CASE("proxy options: usage in upstream's help layout", "[proxy_options]") {
  std::string u = proxy_usage();
  CHECK(u.find("Usage:\n  kube-proxy [flags]\n\nFlags:\n") != std::string::npos);
  CHECK(u.find("      --config string ") != std::string::npos);
  CHECK(u.find("      --bind-address ip ") != std::string::npos);
  CHECK(u.find("(default 0.0.0.0)") != std::string::npos);
  CHECK(u.find("      --healthz-bind-address ipport ") != std::string::npos);
  CHECK(u.find("(default 0.0.0.0:10256)") != std::string::npos);
  CHECK(u.find("      --config-sync-period duration ") != std::string::npos);
  CHECK(u.find("(default 15m0s)") != std::string::npos);
  CHECK(u.find("      --conntrack-max-per-core int32 ") != std::string::npos);
  CHECK(u.find("(default 32768)") != std::string::npos);
  CHECK(u.find("      --kube-api-content-type string ") != std::string::npos);
  CHECK(u.find("(default \"application/vnd.kubernetes.protobuf\")") != std::string::npos);
  CHECK(u.find("      --proxy-mode ProxyMode ") != std::string::npos);
  CHECK(u.find("  -v, --v Level ") != std::string::npos);
  CHECK(u.find("  -h, --help ") != std::string::npos);
  CHECK(u.find("      --feature-gates mapStringBool ") != std::string::npos);
  CHECK(u.find("      --ipvs-exclude-cidrs strings ") != std::string::npos);
  CHECK(u.find("      --version version[=true] ") != std::string::npos);
  CHECK(u.find("healthz-port") == std::string::npos);  // deprecated flags are hidden
  // Flags are sorted and descriptions aligned in one column.
  CHECK(u.find("--bind-address ") < u.find("--cleanup "));
  size_t a = u.find("      --cleanup"), b = u.find("      --config string");
  size_t ca = u.find("Remove the rules", a), cb = u.find("KubeProxyConfiguration file", b);
  CHECK(ca - a == cb - b);
}
