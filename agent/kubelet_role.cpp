// The kubelet role's entry point: load configuration, run until SIGTERM/SIGINT.
#include <cstdio>

#include "agent/base/log.h"
#include "agent/base/signals.h"
#include "agent/roles.h"
#include "config/kubelet_options.h"

namespace knode {

int kubelet_main(const std::vector<std::string>& args) {
  auto loaded = config::load_kubelet_options(args);
  if (!loaded) {
    std::fprintf(stderr, "Error: %s\n", loaded.error().message().c_str());
    return 1;
  }
  config::KubeletOptions& o = *loaded;
  if (o.help) {
    std::fputs(config::kubelet_usage().c_str(), stdout);
    return 0;
  }
  if (o.version) {
    std::printf("Kubernetes %s\n", KNODE_KUBE_VERSION);
    return 0;
  }
  if (auto st = log::configure(o.logging); !st) {
    std::fprintf(stderr, "Error: %s\n", st.message().c_str());
    return 1;
  }
  for (const auto& w : o.warnings) log::warning(w);
  log::info("Starting kubelet", "version", version_string(), "config", o.config_file,
            "mode", o.kubeconfig.empty() ? "standalone" : "cluster");
  if (log::V(2)) log::infov(2, "Effective configuration", "config", o.effective_yaml);

  for (;;) {
    if (auto sig = wait_shutdown_signal(std::chrono::milliseconds(1000))) {
      log::info("Received signal, shutting down", "signal", *sig);
      break;
    }
  }
  log::info("Kubelet stopped");
  return 0;
}

}  // namespace knode
