// Turns a resolved kubeconfig (config::RestConfig from config/kubeconfig.h) into the client's
// RestConfig, adding what the kubeconfig does not carry: QPS/burst, timeout and the user agent.
#pragma once

#include <chrono>
#include <string>

#include "agent/base/result.h"
#include "agent/kube/client/rest_config.h"

namespace knode::config {
struct RestConfig;
}

namespace knode::kube {

struct ClientTuning {
  double qps = 5.0;      // kube-proxy's default; the kubelet passes kubeAPIQPS (50)
  int burst = 10;        // kube-proxy's default; the kubelet passes kubeAPIBurst (100)
  std::chrono::milliseconds timeout{0};
  std::string user_agent;  // e.g. default_user_agent("kubelet")
};

// Fails, naming the setting, for what the client does not implement (basic auth, proxy-url,
// impersonation).
Result<RestConfig> rest_config_from_kubeconfig(const config::RestConfig& kc, const ClientTuning& tuning = {});

}  // namespace knode::kube
