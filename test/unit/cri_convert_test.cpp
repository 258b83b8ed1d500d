// Pod → CRI conversion: DNS, environment and $(VAR) expansion, QoS and resources, cgroup parents,
// labels/annotations and the container hash, port mappings, security contexts, log paths.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "cri/convert.h"

using namespace knode;
using namespace knode::cri;
using kube::Pod;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(KNODE_SOURCE_DIR) + "/test/fixtures/pods/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Pod load(const std::string& yaml_text) {
  auto r = kube::decode_pod(yaml_text);
  if (!r.ok()) FAIL(r.error().message());
  Pod p = *r;
  kube::apply_defaults(p);
  return p;
}

Pod pod_with(const std::string& container_extra, const std::string& spec_extra = "",
             const std::string& more_containers = "") {
  return load("metadata: {name: p, namespace: ns, uid: 1234-5678}\nspec:\n" + spec_extra +
              "  containers:\n  - name: c\n    image: busybox\n" + container_extra + more_containers);
}

const std::string kHostResolv =
    "# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example. lab.example .\n"
    "options timeout:2 attempts:3\noptions timeout:1\n";

DnsSettings cluster_dns() {
  return DnsSettings{.cluster_dns = {"10.96.0.10"}, .cluster_domain = "cluster.local",
                     .resolv_conf_path = "/etc/resolv.conf", .resolv_conf = kHostResolv};
}

std::vector<std::string> strings(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return {r.begin(), r.end()};
}

}  // namespace

TEST_CASE("resolv.conf parsing keeps the last search line and merges options", "[cri][dns]") {
  DnsConfig c = parse_resolv_conf(kHostResolv);
  CHECK(c.servers == std::vector<std::string>{"10.0.0.2", "10.0.0.3"});
  CHECK(c.searches == std::vector<std::string>{"corp.example", "lab.example"});
  CHECK(c.options == std::vector<std::string>{"timeout:1", "attempts:3"});
  CHECK(parse_resolv_conf("search a\nsearch b c\n; comment\n").searches == std::vector<std::string>{"b", "c"});
}

TEST_CASE("DNS policy matrix", "[cri][dns]") {
  const std::vector<std::string> cluster_search = {"ns.svc.cluster.local", "svc.cluster.local", "cluster.local",
                                                   "corp.example", "lab.example"};
  SECTION("ClusterFirst") {
    auto d = pod_dns_config(pod_with(""), cluster_dns());
    REQUIRE(d.ok());
    CHECK(d->servers == std::vector<std::string>{"10.96.0.10"});
    CHECK(d->searches == cluster_search);
    CHECK(d->options == std::vector<std::string>{"ndots:5"});
  }
  SECTION("ClusterFirst on hostNetwork falls back to the host's") {
    auto d = pod_dns_config(pod_with("", "  hostNetwork: true\n"), cluster_dns());
    CHECK(d->servers == std::vector<std::string>{"10.0.0.2", "10.0.0.3"});
    CHECK(d->searches == std::vector<std::string>{"corp.example", "lab.example"});
    CHECK(d->options == std::vector<std::string>{"timeout:1", "attempts:3"});
  }
  SECTION("ClusterFirstWithHostNet") {
    auto d = pod_dns_config(pod_with("", "  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet\n"), cluster_dns());
    CHECK(d->servers == std::vector<std::string>{"10.96.0.10"});
    CHECK(d->searches == cluster_search);
  }
  SECTION("Default") {
    auto d = pod_dns_config(pod_with("", "  dnsPolicy: Default\n"), cluster_dns());
    CHECK(d->servers == std::vector<std::string>{"10.0.0.2", "10.0.0.3"});
  }
  SECTION("None takes only dnsConfig") {
    auto d = pod_dns_config(
        pod_with("", "  dnsPolicy: None\n  dnsConfig:\n    nameservers: [8.8.8.8]\n    searches: [a.example]\n"
                     "    options: [{name: ndots, value: '2'}, {name: edns0}]\n"),
        cluster_dns());
    CHECK(d->servers == std::vector<std::string>{"8.8.8.8"});
    CHECK(d->searches == std::vector<std::string>{"a.example"});
    CHECK(d->options == std::vector<std::string>{"ndots:2", "edns0"});
  }
  SECTION("dnsConfig merges over ClusterFirst") {
    auto d = pod_dns_config(
        pod_with("", "  dnsConfig:\n    nameservers: [10.96.0.10, 1.1.1.1]\n    searches: [svc.cluster.local, x.example]\n"
                     "    options: [{name: ndots, value: '1'}, {name: single-request}]\n"),
        cluster_dns());
    CHECK(d->servers == std::vector<std::string>{"10.96.0.10", "1.1.1.1"});
    CHECK(d->searches.back() == "x.example");
    CHECK(d->searches.size() == 6);
    CHECK(d->options == std::vector<std::string>{"ndots:1", "single-request"});
  }
  SECTION("no cluster DNS configured: the host's settings") {
    DnsSettings s = cluster_dns();
    s.cluster_dns.clear();
    auto d = pod_dns_config(pod_with(""), s);
    CHECK(d->servers == std::vector<std::string>{"10.0.0.2", "10.0.0.3"});
  }
  SECTION("--resolv-conf=\"\": the local machine resolves") {
    DnsSettings s{.resolv_conf_path = "", .node_ips = {"10.0.0.5", "fd00::5"}};
    auto d = pod_dns_config(pod_with("", "  dnsPolicy: Default\n"), s);
    CHECK(d->servers == std::vector<std::string>{"127.0.0.1", "::1"});
    CHECK(d->searches == std::vector<std::string>{"."});
  }
  SECTION("limits: 3 servers, 32 searches, 2048 characters") {
    std::string searches;
    for (int i = 0; i < 40; ++i) searches += (i ? ", " : "") + std::string(60, static_cast<char>('a' + i % 26)) + std::to_string(i);
    auto d = pod_dns_config(pod_with("", "  dnsPolicy: None\n  dnsConfig:\n    nameservers: [1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4]\n"
                                         "    searches: [" + searches + "]\n"),
                            cluster_dns());
    CHECK(d->servers.size() == 3);
    size_t chars = 0;
    for (const auto& x : d->searches) chars += x.size() + 1;
    CHECK(d->searches.size() <= 32);
    CHECK(chars - 1 <= 2048);
    CHECK(d->searches.size() == 32);  // 32 × 62 + 31 = 2015 characters fit
  }
  SECTION("an invalid policy is an error") {
    Pod p = pod_with("");
    p.spec.dns_policy = "Sometimes";
    CHECK(pod_dns_config(p, cluster_dns()).error().message() == "invalid DNSPolicy=Sometimes");
  }
}

