// What the API client needs to reach and authenticate to an API server: a plain struct, filled from a
// kubeconfig (config/kubeconfig.h) or by hand in tests. Mirrors client-go's rest.Config.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace knode::kube {

// client.authentication.k8s.io/v1 exec credential plugin (kubeconfig users[].user.exec).
struct ExecConfig {
  std::string command;                 // resolved by the kubeconfig loader (PATH lookup if no '/')
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the agent's environment
  std::string api_version = "client.authentication.k8s.io/v1";
  bool provide_cluster_info = false;   // put spec.cluster into KUBERNETES_EXEC_INFO
  std::string interactive_mode = "Never";
  std::chrono::milliseconds timeout{60'000};  // the plugin is killed after this
};

struct RestConfig {
  std::string server;                  // "https://10.0.0.1:6443" (or "http://" for tests), optional path prefix
  // TLS. PEM bytes win over files when both are given.
  std::string ca_pem;
  std::string ca_file;
  std::string client_cert_pem;
  std::string client_cert_file;
  std::string client_key_pem;
  std::string client_key_file;
  std::string tls_server_name;         // SNI and the name the server certificate must carry
  bool insecure_skip_tls_verify = false;
  // Authentication (at most one of token / token_file / exec is normally set).
  std::string bearer_token;
  std::string bearer_token_file;       // re-read when it changes, and at least once a minute
  bool has_exec = false;
  ExecConfig exec;
  // Client behaviour.
  double qps = 5.0;                    // <= 0: no client-side rate limit
  int burst = 10;
  std::chrono::milliseconds timeout{0};  // per request (not watches); 0 = 60 s default
  std::string user_agent;              // "" = default_user_agent("knode")
  int max_idle_connections = 16;
};

// "kubelet/v1.32.0 (linux/amd64) knode/0.1.0" — upstream's "<command>/<version> (<os>/<arch>) <comment>".
std::string default_user_agent(std::string_view component, std::string_view kube_version = "v1.32.0",
                               std::string_view knode_version = "0.1.0");

}  // namespace knode::kube
