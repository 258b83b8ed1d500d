// Everything `kube-proxy [flags]` resolves to: the effective KubeProxyConfiguration plus flag-only
// settings (--cleanup, --write-config-to, --init-only, --dry-run, ...).
#pragma once

#include <string>
#include <vector>

#include "agent/base/log.h"
#include "agent/base/result.h"

namespace knode::config {

struct ProxyOptions {
  bool help = false;
  bool version = false;
  log::Options logging;
  std::vector<std::string> warnings;
  std::string config_file;  // --config
  bool cleanup = false;
  bool dry_run = false;
  bool init_only = false;
  std::string write_config_to;
  std::string effective_yaml;  // the effective KubeProxyConfiguration as YAML
};

Result<ProxyOptions> load_proxy_options(const std::vector<std::string>& args);
std::string proxy_usage();

}  // namespace knode::config