TEST_CASE("hostnames", "[cri][dns]") {
  Pod p = pod_with("", "  hostname: web-0\n  subdomain: web\n");
  auto hd = pod_hostname_and_domain(p, "cluster.local");
  CHECK(hd->hostname == "web-0");
  CHECK(hd->domain == "web.ns.svc.cluster.local");
  CHECK(*sandbox_hostname(p, "cluster.local") == "web-0");
  p.spec.set_hostname_as_fqdn = true;
  CHECK(*sandbox_hostname(p, "cluster.local") == "web-0.web.ns.svc.cluster.local");
  Pod longname = pod_with("");
  longname.metadata.name = std::string(62, 'a') + "-bcd";
  CHECK(*sandbox_hostname(longname, "cluster.local") == std::string(62, 'a'));
}

TEST_CASE("$(VAR) expansion follows upstream's rules", "[cri][env]") {
  std::map<std::string, std::string> vars = {{"VAR", "value"}, {"EMPTY", ""}, {"NESTED", "$(VAR)"}};
  std::vector<const std::map<std::string, std::string>*> ctx{&vars};
  CHECK(expand("$(VAR)", ctx) == "value");
  CHECK(expand("a-$(VAR)-b", ctx) == "a-value-b");
  CHECK(expand("$(VAR)$(VAR)", ctx) == "valuevalue");
  CHECK(expand("$$(VAR)", ctx) == "$(VAR)");
  CHECK(expand("$$$(VAR)", ctx) == "$value");
  CHECK(expand("$$$$(VAR)", ctx) == "$$(VAR)");
  CHECK(expand("$(UNDEFINED)", ctx) == "$(UNDEFINED)");
  CHECK(expand("$(EMPTY)", ctx) == "");
  CHECK(expand("$(NESTED)", ctx) == "$(VAR)");  // one level only
  CHECK(expand("$(VAR", ctx) == "$(VAR");
  CHECK(expand("$VAR", ctx) == "$VAR");
  CHECK(expand("$", ctx) == "$");
  CHECK(expand("end$", ctx) == "end$");
  CHECK(expand("$()", ctx) == "$()");
  CHECK(expand("($(VAR))", ctx) == "(value)");
  CHECK(expand("$(VAR)$", ctx) == "value$");
}

