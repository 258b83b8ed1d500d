// Placeholder until the configuration models land; replaced by kubelet_options.cpp / proxy_options.cpp.
#include "config/kubelet_options.h"
#include "config/proxy_options.h"

namespace knode::config {

Result<KubeletOptions> load_kubelet_options(const std::vector<std::string>& args) {
  KubeletOptions o;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") o.help = true;
    else if (a == "--version") o.version = true;
    else return Error("unknown flag: " + a);
  }
  return o;
}
std::string kubelet_usage() { return "Usage:\n  kubelet [flags]\n"; }

Result<ProxyOptions> load_proxy_options(const std::vector<std::string>& args) {
  ProxyOptions o;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") o.help = true;
    else if (a == "--version") o.version = true;
    else return Error("unknown flag: " + a);
  }
  return o;
}
std::string proxy_usage() { return "Usage:\n  kube-proxy [flags]\n"; }

}  // namespace knode::config
