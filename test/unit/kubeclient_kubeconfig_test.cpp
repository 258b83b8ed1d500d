#include <catch2/catch.hpp>

#if __has_include("config/kubeconfig.h")
#include "agent/kube/client/kubeconfig_adapter.h"
#include "config/kubeconfig.h"

using namespace knode;

TEST_CASE("a resolved kubeconfig becomes the client's RestConfig", "[kubeclient][kubeconfig]") {
  config::RestConfig kc;
  kc.host = "https://10.0.0.1:6443";
  kc.ca_data = "CA PEM";
  kc.cert_file = "/etc/kubernetes/pki/kubelet.crt";
  kc.key_file = "/etc/kubernetes/pki/kubelet.key";
  kc.tls_server_name = "kubernetes";
  kc.bearer_token_file = "/var/run/token";
  kc.exec = config::ExecConfig{.command = "/usr/bin/auth", .args = {"get"}, .env = {{"A", "1"}},
                               .api_version = "client.authentication.k8s.io/v1beta1", .provide_cluster_info = true};
  auto r = kube::rest_config_from_kubeconfig(kc, {.qps = 50, .burst = 100, .user_agent = "kubelet/v1.32.0 (linux/amd64) knode/0.1.0"});
  REQUIRE(r.ok());
  CHECK(r->server == "https://10.0.0.1:6443");
  CHECK(r->ca_pem == "CA PEM");
  CHECK(r->client_cert_file == "/etc/kubernetes/pki/kubelet.crt");
  CHECK(r->tls_server_name == "kubernetes");
  CHECK(r->bearer_token_file == "/var/run/token");
  CHECK(r->qps == 50);
  CHECK(r->burst == 100);
  REQUIRE(r->has_exec);
  CHECK(r->exec.command == "/usr/bin/auth");
  CHECK(r->exec.env.at(0).first == "A");
  CHECK(r->exec.api_version == "client.authentication.k8s.io/v1beta1");
  CHECK(r->exec.provide_cluster_info);

  kc.proxy_url = "http://proxy:3128";
  auto p = kube::rest_config_from_kubeconfig(kc);
  REQUIRE_FALSE(p.ok());
  CHECK_THAT(p.error().message(), Catch::Contains("proxy-url"));
}
#endif
