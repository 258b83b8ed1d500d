// Everything `kubelet [flags]` resolves to: the effective KubeletConfiguration (file + drop-ins +
// flags, defaulted and validated as upstream) plus the flag-only settings.
#pragma once

#include <string>
#include <vector>

#include "agent/base/log.h"
#include "agent/base/result.h"
#include "config/kubelet_config.h"
#include "config/kubelet_flags.h"

namespace knode::config {

struct KubeletOptions {
  bool help = false;
  bool version = false;
  log::Options logging;               // from config.logging (-v, --vmodule, --logging-format applied)
  std::vector<std::string> warnings;  // deprecated/legacy flags, leniently decoded fields
  std::string config_file;            // --config
  std::string kubeconfig;             // --kubeconfig ("" → standalone mode)
  KubeletConfiguration config;        // effective, defaulted, validated
  KubeletFlags flags;                 // flag-only settings (root dir, cert dir, node IP, labels, ...)
  // The effective KubeletConfiguration as YAML with apiVersion and kind.
  std::string effective_yaml;
};

// Parses kubelet flags (args excludes argv[0]), loads --config/--config-dir, applies flags.
// Errors are one line naming the file (or flag), the field path and the bad value.
Result<KubeletOptions> load_kubelet_options(const std::vector<std::string>& args);
std::string kubelet_usage();

}  // namespace knode::config
