#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/kubeconfig.h"

using namespace knode::config;

namespace {
std::string fixture(const std::string& rel) { return std::string(KNODE_SOURCE_DIR) + "/test/fixtures/" + rel; }

Kubeconfig load_ok(const std::string& path) {
  auto r = load_kubeconfig(path);
  INFO((r ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  return std::move(*r);
}
RestConfig resolve_ok(const Kubeconfig& kc, ResolveOptions o = {}) {
  auto r = resolve_kubeconfig(kc, o);
  INFO((r ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  return std::move(*r);
}
std::string resolve_err(const Kubeconfig& kc, ResolveOptions o = {}) {
  auto r = resolve_kubeconfig(kc, o);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}
std::string parse_err(const std::string& text) {
  auto r = parse_kubeconfig(text, "kubeconfig.conf", "/base");
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}
}  // namespace

TEST_CASE("kubeconfig: kubeadm's kube-proxy kubeconfig.conf (service account token and CA paths)", "[kubeconfig]") {
  auto kc = load_ok(fixture("proxy/kubeconfig.conf"));
  REQUIRE(kc.clusters.size() == 1);
  CHECK(kc.current_context == "default");
  auto rc = resolve_ok(kc);
  CHECK(rc.host == "https://192.168.56.10:6443");
  CHECK(rc.ca_file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  CHECK(rc.ca_data.empty());
  CHECK(rc.bearer_token.empty());
  CHECK(rc.bearer_token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  CHECK(rc.namespace_ == "default");
  CHECK(rc.context == "default");
  CHECK_FALSE(rc.insecure);
  CHECK_FALSE(rc.exec);
}

TEST_CASE("kubeconfig: embedded -data fields are base64-decoded", "[kubeconfig]") {
  auto kc = load_ok(fixture("kubeconfig/data.kubeconfig"));
  auto rc = resolve_ok(kc);
  CHECK(rc.host == "https://10.0.0.1:6443");
  CHECK(rc.ca_data == "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n");
  CHECK(rc.cert_data == "client-cert-pem\n");
  CHECK(rc.key_data == "client-key-pem\n");
  CHECK(rc.tls_server_name == "kubernetes.default");
  CHECK(rc.proxy_url == "http://proxy.example:3128");
  CHECK(rc.namespace_ == "kube-system");
}

TEST_CASE("kubeconfig: context override, server override, scheme defaulting", "[kubeconfig]") {
  auto kc = load_ok(fixture("kubeconfig/data.kubeconfig"));
  auto rc = resolve_ok(kc, {.context = "basic@insecure", .server = ""});
  CHECK(rc.host == "https://127.0.0.1:8080");  // insecure TLS still means https
  CHECK(rc.insecure);
  CHECK(rc.username == "alice");
  CHECK(rc.password == "s3cret");
  rc = resolve_ok(kc, {.context = "", .server = "https://override:443"});
  CHECK(rc.host == "https://override:443");
  CHECK(rc.cert_data == "client-cert-pem\n");
  Kubeconfig plain;
  plain.clusters.push_back({"c", {.server = "10.1.1.1:8080"}});
  plain.contexts.push_back({"x", {.cluster = "c", .user = ""}});
  plain.current_context = "x";
  CHECK(resolve_ok(plain).host == "http://10.1.1.1:8080");
}

TEST_CASE("kubeconfig: relative paths resolve against the kubeconfig's directory", "[kubeconfig]") {
  auto kc = load_ok(fixture("kubeconfig/sub/relative.kubeconfig"));
  auto rc = resolve_ok(kc);
  const std::string dir = fixture("kubeconfig");
  CHECK(rc.ca_file == dir + "/certs/ca.crt");
  CHECK(rc.cert_file == dir + "/sub/certs/client.crt");
  CHECK(rc.key_file == dir + "/sub/certs/client.key");
  CHECK(rc.bearer_token_file == "/abs/token");
  auto from_text = parse_kubeconfig("users:\n- name: u\n  user:\n    tokenFile: t\n", "x", "/etc/kubernetes");
  REQUIRE(from_text.ok());
  CHECK(from_text->users[0].value.token_file == "/etc/kubernetes/t");
}

TEST_CASE("kubeconfig: exec credential plugins", "[kubeconfig]") {
  auto kc = load_ok(fixture("kubeconfig/exec.kubeconfig"));
  auto rc = resolve_ok(kc, {.context = "beta", .server = ""});
  REQUIRE(rc.exec);
  CHECK(rc.exec->api_version == "client.authentication.k8s.io/v1beta1");
  CHECK(rc.exec->command == "aws");  // PATH lookup, not resolved
  CHECK(rc.exec->args == std::vector<std::string>{"eks", "get-token", "--cluster-name", "demo"});
  REQUIRE(rc.exec->env.size() == 1);
  CHECK(rc.exec->env[0].name == "AWS_PROFILE");
  CHECK(rc.exec->env[0].value == "prod");
  CHECK(rc.exec->install_hint == "install the aws cli");
  CHECK(rc.exec->provide_cluster_info);
  CHECK(rc.exec->interactive_mode == "IfAvailable");  // v1beta1 default
  rc = resolve_ok(kc, {.context = "v1-local", .server = ""});
  CHECK(rc.exec->command == fixture("kubeconfig") + "/bin/get-token");
  CHECK(rc.exec->interactive_mode == "Never");
  CHECK(resolve_err(kc, {.context = "v1-nomode", .server = ""}) ==
        fixture("kubeconfig/exec.kubeconfig") +
            ": invalid configuration: interactiveMode must be specified for v1-nomode to use exec authentication plugin");
}

TEST_CASE("kubeconfig: missing context, unknown user or cluster", "[kubeconfig]") {
  auto kc = load_ok(fixture("kubeconfig/data.kubeconfig"));
  const std::string f = fixture("kubeconfig/data.kubeconfig");
  CHECK(resolve_err(kc, {.context = "nope", .server = ""}) == f + ": context was not found for specified context: nope");
  CHECK(resolve_err(kc, {.context = "ghost", .server = ""}) == f + ": auth info \"nobody\" does not exist");
  auto no_current = load_ok(fixture("kubeconfig/exec.kubeconfig"));
  CHECK(resolve_err(no_current) ==
        fixture("kubeconfig/exec.kubeconfig") + ": invalid configuration: no configuration has been provided (no current-context)");
  Kubeconfig k2;
  k2.path = "k2";
  k2.contexts.push_back({"x", {.cluster = "gone", .user = ""}});
  k2.current_context = "x";
  CHECK(resolve_err(k2) == "k2: cluster \"gone\" does not exist");
}

TEST_CASE("kubeconfig: decoding errors name file and field", "[kubeconfig]") {
  CHECK(parse_err("users:\n- name: u\n  user:\n    client-certificate-data: \"@@@@\"\n") ==
        "kubeconfig.conf: users[0].user.client-certificate-data: illegal base64 data at input byte 0");
  CHECK(parse_err("clusters:\n- name: c\n  cluster:\n    certificate-authority-data: QUJD=\n") ==
        "kubeconfig.conf: clusters[0].cluster.certificate-authority-data: illegal base64 data at input byte 4");
  CHECK(parse_err("kind: Pod\n") == "kubeconfig.conf: kind: unsupported value \"Pod\", want \"Config\"");
  CHECK(parse_err("apiVersion: v2\n") == "kubeconfig.conf: apiVersion: unsupported value \"v2\", want \"v1\"");
  CHECK(parse_err("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n") ==
        "kubeconfig.conf: clusters[0].cluster.insecure-skip-tls-verify: invalid boolean \"maybe\"");
  CHECK(parse_err("clusters: {}\n").rfind("kubeconfig.conf: clusters: expected a list", 0) == 0);
  auto lenient = parse_kubeconfig("whatever: 1\nclusters:\n- name: c\n  cluster:\n    server: s\n    extra: x\n", "k", "/");
  CHECK(lenient.ok());
  CHECK(parse_kubeconfig("", "k", "/").ok());
}

TEST_CASE("kubeconfig: user validation as client-go", "[kubeconfig]") {
  auto make = [](KubeconfigUser u) {
    Kubeconfig k;
    k.path = "k";
    k.clusters.push_back({"c", {.server = "https://s"}});
    k.users.push_back({"u", std::move(u)});
    k.contexts.push_back({"x", {.cluster = "c", .user = "u"}});
    k.current_context = "x";
    return k;
  };
  CHECK(resolve_err(make({.client_certificate = "/c"})) ==
        "k: invalid configuration: client-key-data or client-key must be specified for u to use the clientCert "
        "authentication method.");
  CHECK(resolve_err(make({.token = "t", .username = "a"})) ==
        "k: invalid configuration: more than one authentication method found for u; found [token basicAuth], only one is allowed");
  CHECK(resolve_err(make({.exec = ExecConfig{.command = "x", .api_version = "client.authentication.k8s.io/v1alpha1"}})) ==
        "k: invalid configuration: exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\" for u");
  auto rc = resolve_ok(make({.token = "abc", .token_file = "/t"}));
  CHECK(rc.bearer_token == "abc");
  CHECK(rc.bearer_token_file == "/t");
}

TEST_CASE("kubeconfig: base64 as Go decodes []byte", "[kubeconfig]") {
  CHECK(*decode_base64("aGVsbG8=") == "hello");
  CHECK(*decode_base64("aGVs\nbG8h") == "hello!");
  CHECK(*decode_base64("aA==") == "h");
  CHECK(decode_base64("aGVsbG8").error().message() == "illegal base64 data at input byte 4");
  CHECK(decode_base64("aGV*").error().message() == "illegal base64 data at input byte 3");
}

TEST_CASE("kubeconfig: rest config from flags and in-cluster environment", "[kubeconfig]") {
  auto rc = build_rest_config("https://m:6443", "");
  REQUIRE(rc.ok());
  CHECK(rc->host == "https://m:6443");
  rc = build_rest_config("https://override:1", fixture("proxy/kubeconfig.conf"));
  REQUIRE(rc.ok());
  CHECK(rc->host == "https://override:1");
  CHECK(rc->bearer_token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  rc = build_rest_config("", "", "/sa");
  REQUIRE(rc.ok());
  CHECK(rc->host == "https://[fd00::1]:443");
  CHECK(rc->bearer_token_file == "/sa/token");
  CHECK(rc->ca_file == "/sa/ca.crt");
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_FALSE(build_rest_config("", "").ok());
  CHECK(build_rest_config("", "/nonexistent/kubeconfig").error().message() == "/nonexistent/kubeconfig: cannot read file");
}
