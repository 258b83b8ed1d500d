#include "agent/kube/client/kubeconfig_adapter.h"

#include "config/kubeconfig.h"

namespace knode::kube {

Result<RestConfig> rest_config_from_kubeconfig(const config::RestConfig& kc, const ClientTuning& tuning) {
  std::string where = kc.context.empty() ? std::string("kubeconfig") : "kubeconfig context \"" + kc.context + "\"";
  if (!kc.username.empty() || !kc.password.empty())
    return Error(where + ": basic authentication (username/password) is not supported");
  if (!kc.proxy_url.empty()) return Error(where + ": proxy-url is not supported");
  if (!kc.impersonate.empty()) return Error(where + ": impersonation (as) is not supported");
  RestConfig c{
      .server = kc.host,
      .ca_pem = kc.ca_data,
      .ca_file = kc.ca_file,
      .client_cert_pem = kc.cert_data,
      .client_cert_file = kc.cert_file,
      .client_key_pem = kc.key_data,
      .client_key_file = kc.key_file,
      .tls_server_name = kc.tls_server_name,
      .insecure_skip_tls_verify = kc.insecure,
      .bearer_token = kc.bearer_token,
      .bearer_token_file = kc.bearer_token_file,
      .qps = tuning.qps,
      .burst = tuning.burst,
      .timeout = tuning.timeout,
      .user_agent = tuning.user_agent,
  };
  if (kc.exec) {
    const auto& e = *kc.exec;
    c.has_exec = true;
    c.exec.command = e.command;
    c.exec.args = e.args;
    for (auto& v : e.env) c.exec.env.emplace_back(v.name, v.value);
    if (!e.api_version.empty()) c.exec.api_version = e.api_version;
    c.exec.provide_cluster_info = e.provide_cluster_info;
    if (!e.interactive_mode.empty()) c.exec.interactive_mode = e.interactive_mode;
  }
  return c;
}

}  // namespace knode::kube
