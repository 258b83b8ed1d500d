// The Pod object model: decoding real manifests from YAML and JSON, round trips, field-named
// errors, YAML 1.1 scalars, defaulting and validation.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "agent/kube/pod.h"

using namespace knode::kube;
using knode::Status;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(KNODE_SOURCE_DIR) + "/test/fixtures/pods/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Pod must_decode(const std::string& text) {
  auto r = decode_pod(text);
  if (!r.ok()) FAIL(r.error().message());
  return std::move(*r);
}

std::string decode_error(const std::string& text, PodDecodeOptions opts = {}) {
  auto r = decode_pod(text, opts);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}

// A minimal valid pod manifest with `container_extra` spliced into its only container.
std::string pod_yaml(const std::string& container_extra, const std::string& spec_extra = "") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\nspec:\n" + spec_extra +
         "  containers:\n  - name: c\n    image: busybox\n" + container_extra;
}

}  // namespace

TEST_CASE("kubeadm's etcd manifest decodes from YAML", "[kube][pod]") {
  Pod p = must_decode(fixture("etcd.yaml"));
  CHECK(p.api_version == "v1");
  CHECK(p.kind == "Pod");
  CHECK(p.metadata.name == "etcd");
  CHECK(p.metadata.namespace_ == "kube-system");
  CHECK(p.metadata.creation_timestamp.empty());
  CHECK(p.metadata.labels.at("component") == "etcd");
  CHECK(p.metadata.annotations.at("kubeadm.kubernetes.io/etcd.advertise-client-urls") == "https://10.0.0.10:2379");
  CHECK(p.spec.host_network);
  CHECK(p.spec.priority == 2000001000);
  CHECK(p.spec.priority_class_name == "system-node-critical");
  REQUIRE(p.spec.security_context);
  REQUIRE(p.spec.security_context->seccomp_profile);
  CHECK(p.spec.security_context->seccomp_profile->type == "RuntimeDefault");
  REQUIRE(p.spec.containers.size() == 1);
  const Container& c = p.spec.containers[0];
  CHECK(c.name == "etcd");
  CHECK(c.image == "registry.k8s.io/etcd:3.5.16-0");
  CHECK(c.command.size() == 20);
  CHECK(c.command[0] == "etcd");
  CHECK(c.resources.requests.at("cpu").milli_value() == 100);
  CHECK(c.resources.requests.at("memory").value() == 100 * 1024 * 1024);
  REQUIRE(c.liveness_probe);
  REQUIRE(c.liveness_probe->http_get);
  CHECK(c.liveness_probe->http_get->port == IntOrString::of(2381));
  CHECK(c.liveness_probe->http_get->host == "127.0.0.1");
  CHECK(c.liveness_probe->failure_threshold == 8);
  CHECK(c.liveness_probe->timeout_seconds == 15);
  REQUIRE(c.startup_probe);
  CHECK(c.startup_probe->failure_threshold == 24);
  REQUIRE(p.spec.volumes.size() == 2);
  REQUIRE(p.spec.volumes[0].host_path);
  CHECK(p.spec.volumes[0].host_path->path == "/etc/kubernetes/pki/etcd");
  CHECK(p.spec.volumes[0].host_path->type == "DirectoryOrCreate");
  CHECK(validate_pod(p).ok());
}

TEST_CASE("kubeadm's kube-apiserver manifest: named probe ports and read-only mounts", "[kube][pod]") {
  Pod p = must_decode(fixture("kube-apiserver.yaml"));
  const Container& c = p.spec.containers.at(0);
  REQUIRE(c.ports.size() == 1);
  CHECK(c.ports[0].name == "probe-port");
  CHECK(c.ports[0].container_port == 6443);
  REQUIRE(c.readiness_probe);
  CHECK(c.readiness_probe->http_get->port == IntOrString::of(std::string("probe-port")));
  CHECK(c.readiness_probe->http_get->scheme == "HTTPS");
  CHECK(c.volume_mounts.size() == 5);
  CHECK(c.volume_mounts[0].read_only);
  CHECK(p.spec.volumes.size() == 5);
  CHECK(validate_pod(p).ok());
}

TEST_CASE("YAML and JSON forms of a manifest decode to the same Pod", "[kube][pod]") {
  for (const char* name : {"etcd", "web-sidecar"}) {
    INFO(name);
    Pod from_yaml = must_decode(fixture(std::string(name) + ".yaml"));
    auto from_json = decode_pod_json(fixture(std::string(name) + ".json"));
    REQUIRE(from_json.ok());
    CHECK(from_yaml == *from_json);
  }
}

