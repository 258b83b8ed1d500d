// Kubelet flags: upstream's precedence (flags over files), legacy defaults without --config,
// legacy flags, flag syntax and errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config/kubelet_options.h"

using namespace knode::config;

namespace {

const std::string kFixtures = std::string(KNODE_SOURCE_DIR) + "/test/fixtures/kubelet/";
const std::string kKubeadm = kFixtures + "kubeadm-config.yaml";

KubeletOptions load(std::vector<std::string> args) {
  auto o = load_kubelet_options(args);
  if (!o) FAIL(o.error().message());
  return *o;
}
std::string load_error(std::vector<std::string> args) {
  auto o = load_kubelet_options(args);
  REQUIRE_FALSE(o.ok());
  return o.error().message();
}
bool has_warning(const KubeletOptions& o, std::string_view needle) {
  for (const auto& w : o.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("without --config the legacy command-line defaults apply", "[kubelet-flags]") {
  KubeletOptions o = load({});
  CHECK(o.config.authentication.anonymous.enabled == true);
  CHECK(o.config.authentication.webhook.enabled == false);
  CHECK(o.config.authorization.mode == "AlwaysAllow");
  CHECK(o.config.read_only_port == 10255);
  CHECK(o.config.port == 10250);
  CHECK_FALSE(o.config.eviction_hard.has_value());  // only a config file gets the default thresholds
  CHECK(o.flags.root_dir == "/var/lib/kubelet");
  CHECK(o.flags.cert_dir == "/var/lib/kubelet/pki");
  CHECK(o.kubeconfig.empty());
  CHECK(o.warnings.empty());
  std::ifstream golden(kFixtures + "flag-defaults-effective.yaml");
  std::string expected((std::istreambuf_iterator<char>(golden)), std::istreambuf_iterator<char>());
  CHECK(o.effective_yaml == expected);
}

TEST_CASE("the kubeadm command line: file plus flag-only settings", "[kubelet-flags]") {
  // kubeadm's systemd drop-in plus kubeadm-flags.env.
  KubeletOptions o = load({"--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                           "--kubeconfig=/etc/kubernetes/kubelet.conf", "--config=" + kKubeadm,
                           "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
                           "--pod-infra-container-image=registry.k8s.io/pause:3.10", "--node-ip", "192.168.1.5",
                           "--hostname-override=node-1", "--node-labels=a=b,c=d", "--v=2"});
  CHECK(o.config_file == kKubeadm);
  CHECK(o.kubeconfig == "/etc/kubernetes/kubelet.conf");
  CHECK(o.flags.bootstrap_kubeconfig == "/etc/kubernetes/bootstrap-kubelet.conf");
  CHECK(o.flags.node_ip == "192.168.1.5");
  CHECK(o.flags.hostname_override == "node-1");
  CHECK(o.flags.node_labels == std::map<std::string, std::string>{{"a", "b"}, {"c", "d"}});
  CHECK(o.flags.pod_infra_container_image == "registry.k8s.io/pause:3.10");
  CHECK(o.config.container_runtime_endpoint == "unix:///var/run/containerd/containerd.sock");
  CHECK(o.config.logging.verbosity == 2);
  CHECK(o.logging.verbosity == 2);
  CHECK(o.config.authorization.mode == "Webhook");  // the file's value, not the legacy default
  CHECK(o.config.read_only_port == 0);
  CHECK(has_warning(o, "Flag --container-runtime-endpoint has been deprecated, set containerRuntimeEndpoint in "
                       "the --config file instead"));
  CHECK(has_warning(o, "Flag --pod-infra-container-image has been deprecated, slated for removal in 1.35"));
  CHECK_FALSE(has_warning(o, "--kubeconfig"));
  CHECK(o.effective_yaml.find("containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock\n") !=
        std::string::npos);
  CHECK(o.effective_yaml.find("  verbosity: 2\n") != std::string::npos);
}

TEST_CASE("flags override the file and its drop-ins", "[kubelet-flags]") {
  KubeletOptions o = load({"--config", kKubeadm, "--config-dir", kFixtures + "drop-ins", "--max-pods=70",
                           "--cluster-dns=10.0.0.1,10.0.0.2", "--cluster-dns", "10.0.0.3",
                           "--eviction-hard", "memory.available<300Mi,nodefs.available<5%",
                           "--feature-gates=Foo=true", "--fail-swap-on=false", "--read-only-port", "10255",
                           "--anonymous-auth", "--authorization-mode=AlwaysAllow",
                           "--register-with-taints=dedicated=infra:NoSchedule,gpu:NoExecute",
                           "--system-reserved=cpu=100m,memory=100Mi", "--sync-frequency=30s"});
  const KubeletConfiguration& c = o.config;
  CHECK(c.max_pods == 70);  // flag beats 20-auth.conf's 60
  CHECK(c.address == "192.168.0.8");  // drop-in value kept
  CHECK(c.cluster_dns == std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"});
  CHECK(c.eviction_hard == std::map<std::string, std::string>{{"memory.available", "300Mi"}, {"nodefs.available", "5%"}});
  CHECK(c.feature_gates == std::map<std::string, bool>{{"Foo", true}, {"NodeSwap", false}});  // gates merge
  CHECK(c.fail_swap_on == false);
  CHECK(c.read_only_port == 10255);
  CHECK(c.authentication.anonymous.enabled == true);
  CHECK(c.authorization.mode == "AlwaysAllow");
  REQUIRE(c.register_with_taints.size() == 2);
  CHECK(c.register_with_taints[0].key == "dedicated");
  CHECK(c.register_with_taints[0].value == "infra");
  CHECK(c.register_with_taints[0].effect == "NoSchedule");
  CHECK(c.register_with_taints[1].key == "gpu");
  CHECK(c.register_with_taints[1].effect == "NoExecute");
  CHECK(c.system_reserved == std::map<std::string, std::string>{{"cpu", "100m"}, {"memory", "100Mi"}});
  CHECK(c.sync_frequency == Duration::seconds(30));
  CHECK(c.authorization.webhook.cache_authorized_ttl == Duration::minutes(8));  // from the drop-in
}

TEST_CASE("flags without --config apply over the legacy defaults", "[kubelet-flags]") {
  KubeletOptions o = load({"--pod-manifest-path=/etc/kubernetes/manifests", "--cgroup-driver", "systemd",
                           "--cluster-domain=cluster.local", "--resolv-conf=/run/systemd/resolve/resolv.conf",
                           "--runtime-request-timeout=15m", "--serialize-image-pulls=false", "--kube-reserved",
                           "cpu=1", "--rotate-server-certificates", "--client-ca-file=/ca.crt",
                           "--enforce-node-allocatable=", "--cgroups-per-qos=false"});
  const KubeletConfiguration& c = o.config;
  CHECK(c.static_pod_path == "/etc/kubernetes/manifests");
  CHECK(c.cgroup_driver == "systemd");
  CHECK(c.resolv_conf == std::optional<std::string>("/run/systemd/resolve/resolv.conf"));
  CHECK(c.runtime_request_timeout == Duration::minutes(15));
  CHECK(c.serialize_image_pulls == false);
  CHECK(c.kube_reserved == std::map<std::string, std::string>{{"cpu", "1"}});
  CHECK(c.server_tls_bootstrap);
  CHECK(c.authentication.x509.client_ca_file == "/ca.crt");
  CHECK(c.enforce_node_allocatable == std::vector<std::string>{});
  CHECK(c.cgroups_per_qos == false);
  CHECK(c.authorization.mode == "AlwaysAllow");
}

TEST_CASE("legacy dockershim-era flags are accepted, kept and warned about", "[kubelet-flags]") {
  KubeletOptions o = load({"--container-runtime=remote", "--network-plugin=cni", "--cni-bin-dir=/opt/cni/bin",
                           "--cni-conf-dir=/etc/cni/net.d", "--pod-infra-container-image=pause:3.9"});
  CHECK(o.flags.container_runtime == "remote");
  CHECK(o.flags.network_plugin == "cni");
  CHECK(o.flags.cni_bin_dir == "/opt/cni/bin");
  CHECK(o.flags.cni_conf_dir == "/etc/cni/net.d");
  CHECK(o.flags.pod_infra_container_image == "pause:3.9");
  CHECK(has_warning(o, "flag --network-plugin was removed from the upstream kubelet"));
  CHECK(has_warning(o, "flag --cni-bin-dir was removed"));
  CHECK(has_warning(o, "flag --container-runtime was removed"));
  CHECK(load_error({"--container-runtime=docker"}) ==
        "flag --container-runtime: invalid value \"docker\": only \"remote\" (a CRI runtime) is supported");
}

TEST_CASE("flag syntax errors and invalid values", "[kubelet-flags]") {
  CHECK(load_error({"--no-such-flag"}) == "failed to parse kubelet flag: unknown flag: --no-such-flag");
  CHECK(load_error({"--max-pods=many"}) ==
        "failed to parse kubelet flag: invalid argument \"many\" for \"--max-pods\" flag: strconv.ParseInt: parsing "
        "\"many\": invalid syntax");
  CHECK(load_error({"--sync-frequency=10x"}) ==
        "failed to parse kubelet flag: invalid argument \"10x\" for \"--sync-frequency\" flag: time: unknown unit "
        "\"x\" in duration \"10x\"");
  CHECK(load_error({"--eviction-hard=memory.available=100Mi"}) ==
        "failed to parse kubelet flag: invalid argument \"memory.available=100Mi\" for \"--eviction-hard\" flag: "
        "malformed pair, expect string<string");
  CHECK(load_error({"--register-with-taints=a=b:Sometimes"}).ends_with("invalid taint effect: Sometimes, unsupported taint effect"));
  CHECK(load_error({"--port=0"}) == "flag --port: port: invalid value \"0\": must be between 1 and 65535, inclusive");
  CHECK(load_error({"--eviction-hard=memory.free<1Gi"}) ==
        "flag --eviction-hard: evictionHard[memory.free]: unsupported eviction signal \"memory.free\"");
  CHECK(load_error({"--config=" + kKubeadm, "--image-gc-high-threshold=101"}) ==
        "flag --image-gc-high-threshold: imageGCHighThresholdPercent: invalid value \"101\": must be between 0 and "
        "100, inclusive");
  CHECK(load_error({"--config=/nonexistent/kubelet.yaml"}) == "/nonexistent/kubelet.yaml: cannot read file");
  CHECK(load_error({"extra"}) == "unknown command extra");
  CHECK(load_error({"--cloud-provider=aws"}).starts_with("flag --cloud-provider: invalid value \"aws\""));
}

TEST_CASE("an invalid value in the file names the file", "[kubelet-flags]") {
  const auto path = std::filesystem::temp_directory_path() / ("knode-kubelet-flags-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: 70000\n";
  CHECK(load_error({"--config", path.string()}) ==
        path.string() + ": port: invalid value \"70000\": must be between 1 and 65535, inclusive");
  // ...unless a flag fixes it.
  CHECK(load({"--config", path.string(), "--port=10250"}).config.port == 10250);
  std::filesystem::remove(path);
}

TEST_CASE("help, version and logging flags", "[kubelet-flags]") {
  CHECK(load({"--help"}).help);
  CHECK(load({"-h"}).help);
  CHECK(load({"--version"}).version);
  CHECK(load({"--version=raw"}).version);
  KubeletOptions o = load({"-v", "4", "--vmodule=pod*=5"});
  CHECK(o.logging.verbosity == 4);
  CHECK(o.logging.vmodule == "pod*=5");
  CHECK(o.logging.format == knode::log::Format::Text);
  CHECK(load({"--logging-format=json"}).logging.format == knode::log::Format::Json);
  CHECK(load_error({"--logging-format=json", "--vmodule=a=1"}) ==
        "flag --vmodule: logging.vmodule: Forbidden: only supported for text log format");
  const std::string usage = kubelet_usage();
  CHECK(usage.find("Usage:\n  kubelet [flags]\n\nFlags:\n") != std::string::npos);
  CHECK(usage.find("--max-pods int32") != std::string::npos);
  CHECK(usage.find("(default 110)") != std::string::npos);
  CHECK(usage.find("--root-dir string") != std::string::npos);
  CHECK(usage.find("(default \"/var/lib/kubelet\")") != std::string::npos);
  CHECK(usage.find("-v, --v int") != std::string::npos);
  CHECK(usage.find("(DEPRECATED: set maxPods in the --config file instead)") != std::string::npos);
  CHECK(usage.find("(DEPRECATED: set logging.format in the --config file instead)") != std::string::npos);
  CHECK(usage.find("--seccomp-default RuntimeDefault") != std::string::npos);
  CHECK(usage.find("--network-plugin") == std::string::npos);  // hidden legacy flag
}
