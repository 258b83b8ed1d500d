// The kubelet's command line: the flag-only settings (upstream's KubeletFlags) and the registration
// of every kubelet flag, including the deprecated mirrors of KubeletConfiguration fields, on a
// FlagSet with upstream's names, types, defaults and syntax.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/duration.h"
#include "config/flags.h"
#include "config/kubelet_config.h"

namespace knode::config {

struct KubeletFlags {
  std::string config_file;             // --config
  std::string config_dir;              // --config-dir (drop-ins)
  std::string kubeconfig;              // --kubeconfig ("" → standalone mode)
  std::string bootstrap_kubeconfig;    // --bootstrap-kubeconfig
  std::string cert_dir = "/var/lib/kubelet/pki";
  std::string root_dir = "/var/lib/kubelet";
  std::string hostname_override;
  std::string node_ip;                 // one address, or a dual-stack pair "a,b"
  std::map<std::string, std::string> node_labels;
  std::string cloud_provider;          // "" or "external"
  std::string cloud_config;
  std::string lock_file;
  bool exit_on_lock_contention = false;
  std::string runtime_cgroups;
  std::string image_credential_provider_config;
  std::string image_credential_provider_bin_dir;
  std::string seccomp_profile_root;
  // Deprecated upstream, still accepted.
  std::string pod_infra_container_image;
  Duration minimum_container_ttl_duration;
  int32_t max_per_pod_container_count = 1;
  int32_t max_container_count = -1;
  bool experimental_allocatable_ignore_eviction = false;
  std::string experimental_mounter_path;
  // Removed upstream (dockershim era); accepted with a warning and kept for the agent.
  std::string container_runtime;       // --container-runtime (only "remote" makes sense)
  std::string network_plugin;          // --network-plugin
  std::string cni_bin_dir;             // --cni-bin-dir
  std::string cni_conf_dir;            // --cni-conf-dir
  std::string cni_cache_dir;           // --cni-cache-dir
  int32_t network_plugin_mtu = 0;      // --network-plugin-mtu
  // Global flags.
  bool help = false;
  std::string version;                 // --version[=raw|true]: "" when absent
};

// Deprecation note of a flag that mirrors a KubeletConfiguration field, naming that field
// (e.g. "set maxPods in the --config file instead").
inline std::string config_flag_deprecation(std::string_view field) {
  return "set " + (field.empty() ? std::string("this value") : std::string(field)) + " in the --config file instead";
}

struct KubeletFlagInfo {
  // Flag name → deprecation message (shown in usage, warned about when used).
  std::map<std::string, std::string> deprecated;
  // Flags removed upstream that we still accept, name → warning.
  std::map<std::string, std::string> legacy;
  // Config field path → flag name, to say which flag set a value that fails validation.
  std::map<std::string, std::string> field_of_flag;
};

// Registers every kubelet flag on fs, bound to flags and config. The values in config and flags
// at registration are the defaults shown in usage. Map and list flags replace the bound value on
// their first use and accumulate on repeats, as pflag's map values do.
KubeletFlagInfo add_kubelet_flags(FlagSet& fs, KubeletFlags& flags, KubeletConfiguration& config);

// "key=value:Effect" or "key:Effect", comma-separated (--register-with-taints).
Result<std::vector<Taint>> parse_taints(std::string_view s);

}  // namespace knode::config