TEST_CASE("a pod with sidecars, probes, env sources and volumes decodes fully", "[kube][pod]") {
  Pod p = must_decode(fixture("web-sidecar.yaml"));
  CHECK(p.metadata.uid == "6f1c2b9e-3d4a-4c1e-9a55-0d8e7f6a1b2c");
  CHECK(p.metadata.labels.at("version") == "1.10");
  CHECK(p.metadata.annotations.at("note") == "multi-line\ntext\n");
  REQUIRE(p.metadata.owner_references.size() == 1);
  CHECK(p.metadata.owner_references[0].controller == true);
  CHECK(p.spec.automount_service_account_token == true);  // YAML 1.1 `yes`
  CHECK(p.spec.termination_grace_period_seconds == 45);
  REQUIRE(p.spec.dns_config);
  CHECK(p.spec.dns_config->options.size() == 2);
  CHECK(p.spec.dns_config->options[0].value == "2");
  CHECK_FALSE(p.spec.dns_config->options[1].value.has_value());
  CHECK(p.spec.security_context->fs_group == 2000);
  CHECK(p.spec.security_context->sysctls.at(0).name == "net.ipv4.ip_unprivileged_port_start");
  CHECK_FALSE(p.spec.affinity.empty());
  CHECK(p.spec.affinity.text.find("requiredDuringSchedulingIgnoredDuringExecution") != std::string::npos);
  CHECK(p.spec.tolerations.at(0).toleration_seconds == 300);
  CHECK(p.spec.host_aliases.at(0).hostnames.size() == 2);

  REQUIRE(p.spec.init_containers.size() == 2);
  CHECK_FALSE(is_sidecar(p.spec.init_containers[0]));
  CHECK(is_sidecar(p.spec.init_containers[1]));
  CHECK(p.spec.init_containers[0].env.at(0).name == "DB_URL");  // through an anchor

  const Container& web = p.spec.containers.at(0);
  CHECK(web.args.at(1) == "--escaped=$$(PORT)");
  CHECK(web.ports.size() == 3);
  CHECK(web.ports[0].host_port == 18080);
  CHECK(web.ports[2].protocol == "UDP");
  CHECK(web.env_from.at(0).prefix == "CFG_");
  CHECK(web.env_from.at(1).secret_ref->optional == true);
  CHECK(web.env.size() == 7);
  CHECK(web.env[1].value == "postgres://db.local/web");  // alias
  CHECK(web.env[2].value_from->field_ref->field_path == "metadata.name");
  CHECK(web.env[4].value_from->resource_field_ref->divisor->value() == 1024 * 1024);
  CHECK(web.env[5].value_from->secret_key_ref->key == "api-key");
  CHECK(web.resources.limits.at("cpu").milli_value() == 1000);
  // A merge key: readinessProbe takes httpGet and initialDelaySeconds from the liveness probe.
  REQUIRE(web.readiness_probe);
  CHECK(web.readiness_probe->http_get->path == "/healthz");
  CHECK(web.readiness_probe->initial_delay_seconds == 5);
  CHECK(web.readiness_probe->period_seconds == 3);
  CHECK(web.liveness_probe->period_seconds == 0);
  CHECK(web.liveness_probe->http_get->http_headers.at(0).value == "1");
  CHECK(web.startup_probe->tcp_socket->port == IntOrString::of(8080));
  CHECK(web.lifecycle->pre_stop->exec->command.at(2) == "sleep 5 && kill -TERM 1");
  CHECK(web.lifecycle->post_start->sleep->seconds == 1);
  CHECK(web.volume_mounts[3].sub_path_expr == "$(POD_NAME)");
  CHECK(web.volume_mounts[4].mount_propagation == "HostToContainer");
  CHECK(web.security_context->capabilities->drop.at(0) == "ALL");
  CHECK(web.security_context->allow_privilege_escalation == false);

  const auto& v = p.spec.volumes;
  REQUIRE(v.size() == 8);
  CHECK(v[1].empty_dir->medium == "Memory");
  CHECK(v[1].empty_dir->size_limit->value() == 128 * 1024 * 1024);
  CHECK(v[2].config_map->items.at(0).mode == 0400);  // YAML 1.1 octal
  CHECK(v[3].secret->default_mode == 0440);
  CHECK(v[4].projected->sources.size() == 3);
  CHECK(v[4].projected->sources[0].service_account_token->audience == "vault");
  CHECK(v[5].downward_api->items.at(0).resource_field_ref->resource == "limits.cpu");
  CHECK(v[6].host_path->type == "Directory");
  // Sources the agent does not model are held as JSON.
  REQUIRE(v[7].other.count("persistentVolumeClaim"));
  CHECK(v[7].other.at("persistentVolumeClaim").text == R"({"claimName":"web-data","readOnly":true})");
  apply_defaults(p);
  Status valid = validate_pod(p);
  CHECK(valid.message() == "");
}