TEST_CASE("the container environment", "[cri][env]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  const kube::Container& web = p.spec.containers[0];
  EnvContext ctx;
  ctx.pod_ip = "10.244.1.7";
  ctx.pod_ips = {"10.244.1.7", "fd00::7"};
  ctx.host_ips = {"192.168.1.10"};
  ctx.node_allocatable = {{"cpu", *kube::Quantity::parse("4")}, {"memory", *kube::Quantity::parse("8Gi")}};
  ctx.service_env = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"PORT", "ignored"}};
  ctx.config_maps = [](std::string_view ns, std::string_view name)
      -> Result<std::optional<std::map<std::string, std::string>>> {
    if (ns == "shop" && name == "web-config") return std::optional<std::map<std::string, std::string>>{{{"level", "debug"}, {"mode", "fast"}}};
    return std::optional<std::map<std::string, std::string>>{};
  };
  ctx.secrets = [](std::string_view, std::string_view name) -> Result<std::optional<std::map<std::string, std::string>>> {
    if (name == "web-secret") return std::optional<std::map<std::string, std::string>>{{{"api-key", "s3cr3t"}}};
    return std::optional<std::map<std::string, std::string>>{};
  };
  auto env = make_environment(p, web, ctx);
  REQUIRE(env.ok());
  std::map<std::string, std::string> m(env->begin(), env->end());
  CHECK(m.at("CFG_level") == "debug");
  CHECK(m.at("api-key") == "s3cr3t");
  CHECK(m.at("PORT") == "8080");
  CHECK(m.at("DB_URL") == "postgres://db.local/web");
  CHECK(m.at("POD_NAME") == "web");
  CHECK(m.at("POD_IP") == "10.244.1.7");
  CHECK(m.at("MEM_LIMIT") == "256");
  CHECK(m.at("API_KEY") == "s3cr3t");
  CHECK(m.at("MODE") == "fast");
  CHECK(m.at("KUBERNETES_SERVICE_HOST") == "10.96.0.1");
  // envFrom first, then env in order, then service variables.
  CHECK(env->front().first == "CFG_level");
  CHECK(env->back().first == "KUBERNETES_SERVICE_HOST");

  auto [cmd, args] = expand_command_and_args(web, *env);
  CHECK(args == std::vector<std::string>{"--port=8080", "--escaped=$(PORT)", "--missing=$(NOPE)"});
  CHECK(*expand_sub_path_expr("$(POD_NAME)/x", *env) == "web/x");
  CHECK(expand_sub_path_expr("$(NOPE)", *env).error().message() == "missing value for NOPE");

  SECTION("values expand against earlier variables only") {
    Pod q = pod_with("    env:\n    - {name: B, value: '$(A)-b'}\n    - {name: A, value: a}\n    - {name: C, value: '$(A)-c'}\n");
    auto e = make_environment(q, q.spec.containers[0], {});
    REQUIRE(e.ok());
    CHECK(*e == EnvList{{"B", "$(A)-b"}, {"A", "a"}, {"C", "a-c"}});
  }
  SECTION("missing references") {
    Pod q = pod_with("    env:\n    - name: X\n      valueFrom: {configMapKeyRef: {name: nope, key: k}}\n");
    CHECK(make_environment(q, q.spec.containers[0], ctx).error().message() == "configmaps \"nope\" not found");
    Pod o = pod_with("    env:\n    - name: X\n      valueFrom: {configMapKeyRef: {name: nope, key: k, optional: true}}\n");
    auto oe = make_environment(o, o.spec.containers[0], ctx);
    REQUIRE(oe.ok());
    CHECK(*oe == EnvList{{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"PORT", "ignored"}});
    Pod k = pod_with("    env:\n    - name: X\n      valueFrom: {secretKeyRef: {name: web-secret, key: nope}}\n");
    k.metadata.namespace_ = "shop";
    CHECK(make_environment(k, k.spec.containers[0], ctx).error().message() == "couldn't find key nope in Secret shop/web-secret");
  }
}

TEST_CASE("downward API field and resource values", "[cri][env]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  EnvContext ctx{.pod_ip = "10.0.0.1", .pod_ips = {"10.0.0.1", "fd00::1"}, .host_ips = {"192.168.1.10", "fd01::10"}};
  auto f = [&](const std::string& path) { return pod_field_value(p, {.field_path = path}, ctx); };
  CHECK(*f("metadata.namespace") == "shop");
  CHECK(*f("metadata.uid") == "6f1c2b9e-3d4a-4c1e-9a55-0d8e7f6a1b2c");
  CHECK(*f("metadata.labels") == "app=\"web\"\nversion=\"1.10\"");
  CHECK(*f("metadata.labels['app']") == "web");
  CHECK(*f("metadata.annotations['note']") == "multi-line\ntext\n");
  CHECK(*f("metadata.annotations") == "note=\"multi-line\\ntext\\n\"");
  CHECK(*f("spec.serviceAccountName") == "web");
  CHECK(*f("status.podIPs") == "10.0.0.1,fd00::1");
  CHECK(*f("status.hostIP") == "192.168.1.10");
  CHECK(*f("status.hostIPs") == "192.168.1.10,fd01::10");
  CHECK(f("spec.nope").error().message() == "field label not supported: spec.nope");

  const kube::Container& web = p.spec.containers[0];
  kube::ResourceList alloc = {{"cpu", *kube::Quantity::parse("4")}, {"memory", *kube::Quantity::parse("8Gi")}};
  auto r = [&](const std::string& res, const char* divisor, const std::string& container = "") {
    kube::ResourceFieldSelector s{.container_name = container, .resource = res};
    if (divisor) s.divisor = *kube::Quantity::parse(divisor);
    return resource_field_value(p, web, s, alloc);
  };
  CHECK(*r("limits.cpu", nullptr) == "1");
  CHECK(*r("limits.cpu", "1m") == "1000");
  CHECK(*r("requests.cpu", nullptr) == "1");  // 250m rounds up
  CHECK(*r("requests.cpu", "1m") == "250");
  CHECK(*r("limits.memory", "1Mi") == "256");
  CHECK(*r("requests.memory", nullptr) == "67108864");
  CHECK(*r("limits.memory", "1Gi", "migrate") == "8");  // no limit: node allocatable
  CHECK(*r("limits.cpu", nullptr, "migrate") == "4");
  CHECK(r("limits.gpu", nullptr).error().message() == "unsupported container resource : limits.gpu");
}

