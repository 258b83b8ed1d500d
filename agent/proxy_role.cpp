// The kube-proxy role's entry point: load configuration, run until SIGTERM/SIGINT.
#include <cstdio>
#include <fstream>

#include "agent/base/log.h"
#include "agent/base/signals.h"
#include "agent/roles.h"
#include "config/proxy_options.h"

namespace knode {

int proxy_main(const std::vector<std::string>& args) {
  auto loaded = config::load_proxy_options(args);
  if (!loaded) {
    std::fprintf(stderr, "Error: %s\n", loaded.error().message().c_str());
    return 1;
  }
  config::ProxyOptions& o = *loaded;
  if (o.help) {
    std::fputs(config::proxy_usage().c_str(), stdout);
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
  if (!o.write_config_to.empty()) {
    std::ofstream out(o.write_config_to, std::ios::trunc);
    out << o.effective_yaml;
    if (!out) {
      log::error_msg("Failed to write configuration", "path", o.write_config_to);
      return 1;
    }
    log::info("Wrote configuration", "path", o.write_config_to);
    return 0;
  }
  log::info("Starting kube-proxy", "version", version_string(), "config", o.config_file);
  if (o.init_only) {
    log::info("Initialization done (--init-only), exiting");
    return 0;
  }
  for (;;) {
    if (auto sig = wait_shutdown_signal(std::chrono::milliseconds(1000))) {
      log::info("Received signal, shutting down", "signal", *sig);
      break;
    }
  }
  log::info("kube-proxy stopped");
  return 0;
}

}  // namespace knode