TEST_CASE("encoding round-trips every modelled field", "[kube][pod]") {
  for (const char* name : {"etcd.yaml", "kube-apiserver.yaml", "web-sidecar.yaml", "web-sidecar.json"}) {
    INFO(name);
    Pod p = must_decode(fixture(name));
    std::string json = encode_pod_json(p);
    auto again = decode_pod_json(json);
    REQUIRE(again.ok());
    CHECK(*again == p);
    CHECK(encode_pod_json(*again) == json);
  }
  Pod p = must_decode(fixture("web-sidecar.yaml"));
  std::string json = encode_pod_json(p);
  CHECK(json.find(R"("persistentVolumeClaim":{"claimName":"web-data","readOnly":true})") != std::string::npos);
  CHECK(json.find(R"("port":"http")") != std::string::npos);
  CHECK(json.find(R"("sleep 5 \u0026\u0026 kill -TERM 1")") != std::string::npos);  // Go's escaping
  CHECK(json.find(R"("containers":[{"name":"web")") != std::string::npos);
}

TEST_CASE("decoding errors name the object and the field path", "[kube][pod][errors]") {
  std::string etcd = fixture("etcd.yaml");
  SECTION("a string where an integer belongs") {
    std::string text = pod_yaml("    ports:\n    - containerPort: 80\n    - containerPort: abc\n");
    text.replace(text.find("name: p"), 7, "name: etcd");
    text.replace(text.find("namespace: ns"), 13, "namespace: kube-system");
    CHECK(decode_error(text) ==
          R"(pod "kube-system/etcd": spec.containers[0].ports[1].containerPort: expected integer, got "abc")");
  }
  SECTION("JSON gives the same message") {
    std::string text = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"etcd","namespace":"kube-system"},
      "spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80},{"containerPort":"abc"}]}]}})";
    CHECK(decode_error(text) ==
          R"(pod "kube-system/etcd": spec.containers[0].ports[1].containerPort: expected integer, got "abc")");
  }
  SECTION("an unquoted number in a string field is rejected, as upstream does") {
    CHECK(decode_error(pod_yaml("    env:\n    - name: PORT\n      value: 8080\n")) ==
          R"(pod "ns/p": spec.containers[0].env[0].value: expected string, got 8080)");
  }
  SECTION("a YAML 1.1 boolean in a string field is rejected") {
    CHECK(decode_error(pod_yaml("    env:\n    - name: DEBUG\n      value: yes\n")) ==
          R"(pod "ns/p": spec.containers[0].env[0].value: expected string, got true)");
  }
  SECTION("label values must be strings") {
    std::string text = pod_yaml("");
    text.replace(text.find("  namespace: ns\n"), 15, "  namespace: ns\n  labels:\n    enabled: on\n");
    CHECK(decode_error(text) == R"(pod "ns/p": metadata.labels.enabled: expected string, got true)");
  }
  SECTION("out of range integers") {
    CHECK(decode_error(pod_yaml("    ports:\n    - containerPort: 3000000000\n")) ==
          R"(pod "ns/p": spec.containers[0].ports[0].containerPort: expected integer, got 3000000000 (out of range))");
  }
  SECTION("bad quantities") {
    CHECK(decode_error(pod_yaml("    resources:\n      limits:\n        cpu: 1x\n")) ==
          R"(pod "ns/p": spec.containers[0].resources.limits.cpu: quantity "1x": unable to parse quantity's suffix)");
  }
  SECTION("wrong container shapes") {
    CHECK(decode_error(pod_yaml("    command: /bin/sh\n")) ==
          R"(pod "ns/p": spec.containers[0].command: expected array, got "/bin/sh")");
    CHECK(decode_error(pod_yaml("    securityContext: [1]\n")) ==
          R"(pod "ns/p": spec.containers[0].securityContext: expected object, got array)");
  }
  SECTION("a pod without a name is labelled by kind only") {
    CHECK(decode_error("{\"spec\":{\"hostNetwork\":\"yes\"}}") == "pod: spec.hostNetwork: expected boolean, got \"yes\"");
  }
  SECTION("wrong kind or apiVersion") {
    CHECK(decode_error("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n") ==
          R"(pod "d": kind: expected "Pod", got "Deployment")");
    CHECK(decode_error("apiVersion: v2\nkind: Pod\nmetadata: {name: d}\n") ==
          R"(pod "d": apiVersion: expected "v1", got "v2")");
  }
  SECTION("manifests must carry type metadata when asked") {
    CHECK(decode_error("metadata: {name: d}\n", {.require_type_meta = true}) ==
          R"(pod "d": kind: required field is missing)");
    CHECK(decode_pod("metadata: {name: d}\n").ok());
  }
  SECTION("syntax errors") {
    CHECK(decode_error("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n").find("pod: yaml: line") == 0);
    CHECK(decode_error("{\"apiVersion\": \"v1\",").find("pod: invalid JSON") == 0);
    CHECK(decode_error("- a\n- b\n") == "pod: expected a JSON object, got array");
  }
  SECTION("unknown fields are tolerated") {
    auto r = decode_pod(pod_yaml("    futureField: {x: 1}\n", "  anotherFuture: 3\n"));
    CHECK(r.ok());
  }
}

