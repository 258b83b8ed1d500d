// The kubelet's configuration pipeline, in upstream's order: flags over the legacy defaults; then,
// with --config and/or --config-dir, the file (defaulted) with its drop-ins merged and the command
// line applied again on top (flags win; feature gates merge); then validation.
#include "config/kubelet_options.h"

#include <algorithm>

namespace knode::config {
namespace {

const char* const kLongHelp =
    "kubelet keeps the pods bound to this node running.\n"
    "\n"
    "With --kubeconfig it registers the Node with the API server and runs the pods scheduled to it;\n"
    "without, it runs standalone. Static pods come from manifest files (--pod-manifest-path, read\n"
    "again every --file-check-frequency) or from a URL (--manifest-url, fetched every\n"
    "--http-check-frequency). Containers run through a CRI runtime (--container-runtime-endpoint).\n"
    "\n"
    "Settings belong in a KubeletConfiguration file (--config, --config-dir); the flags that mirror\n"
    "its fields still work but are deprecated.\n";

// Which source to name when the effective value of `field` is invalid.
std::string source_of(const std::string& field, const FlagSet& fs, const KubeletFlagInfo& info,
                      const KubeletFlags& flags) {
  // The flag for the field or for its parent struct/map (e.g. evictionHard[memory.available]).
  std::string key = field;
  for (;;) {
    if (auto it = info.field_of_flag.find(key); it != info.field_of_flag.end() && fs.changed(it->second))
      return "flag --" + it->second;
    const size_t cut = std::max(key.rfind('.') == std::string::npos ? 0 : key.rfind('.'),
                                key.rfind('[') == std::string::npos ? 0 : key.rfind('['));
    if (cut == 0) break;
    key = key.substr(0, cut);
  }
  if (!flags.config_file.empty()) return flags.config_file;
  if (!flags.config_dir.empty()) return flags.config_dir;
  return "kubelet configuration";
}

}  // namespace

std::string kubelet_usage() {
  FlagSet fs("kubelet");
  KubeletFlags flags;
  KubeletConfiguration config = kubelet_flag_defaults();
  add_kubelet_flags(fs, flags, config);
  return std::string(kLongHelp) + "\nUsage:\n  kubelet [flags]\n\nFlags:\n" + fs.usage();
}

Result<KubeletOptions> load_kubelet_options(const std::vector<std::string>& args) {
  KubeletOptions o;
  o.config = kubelet_flag_defaults();
  FlagSet fs("kubelet");
  const KubeletFlagInfo info = add_kubelet_flags(fs, o.flags, o.config);
  if (auto st = fs.parse(args); !st) return Error("failed to parse kubelet flag: " + st.message());
  if (!fs.args().empty()) return Error("unknown command " + fs.args().front());
  o.help = o.flags.help;
  o.version = !o.flags.version.empty() && o.flags.version != "false";
  if (o.help || o.version) return o;

  // Deprecation and legacy notices, once per flag.
  for (const auto& name : fs.changed_flags()) {
    if (auto it = info.deprecated.find(name); it != info.deprecated.end())
      o.warnings.push_back("Flag --" + name + " has been deprecated, " + it->second);
    if (auto it = info.legacy.find(name); it != info.legacy.end()) o.warnings.push_back(it->second);
  }
  if (!o.flags.container_runtime.empty() && o.flags.container_runtime != "remote")
    return Error("flag --container-runtime: invalid value \"" + o.flags.container_runtime +
                 "\": only \"remote\" (a CRI runtime) is supported");
  if (!o.flags.cloud_provider.empty() && o.flags.cloud_provider != "external")
    return Error("flag --cloud-provider: invalid value \"" + o.flags.cloud_provider +
                 "\": only \"external\" or \"\" is supported");

  if (!o.flags.config_file.empty() || !o.flags.config_dir.empty()) {
    KubeletConfiguration file_config = o.config;
    if (!o.flags.config_file.empty()) {
      auto loaded = load_kubelet_config_file(o.flags.config_file);
      if (!loaded) return loaded.error();
      file_config = std::move(loaded->config);
      o.warnings.insert(o.warnings.end(), loaded->warnings.begin(), loaded->warnings.end());
    }
    if (!o.flags.config_dir.empty()) {
      if (auto st = merge_kubelet_config_dir(o.flags.config_dir, file_config, o.warnings); !st) return st.error();
    }
    // Flags take precedence over the files: parse the command line again onto the file's values.
    const std::map<std::string, bool> file_gates = file_config.feature_gates;
    FlagSet again("kubelet");
    KubeletFlags throwaway;
    add_kubelet_flags(again, throwaway, file_config);
    if (auto st = again.parse(args); !st) return Error("failed to parse kubelet flag: " + st.message());
    for (const auto& [gate, on] : file_gates) file_config.feature_gates.emplace(gate, on);
    o.config = std::move(file_config);
  }

  if (auto err = validate_kubelet_config(o.config)) {
    return Error(source_of(err->path, fs, info, o.flags) + ": " + err->path + ": " + err->message);
  }
  o.config_file = o.flags.config_file;
  o.kubeconfig = o.flags.kubeconfig;
  o.logging = to_log_options(o.config.logging);
  o.effective_yaml = encode_kubelet_config(o.config);
  return o;
}

}  // namespace knode::config