TEST_CASE("QoS classes", "[cri][qos]") {
  CHECK(compute_pod_qos(pod_with("")) == QosClass::BestEffort);
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}}\n")) == QosClass::Guaranteed);
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 1, memory: 1Gi}}\n")) ==
        QosClass::Guaranteed);
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 500m}}\n")) ==
        QosClass::Burstable);
  CHECK(compute_pod_qos(pod_with("    resources: {requests: {cpu: 100m}}\n")) == QosClass::Burstable);
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {cpu: 1}}\n")) == QosClass::Burstable);
  // Only cpu and memory count.
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {ephemeral-storage: 1Gi}}\n")) == QosClass::BestEffort);
  // Every container must be limited for Guaranteed.
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}}\n", "",
                                 "  - {name: d, image: busybox}\n")) == QosClass::Burstable);
  CHECK(compute_pod_qos(pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}}\n",
                                 "  initContainers:\n  - {name: i, image: busybox, resources: {limits: {cpu: 2, memory: 1Gi}}}\n")) ==
        QosClass::Guaranteed);
  Pod s = pod_with("");
  s.status.qos_class = "Burstable";
  CHECK(pod_qos(s) == QosClass::Burstable);
  CHECK(to_string(QosClass::BestEffort) == "BestEffort");
}

TEST_CASE("oom_score_adj by QoS class", "[cri][qos]") {
  const int64_t gi = 1024 * 1024 * 1024;
  const int64_t capacity = 16 * gi;
  Pod g = pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}}\n");
  CHECK(container_oom_score_adj(g, g.spec.containers[0], capacity) == -997);
  Pod be = pod_with("");
  CHECK(container_oom_score_adj(be, be.spec.containers[0], capacity) == 1000);
  Pod b = pod_with("    resources: {requests: {memory: 1Gi}}\n");
  CHECK(container_oom_score_adj(b, b.spec.containers[0], capacity) == 1000 - 1000 / 16);  // 938
  Pod small = pod_with("    resources: {requests: {cpu: 100m}}\n");
  CHECK(container_oom_score_adj(small, small.spec.containers[0], capacity) == 999);
  Pod huge = pod_with("    resources: {requests: {memory: 16Gi}}\n");
  CHECK(container_oom_score_adj(huge, huge.spec.containers[0], capacity) == 3);
  // A sidecar scores no higher than the smallest regular container.
  Pod side = pod_with("    resources: {requests: {memory: 4Gi}}\n",
                      "  initContainers:\n  - {name: s, image: x, restartPolicy: Always, resources: {requests: {memory: 1Gi}}}\n");
  CHECK(container_oom_score_adj(side, side.spec.init_containers[0], capacity) == 750);
  // Node-critical static pods: kubeadm's etcd is Burstable but gets -997.
  Pod etcd = load(fixture("etcd.yaml"));
  CHECK(compute_pod_qos(etcd) == QosClass::Burstable);
  CHECK(is_node_critical_pod(etcd));  // priority 2000001000 ≥ 2000000000
  CHECK(container_oom_score_adj(etcd, etcd.spec.containers[0], capacity) == -997);
  etcd.spec.priority.reset();
  CHECK_FALSE(is_node_critical_pod(etcd));
  CHECK(container_oom_score_adj(etcd, etcd.spec.containers[0], capacity) == 1000 - (1000 * 100) / (16 * 1024));
  etcd.metadata.annotations["kubernetes.io/config.source"] = "file";  // a static pod
  CHECK(is_node_critical_pod(etcd));
  CHECK(container_oom_score_adj(etcd, etcd.spec.containers[0], capacity) == -997);
  etcd.metadata.annotations["kubernetes.io/config.source"] = "api";
  CHECK_FALSE(is_node_critical_pod(etcd));
}