TEST_CASE("YAML 1.1 scalars resolve as upstream's sigs.k8s.io/yaml does", "[kube][yaml]") {
  auto pod = [](const std::string& extra) { return decode_pod(pod_yaml(extra)); };
  CHECK(pod("    tty: on\n")->spec.containers[0].tty);
  CHECK(pod("    tty: Y\n")->spec.containers[0].tty);
  CHECK_FALSE(pod("    tty: off\n")->spec.containers[0].tty);
  CHECK(pod("    ports:\n    - containerPort: 0x1F90\n")->spec.containers[0].ports[0].container_port == 8080);
  CHECK(pod("    ports:\n    - containerPort: 017620\n")->spec.containers[0].ports[0].container_port == 8080);
  CHECK(pod("    ports:\n    - containerPort: 8_080\n")->spec.containers[0].ports[0].container_port == 8080);
  CHECK(pod("    ports:\n    - containerPort: 8080.0\n")->spec.containers[0].ports[0].container_port == 8080);
  CHECK(pod("    ports:\n    - containerPort: 0o17620\n")->spec.containers[0].ports[0].container_port == 8080);
  // Quoted scalars are always strings, explicit tags are honoured.
  CHECK(pod("    env:\n    - {name: A, value: \"yes\"}\n")->spec.containers[0].env[0].value == "yes");
  CHECK(pod("    env:\n    - {name: A, value: '0755'}\n")->spec.containers[0].env[0].value == "0755");
  CHECK(pod("    env:\n    - {name: A, value: !!str 8080}\n")->spec.containers[0].env[0].value == "8080");
  CHECK(pod("    env:\n    - name: A\n      value: >-\n        folded\n        text\n")->spec.containers[0].env[0].value == "folded text");
  // Even a bare N is a YAML 1.1 boolean.
  CHECK_FALSE(pod("    env:\n    - name: N\n").ok());
  // Nulls are absent values.
  CHECK(pod("    workingDir: ~\n")->spec.containers[0].working_dir.empty());
  CHECK(pod("    workingDir: null\n")->spec.containers[0].working_dir.empty());
  // Quantities accept numbers.
  CHECK(pod("    resources:\n      limits: {cpu: 0.5, memory: 1e9}\n")->spec.containers[0].resources.limits.at("cpu").milli_value() == 500);
  CHECK(pod("    resources:\n      limits: {cpu: 0.5, memory: 1e9}\n")->spec.containers[0].resources.limits.at("memory").value() == 1000000000);
  // Non-finite floats cannot become JSON.
  CHECK_FALSE(pod("    ports:\n    - containerPort: .inf\n").ok());
  // Non-string keys are stringified.
  std::string text = pod_yaml("");
  text.replace(text.find("  namespace: ns\n"), 15, "  namespace: ns\n  labels:\n    yes: a\n    12: b\n");
  auto r = decode_pod(text);
  REQUIRE(r.ok());
  CHECK(r->metadata.labels.at("true") == "a");
  CHECK(r->metadata.labels.at("12") == "b");
}

