// `knode config print kubelet|proxy [role flags]`: the effective configuration as YAML.
#include <cstdio>

#include "agent/roles.h"
#include "config/kubelet_options.h"
#include "config/proxy_options.h"

namespace knode {

int config_main(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[0] != "print" || (args[1] != "kubelet" && args[1] != "proxy")) {
    std::fprintf(stderr, "Usage:\n  knode config print kubelet [kubelet flags]\n"
                         "  knode config print proxy [kube-proxy flags]\n");
    return 1;
  }
  std::vector<std::string> rest(args.begin() + 2, args.end());
  std::vector<std::string> warnings;
  std::string yaml;
  if (args[1] == "kubelet") {
    auto o = config::load_kubelet_options(rest);
    if (!o) {
      std::fprintf(stderr, "%s\n", o.error().message().c_str());
      return 1;
    }
    warnings = o->warnings;
    yaml = o->effective_yaml;
  } else {
    auto o = config::load_proxy_options(rest);
    if (!o) {
      std::fprintf(stderr, "%s\n", o.error().message().c_str());
      return 1;
    }
    warnings = o->warnings;
    yaml = o->effective_yaml;
  }
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::fwrite(yaml.data(), 1, yaml.size(), stdout);
  return 0;
}

}  // namespace knode
