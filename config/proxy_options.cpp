// Placeholder: replaced by the KubeProxyConfiguration loader.
#include "config/proxy_options.h"

namespace knode::config {

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