TEST_CASE("quantities parse and round as upstream's", "[kube][quantity]") {
  auto q = [](const char* s) {
    auto r = Quantity::parse(s);
    if (!r.ok()) FAIL(r.error().message());
    return *r;
  };
  CHECK(q("100m").milli_value() == 100);
  CHECK(q("100m").value() == 1);  // Value() rounds up
  CHECK(q("1").milli_value() == 1000);
  CHECK(q("1.5").milli_value() == 1500);
  CHECK(q("0.1m").milli_value() == 1);
  CHECK(q("1Ki").value() == 1024);
  CHECK(q("1.5Gi").value() == 1610612736);
  CHECK(q("128974848").value() == 128974848);
  CHECK(q("129e6").value() == 129000000);
  CHECK(q("129M").value() == 129000000);
  CHECK(q("123Mi").value() == 128974848);
  CHECK(q("1E").value() == 1000000000000000000);
  CHECK(q("2Ei").value() == 2305843009213693952);
  CHECK(q("-1").value() == -1);
  CHECK(q("+5k").value() == 5000);
  CHECK(q("5n").milli_value() == 1);
  CHECK(q("0").is_zero());
  CHECK(q("1Gi") == q("1073741824"));
  CHECK(q("500m") < q("1"));
  CHECK(q("1Gi").text() == "1Gi");
  for (const char* bad : {"", "abc", "1x", "1.2.3", "--1", "1e", "Mi", "1 Gi"}) {
    INFO(bad);
    CHECK_FALSE(Quantity::parse(bad).ok());
  }
  CHECK(Quantity::from_milli(250).text() == "250m");
  CHECK(Quantity::from_milli(2000).text() == "2");
}

TEST_CASE("defaulting fills what upstream's API defaulting fills", "[kube][defaults]") {
  Pod p = must_decode(pod_yaml(
      "    ports:\n    - containerPort: 80\n"
      "    resources:\n      limits: {cpu: 500m, memory: 128Mi}\n      requests: {cpu: 100m}\n"
      "    livenessProbe:\n      httpGet: {port: 80}\n"
      "    readinessProbe:\n      exec: {command: [/bin/true]}\n      periodSeconds: 2\n"
      "    env:\n    - name: NAME\n      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n",
      "  volumes:\n  - name: scratch\n  - name: s\n    secret: {secretName: x}\n"
      "  - name: t\n    projected:\n      sources:\n      - serviceAccountToken: {path: token}\n"
      "  - name: h\n    hostPath: {path: /x}\n"));
  apply_defaults(p);
  const PodSpec& s = p.spec;
  CHECK(s.restart_policy == "Always");
  CHECK(s.dns_policy == "ClusterFirst");
  CHECK(s.termination_grace_period_seconds == 30);
  CHECK(s.scheduler_name == "default-scheduler");
  CHECK(s.enable_service_links == true);
  CHECK(s.security_context.has_value());
  const Container& c = s.containers[0];
  CHECK(c.image_pull_policy == "Always");  // busybox has no tag
  CHECK(c.termination_message_path == "/dev/termination-log");
  CHECK(c.termination_message_policy == "File");
  CHECK(c.ports[0].protocol == "TCP");
  CHECK(c.ports[0].host_port == 0);
  CHECK(c.resources.requests.at("cpu").milli_value() == 100);      // kept
  CHECK(c.resources.requests.at("memory").value() == 128 << 20);   // from the limit
  CHECK(c.liveness_probe->timeout_seconds == 1);
  CHECK(c.liveness_probe->period_seconds == 10);
  CHECK(c.liveness_probe->success_threshold == 1);
  CHECK(c.liveness_probe->failure_threshold == 3);
  CHECK(c.liveness_probe->http_get->path == "/");
  CHECK(c.liveness_probe->http_get->scheme == "HTTP");
  CHECK(c.readiness_probe->period_seconds == 2);
  CHECK(c.env[0].value_from->field_ref->api_version == "v1");
  CHECK(s.volumes[0].empty_dir.has_value());
  CHECK(s.volumes[1].secret->default_mode == 0644);
  CHECK(s.volumes[2].projected->default_mode == 0644);
  CHECK(s.volumes[2].projected->sources[0].service_account_token->expiration_seconds == 3600);
  CHECK(s.volumes[3].host_path->type == "");

  SECTION("hostNetwork pods get hostPort = containerPort") {
    Pod h = must_decode(pod_yaml("    ports:\n    - containerPort: 80\n", "  hostNetwork: true\n"));
    apply_defaults(h);
    CHECK(h.spec.containers[0].ports[0].host_port == 80);
  }
  SECTION("defaulting is idempotent") {
    Pod again = p;
    apply_defaults(again);
    CHECK(again == p);
  }
}

