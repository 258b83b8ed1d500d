// Everything `kube-proxy [flags]` resolves to: the effective KubeProxyConfiguration plus flag-only
// settings (--cleanup, --write-config-to, --init-only, --dry-run, ...).
//
// Semantics as upstream kube-proxy 1.32: without --config, flags set the configuration (the
// deprecated --healthz-port/--metrics-port adjust the bind addresses); with --config, the file
// replaces every configuration flag except the logging flags (-v, --vmodule, --logging-format, ...,
// which win over the file) and --hostname-override. --master always overrides the kubeconfig's
// server. Platform defaults are then applied (mode "" → iptables, detectLocalMode "" →
// ClusterCIDR, nftables without nodePortAddresses → ["primary"]) and the result is validated.
#pragma once

#include <string>
#include <vector>

#include "agent/base/log.h"
#include "agent/base/result.h"
#include "config/proxy_config.h"

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

  KubeProxyConfiguration config;  // effective: defaulted, platform defaults applied, validated
  std::string master;             // --master: overrides the kubeconfig's server URL
  std::vector<std::string> changed_flags;  // flags given on the command line, in order
};

// Parses kube-proxy flags (args excludes argv[0]), loads --config, applies flags as upstream does.
// Errors are one line naming the file (or flag), the field path and the bad value.
Result<ProxyOptions> load_proxy_options(const std::vector<std::string>& args);
std::string proxy_usage();

}  // namespace knode::config