TEST_CASE("cpu shares, CFS quota and memory limits", "[cri][resources]") {
  CHECK(milli_cpu_to_shares(0) == 2);
  CHECK(milli_cpu_to_shares(1) == 2);
  CHECK(milli_cpu_to_shares(100) == 102);
  CHECK(milli_cpu_to_shares(1000) == 1024);
  CHECK(milli_cpu_to_shares(500000) == 262144);
  CHECK(milli_cpu_to_quota(0, 100000) == 0);
  CHECK(milli_cpu_to_quota(5, 100000) == 1000);
  CHECK(milli_cpu_to_quota(250, 100000) == 25000);
  CHECK(milli_cpu_to_quota(1500, 100000) == 150000);

  ResourceSettings s{.memory_capacity = int64_t(16) << 30, .hugepage_sizes = {"2MB", "1GB"}};
  Pod p = pod_with("    resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: 1500m, memory: 256Mi, hugepages-2Mi: 64Mi}}\n");
  LinuxResources r = container_resources(p, p.spec.containers[0], s);
  CHECK(r.cpu_shares == 256);
  CHECK(r.cpu_period == 100000);
  CHECK(r.cpu_quota == 150000);
  CHECK(r.memory_limit_in_bytes == 256 << 20);
  CHECK(r.hugepage_limits == std::vector<std::pair<std::string, uint64_t>>{{"2MB", 64 << 20}, {"1GB", 0}});
  CHECK(r.unified.empty());
  CHECK(r.memory_swap_limit_in_bytes == 0);

  Pod limit_only = pod_with("    resources: {limits: {cpu: 2}}\n");
  limit_only.spec.containers[0].resources.requests.clear();  // as on a cluster without defaulting
  CHECK(container_resources(limit_only, limit_only.spec.containers[0], s).cpu_shares == 2048);
  Pod none = pod_with("");
  LinuxResources n = container_resources(none, none.spec.containers[0], s);
  CHECK(n.cpu_shares == 2);
  CHECK(n.cpu_quota == 0);
  CHECK(n.memory_limit_in_bytes == 0);
  CHECK(n.oom_score_adj == 1000);

  ResourceSettings v1swap{.memory_capacity = 1, .swap_controller_available = true};
  CHECK(container_resources(p, p.spec.containers[0], v1swap).memory_swap_limit_in_bytes == 256 << 20);
  ResourceSettings v2{.memory_capacity = 1, .cgroup_v2 = true, .swap_controller_available = true};
  LinuxResources r2 = container_resources(p, p.spec.containers[0], v2);
  CHECK(r2.unified == std::map<std::string, std::string>{{"memory.oom.group", "1"}, {"memory.swap.max", "0"}});
  ResourceSettings noquota{.memory_capacity = 1, .cpu_cfs_quota = false};
  CHECK(container_resources(p, p.spec.containers[0], noquota).cpu_quota == 0);
  CHECK(container_resources(p, p.spec.containers[0], noquota).cpu_period == 0);

  // Sandbox-level totals: regular containers and sidecars add up, init containers set a floor.
  Pod multi = pod_with("    resources: {requests: {cpu: 100m}, limits: {cpu: 200m, memory: 100Mi}}\n",
                       "  initContainers:\n  - {name: i, image: x, resources: {requests: {cpu: 1}, limits: {cpu: 1}}}\n",
                       "  - {name: d, image: x, resources: {requests: {cpu: 300m}, limits: {cpu: 400m, memory: 50Mi}}}\n");
  LinuxResources sb = sandbox_resources(multi, s);
  CHECK(sb.cpu_shares == 1024);
  CHECK(sb.cpu_quota == 100000);
  CHECK(sb.memory_limit_in_bytes == 150 << 20);
}

TEST_CASE("pod cgroup parents for both drivers", "[cri][cgroups]") {
  Pod g = pod_with("    resources: {limits: {cpu: 1, memory: 1Gi}}\n");
  Pod b = pod_with("    resources: {requests: {cpu: 1}}\n");
  Pod be = pod_with("");
  CgroupSettings fs;
  CHECK(pod_cgroup_parent(g, fs) == "/kubepods/pod1234-5678");
  CHECK(pod_cgroup_parent(b, fs) == "/kubepods/burstable/pod1234-5678");
  CHECK(pod_cgroup_parent(be, fs) == "/kubepods/besteffort/pod1234-5678");
  CgroupSettings sd{.driver = CgroupDriver::Systemd};
  CHECK(pod_cgroup_parent(g, sd) == "/kubepods.slice/kubepods-pod1234_5678.slice");
  CHECK(pod_cgroup_parent(b, sd) == "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice");
  CHECK(pod_cgroup_parent(be, sd) == "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice");
  CHECK(pod_cgroup_parent(b, CgroupSettings{.cgroup_root = "/custom/root"}) == "/custom/root/kubepods/burstable/pod1234-5678");
  CHECK(pod_cgroup_parent(b, CgroupSettings{.driver = CgroupDriver::Systemd, .cgroup_root = "/my-root.slice"}) ==
        "/my.slice/my-root.slice/my-root-kubepods.slice/my-root-kubepods-burstable.slice/my-root-kubepods-burstable-pod1234_5678.slice");
  CHECK(pod_cgroup_parent(b, CgroupSettings{.cgroups_per_qos = false}) == "");
}

TEST_CASE("the container hash equals upstream's", "[cri][labels]") {
  // Upstream's TestConsistentHashContainer: name test_container, image foo/image:v1 → 0x8e45cbd0.
  kube::Container c{.name = "test_container", .image = "foo/image:v1"};
  CHECK(hash_container(c) == 0x8e45cbd0);
  kube::Container other = c;
  other.command = {"x"};
  CHECK(hash_container(other) == hash_container(c));  // only name and image count
  other.image = "foo/image:v2";
  CHECK(hash_container(other) != hash_container(c));
}