TEST_CASE("image pull policy comes from the tag", "[kube][defaults]") {
  CHECK(default_image_pull_policy("nginx") == "Always");
  CHECK(default_image_pull_policy("nginx:latest") == "Always");
  CHECK(default_image_pull_policy("nginx:1.27") == "IfNotPresent");
  CHECK(default_image_pull_policy("localhost:5000/nginx") == "Always");
  CHECK(default_image_pull_policy("localhost:5000/nginx:1.2") == "IfNotPresent");
  CHECK(default_image_pull_policy("registry.k8s.io/pause@sha256:0123") == "IfNotPresent");
  CHECK(default_image_pull_policy("nginx:latest@sha256:0123") == "Always");
}

TEST_CASE("validation reports the essentials with field names", "[kube][validation]") {
  auto errors = [](const std::string& yaml) {
    auto r = decode_pod(yaml);
    REQUIRE(r.ok());
    Pod p = *r;
    apply_defaults(p);
    Status s = validate_pod(p);
    REQUIRE_FALSE(s.ok());
    return s.message();
  };
  CHECK(errors(pod_yaml("", "  initContainers:\n  - {name: c, image: x}\n")) ==
        R"(pod "ns/p": spec.containers[0].name: Duplicate value: "c")");
  CHECK(errors("metadata: {name: p}\nspec:\n  containers:\n  - name: c\n") ==
        R"(pod "p": spec.containers[0].image: Required value)");
  CHECK(errors("metadata: {name: p}\nspec: {}\n") == R"(pod "p": spec.containers: Required value)");
  CHECK(errors(pod_yaml("    ports:\n    - containerPort: 70000\n")) ==
        R"(pod "ns/p": spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive)");
  CHECK(errors(pod_yaml("    ports:\n    - {containerPort: 80, protocol: ICMP}\n")) ==
        R"(pod "ns/p": spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP")");
  CHECK(errors(pod_yaml("    ports:\n    - {containerPort: 80, hostPort: 81}\n", "  hostNetwork: true\n")) ==
        "pod \"ns/p\": spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true");
  CHECK(errors(pod_yaml("", "  restartPolicy: Sometimes\n")) ==
        R"(pod "ns/p": spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure")");
  CHECK(errors(pod_yaml("    volumeMounts:\n    - {name: nope, mountPath: /x}\n")) ==
        R"(pod "ns/p": spec.containers[0].volumeMounts[0].name: Not found: "nope")");
  CHECK(errors(pod_yaml("", "  dnsPolicy: None\n")) ==
        "pod \"ns/p\": spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None");
  CHECK(errors(pod_yaml("", "  volumes:\n  - {name: v, emptyDir: {}}\n  - {name: v, emptyDir: {}}\n")) ==
        R"(pod "ns/p": spec.volumes[1].name: Duplicate value: "v")");
  CHECK(errors("metadata: {name: Bad_Name}\nspec:\n  containers:\n  - {name: c, image: x}\n").find(
            R"(metadata.name: Invalid value: "Bad_Name")") != std::string::npos);
  CHECK(errors(pod_yaml("    livenessProbe: {periodSeconds: 3}\n")) ==
        R"(pod "ns/p": spec.containers[0].livenessProbe: Required value: must specify a handler type)");
  CHECK(errors(pod_yaml("    livenessProbe:\n      exec: {command: [x]}\n      successThreshold: 2\n")) ==
        R"(pod "ns/p": spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1)");
  CHECK(errors(pod_yaml("    resources: {requests: {cpu: 2}, limits: {cpu: 1}}\n")) ==
        R"(pod "ns/p": spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1)");
  CHECK(errors(pod_yaml("    resources: {requests: {memory: -1Mi}}\n")) ==
        R"(pod "ns/p": spec.containers[0].resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0)");
  // Several errors are all reported.
  CHECK(errors("metadata: {name: p}\nspec:\n  containers:\n  - {name: c}\n  - {name: c, image: x}\n") ==
        R"(pod "p": spec.containers[0].image: Required value; spec.containers[1].name: Duplicate value: "c")");
}