TEST_CASE("labels and annotations as upstream's kubelet writes them", "[cri][labels]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  auto pl = pod_labels(p);
  CHECK(pl.at("io.kubernetes.pod.name") == "web");
  CHECK(pl.at("io.kubernetes.pod.namespace") == "shop");
  CHECK(pl.at("io.kubernetes.pod.uid") == "6f1c2b9e-3d4a-4c1e-9a55-0d8e7f6a1b2c");
  CHECK(pl.at("app") == "web");
  const kube::Container& web = p.spec.containers[0];
  auto cl = container_labels(p, web);
  CHECK(cl.size() == 4);
  CHECK(cl.at("io.kubernetes.container.name") == "web");
  auto a = container_annotations(p, web, 3);
  CHECK(a.at("io.kubernetes.container.hash") == fmt::format("{:x}", hash_container(web)));
  CHECK(a.at("io.kubernetes.container.restartCount") == "3");
  CHECK(a.at("io.kubernetes.container.terminationMessagePath") == "/dev/termination-log");
  CHECK(a.at("io.kubernetes.container.terminationMessagePolicy") == "File");
  CHECK(a.at("io.kubernetes.pod.terminationGracePeriod") == "45");
  CHECK_FALSE(a.count("io.kubernetes.pod.deletionGracePeriod"));
  CHECK(a.at("io.kubernetes.container.preStopHandler") ==
        R"({"exec":{"command":["/bin/sh","-c","sleep 5 \u0026\u0026 kill -TERM 1"]}})");
  CHECK(a.at("io.kubernetes.container.ports") ==
        R"([{"name":"http","hostPort":18080,"containerPort":8080,"protocol":"TCP"},)"
        R"({"name":"metrics","containerPort":9090,"protocol":"TCP","hostIP":"127.0.0.1"},)"
        R"({"containerPort":5353,"protocol":"UDP"}])");
  CHECK(a.at("io.kubernetes.container.type") == "container");
  CHECK(container_annotations(p, p.spec.init_containers[0], 0).at("io.kubernetes.container.type") == "init");
  p.metadata.deletion_grace_period_seconds = 10;
  CHECK(container_annotations(p, web, 0).at("io.kubernetes.pod.deletionGracePeriod") == "10");
}

TEST_CASE("hostPort mappings", "[cri][ports]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  auto m = port_mappings(p);
  REQUIRE(m.size() == 3);
  CHECK(m[0].host_port() == 18080);
  CHECK(m[0].container_port() == 8080);
  CHECK(m[0].protocol() == runtime::v1::TCP);
  CHECK(m[1].host_ip() == "127.0.0.1");
  CHECK(m[1].host_port() == 0);
  CHECK(m[2].protocol() == runtime::v1::UDP);
  // A duplicated unnamed port (same family, protocol, IP and ports) is sent once; init
  // containers' ports are not mapped.
  Pod d = pod_with("    ports:\n    - {containerPort: 80, hostPort: 8080}\n    - {containerPort: 80, hostPort: 8080}\n"
                   "    - {containerPort: 80, hostPort: 8080, hostIP: '::1'}\n",
                   "  initContainers:\n  - {name: i, image: x, ports: [{containerPort: 1, hostPort: 1}]}\n");
  auto dm = port_mappings(d);
  REQUIRE(dm.size() == 2);
  CHECK(dm[1].host_ip() == "::1");
}

TEST_CASE("log paths", "[cri][logs]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  CHECK(pod_log_directory("/var/log/pods", p) == "/var/log/pods/shop_web_6f1c2b9e-3d4a-4c1e-9a55-0d8e7f6a1b2c");
  CHECK(pod_log_directory("/var/log/pods/", p) == "/var/log/pods/shop_web_6f1c2b9e-3d4a-4c1e-9a55-0d8e7f6a1b2c");
  CHECK(container_log_path("web", 0) == "web/0.log");
  CHECK(container_log_path("web", 12) == "web/12.log");
}

TEST_CASE("sandbox config for kubeadm's etcd", "[cri][sandbox]") {
  Pod p = load(fixture("etcd.yaml"));
  p.metadata.uid = "e7c4f0d1";
  NodeSettings node{.dns = cluster_dns()};
  node.resources.memory_capacity = int64_t(8) << 30;
  auto cfg = make_sandbox_config(p, 2, node);
  REQUIRE(cfg.ok());
  CHECK(cfg->metadata().name() == "etcd");
  CHECK(cfg->metadata().namespace_() == "kube-system");
  CHECK(cfg->metadata().uid() == "e7c4f0d1");
  CHECK(cfg->metadata().attempt() == 2);
  CHECK(cfg->hostname().empty());  // hostNetwork: the node's
  CHECK(cfg->log_directory() == "/var/log/pods/kube-system_etcd_e7c4f0d1");
  CHECK(cfg->labels().at("component") == "etcd");
  CHECK(cfg->labels().at("io.kubernetes.pod.uid") == "e7c4f0d1");
  CHECK(cfg->annotations().at("kubeadm.kubernetes.io/etcd.advertise-client-urls") == "https://10.0.0.10:2379");
  CHECK(strings(cfg->dns_config().servers()) == std::vector<std::string>{"10.0.0.2", "10.0.0.3"});
  CHECK(cfg->port_mappings().empty());
  const auto& lc = cfg->linux();
  CHECK(lc.cgroup_parent() == "/kubepods/burstable/pode7c4f0d1");
  CHECK(lc.security_context().namespace_options().network() == runtime::v1::NODE);
  CHECK(lc.security_context().namespace_options().pid() == runtime::v1::CONTAINER);
  CHECK(lc.security_context().namespace_options().ipc() == runtime::v1::POD);
  CHECK(lc.security_context().seccomp().profile_type() == runtime::v1::SecurityProfile::RuntimeDefault);
  CHECK_FALSE(lc.security_context().privileged());
  CHECK(lc.resources().cpu_shares() == 102);
}

TEST_CASE("sandbox config for a regular pod", "[cri][sandbox]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  NodeSettings node{.dns = cluster_dns()};
  auto cfg = make_sandbox_config(p, 0, node);
  REQUIRE(cfg.ok());
  CHECK(cfg->hostname() == "web-0");
  CHECK(strings(cfg->dns_config().servers()) == std::vector<std::string>{"10.96.0.10", "1.1.1.1"});
  CHECK(cfg->dns_config().searches(0) == "shop.svc.cluster.local");
  CHECK(strings(cfg->dns_config().options()) == std::vector<std::string>{"ndots:2", "edns0"});
  CHECK(cfg->port_mappings_size() == 3);
  const auto& sc = cfg->linux().security_context();
  CHECK(sc.run_as_user().value() == 1000);
  CHECK(sc.run_as_group().value() == 3000);
  CHECK(std::vector<int64_t>(sc.supplemental_groups().begin(), sc.supplemental_groups().end()) ==
        std::vector<int64_t>{2000, 4000});
  CHECK(cfg->linux().sysctls().at("net.ipv4.ip_unprivileged_port_start") == "0");
  CHECK(sc.namespace_options().network() == runtime::v1::POD);
  Pod shared = pod_with("", "  shareProcessNamespace: true\n  hostIPC: true\n");
  auto s2 = make_sandbox_config(shared, 0, node);
  CHECK(s2->linux().security_context().namespace_options().pid() == runtime::v1::POD);
  CHECK(s2->linux().security_context().namespace_options().ipc() == runtime::v1::NODE);
  Pod priv = pod_with("", "  initContainers:\n  - {name: i, image: x, securityContext: {privileged: true}}\n");
  CHECK(make_sandbox_config(priv, 0, node)->linux().security_context().privileged());
}

TEST_CASE("container config for a regular pod", "[cri][container]") {
  Pod p = load(fixture("web-sidecar.yaml"));
  NodeSettings node{.dns = cluster_dns()};
  node.resources.memory_capacity = int64_t(16) << 30;
  ContainerInputs in;
  in.restart_count = 1;
  in.image_ref = "sha256:abcdef";
  in.image_uid = 1000;
  in.env.config_maps = [](std::string_view, std::string_view) -> Result<std::optional<std::map<std::string, std::string>>> {
    return std::optional<std::map<std::string, std::string>>{{{"mode", "fast"}}};
  };
  in.env.secrets = [](std::string_view, std::string_view) -> Result<std::optional<std::map<std::string, std::string>>> {
    return std::optional<std::map<std::string, std::string>>{{{"api-key", "k"}}};
  };
  in.mounts = {{.container_path = "/data", .host_path = "/srv/data", .propagation = "HostToContainer"},
               {.container_path = "/etc/web", .host_path = "/var/lib/kubelet/pods/x/volumes/config", .read_only = true}};
  auto cfg = make_container_config(p, p.spec.containers[0], in, node);
  if (!cfg.ok()) FAIL(cfg.error().message());
  CHECK(cfg->metadata().name() == "web");
  CHECK(cfg->metadata().attempt() == 1);
  CHECK(cfg->image().image() == "sha256:abcdef");
  CHECK(cfg->image().user_specified_image() == "registry.example:5000/web:1.10");
  CHECK(strings(cfg->args()) == std::vector<std::string>{"--port=8080", "--escaped=$(PORT)", "--missing=$(NOPE)"});
  CHECK(cfg->working_dir() == "/srv");
  CHECK(cfg->log_path() == "web/1.log");
  CHECK(cfg->labels().at("io.kubernetes.container.name") == "web");
  CHECK(cfg->annotations().at("io.kubernetes.container.restartCount") == "1");
  REQUIRE(cfg->mounts_size() == 2);
  CHECK(cfg->mounts(0).propagation() == runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
  CHECK(cfg->mounts(1).readonly());
  bool found = false;
  for (const auto& kv : cfg->envs()) if (kv.key() == "PORT") found = kv.value() == "8080";
  CHECK(found);
  const auto& r = cfg->linux().resources();
  CHECK(r.cpu_shares() == 256);
  CHECK(r.cpu_quota() == 100000);
  CHECK(r.memory_limit_in_bytes() == 256 << 20);
  CHECK(r.oom_score_adj() == 1000 - (1000 * 64) / (16 * 1024));
  const auto& sc = cfg->linux().security_context();
  CHECK(strings(sc.capabilities().add_capabilities()) == std::vector<std::string>{"NET_BIND_SERVICE"});
  CHECK(strings(sc.capabilities().drop_capabilities()) == std::vector<std::string>{"ALL"});
  CHECK(sc.readonly_rootfs());
  CHECK(sc.no_new_privs());
  CHECK(sc.run_as_user().value() == 1000);  // from the pod
  CHECK(sc.seccomp().profile_type() == runtime::v1::SecurityProfile::RuntimeDefault);
  CHECK(sc.masked_paths_size() == 11);
  CHECK(sc.readonly_paths_size() == 5);
  CHECK(std::vector<int64_t>(sc.supplemental_groups().begin(), sc.supplemental_groups().end()) ==
        std::vector<int64_t>{2000, 4000});
}

TEST_CASE("security context mapping", "[cri][security]") {
  NodeSettings node;
  ContainerInputs in;
  auto sc = [&](const Pod& p) { return container_security_context(p, p.spec.containers[0], in, node); };

  SECTION("nothing set: unconfined seccomp (or RuntimeDefault with --seccomp-default), masked /proc") {
    Pod p = pod_with("");
    auto s = sc(p);
    CHECK(s->seccomp().profile_type() == runtime::v1::SecurityProfile::Unconfined);
    CHECK_FALSE(s->has_run_as_user());
    CHECK_FALSE(s->no_new_privs());
    CHECK_FALSE(s->has_capabilities());
    CHECK_FALSE(s->has_apparmor());
    node.seccomp_default = true;
    CHECK(sc(p)->seccomp().profile_type() == runtime::v1::SecurityProfile::RuntimeDefault);
  }
  SECTION("container fields override the pod's") {
    Pod p = pod_with("    securityContext: {runAsUser: 5, privileged: true, seLinuxOptions: {level: 's0:c1'}, allowPrivilegeEscalation: true}\n",
                     "  securityContext: {runAsUser: 1, runAsGroup: 2, seLinuxOptions: {type: spc_t}}\n");
    auto s = sc(p);
    CHECK(s->run_as_user().value() == 5);
    CHECK(s->run_as_group().value() == 2);
    CHECK(s->privileged());
    CHECK(s->selinux_options().level() == "s0:c1");
    CHECK(s->selinux_options().type().empty());
    CHECK_FALSE(s->no_new_privs());
  }
  SECTION("seccomp Localhost resolves under the profile root") {
    Pod p = pod_with("    securityContext: {seccompProfile: {type: Localhost, localhostProfile: profiles/audit.json}}\n");
    auto s = sc(p);
    CHECK(s->seccomp().profile_type() == runtime::v1::SecurityProfile::Localhost);
    CHECK(s->seccomp().localhost_ref() == "/var/lib/kubelet/seccomp/profiles/audit.json");
    Pod bad = pod_with("    securityContext: {seccompProfile: {type: Localhost}}\n");
    CHECK(sc(bad).error().message() == "localhostProfile must be set if seccompProfile type is Localhost.");
    Pod podlevel = pod_with("", "  securityContext: {seccompProfile: {type: Unconfined}}\n");
    CHECK(sc(podlevel)->seccomp().profile_type() == runtime::v1::SecurityProfile::Unconfined);
  }
  SECTION("AppArmor from fields and from the beta annotation") {
    Pod p = pod_with("    securityContext: {appArmorProfile: {type: Localhost, localhostProfile: k8s-deny}}\n");
    auto s = sc(p);
    CHECK(s->apparmor().profile_type() == runtime::v1::SecurityProfile::Localhost);
    CHECK(s->apparmor().localhost_ref() == "k8s-deny");
    Pod a = pod_with("");
    a.metadata.annotations["container.apparmor.security.beta.kubernetes.io/c"] = "runtime/default";
    CHECK(sc(a)->apparmor().profile_type() == runtime::v1::SecurityProfile::RuntimeDefault);
  }
  SECTION("runAsNonRoot") {
    Pod root = pod_with("    securityContext: {runAsNonRoot: true, runAsUser: 0}\n");
    CHECK(sc(root).error().message() ==
          "container's runAsUser breaks non-root policy (pod: \"p_ns(1234-5678)\", container: c)");
    Pod nr = pod_with("    securityContext: {runAsNonRoot: true}\n");
    in.image_uid = 0;
    CHECK(sc(nr).error().message() == "container has runAsNonRoot and image will run as root (pod: \"p_ns(1234-5678)\", container: c)");
    in.image_uid.reset();
    in.image_username = "nginx";
    CHECK(sc(nr).error().message().find("image has non-numeric user (nginx)") != std::string::npos);
    in.image_username.clear();
    in.image_uid = 101;
    CHECK(sc(nr)->run_as_user().value() == 101);
    Pod ok = pod_with("    securityContext: {runAsNonRoot: true, runAsUser: 1000}\n");
    in.image_uid = 0;
    CHECK(sc(ok)->run_as_user().value() == 1000);
  }
  SECTION("image user when nothing is set") {
    in.image_username = "app";
    CHECK(sc(pod_with(""))->run_as_username() == "app");
  }
  SECTION("procMount Unmasked clears masked and read-only paths") {
    Pod p = pod_with("    securityContext: {procMount: Unmasked}\n");
    CHECK(sc(p)->masked_paths_size() == 0);
    CHECK(sc(p)->readonly_paths_size() == 0);
  }
  SECTION("hostPID and shared process namespaces") {
    CHECK(sc(pod_with("", "  hostPID: true\n"))->namespace_options().pid() == runtime::v1::NODE);
    CHECK(sc(pod_with("", "  shareProcessNamespace: true\n"))->namespace_options().pid() == runtime::v1::POD);
  }
}
