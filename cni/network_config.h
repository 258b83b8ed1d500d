// Network configurations: a .conflist (a named list of plugins) or a .conf/.json (one plugin, wrapped
// into a list as libcni does), loaded from a conf dir in lexical order.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"

namespace knode::cni {

struct PluginConfig {
  std::string type;
  std::string name;                          // the plugin object's own "name", if it has one
  std::map<std::string, bool> capabilities;  // what it declares it accepts in runtimeConfig
  std::string bytes;                         // the plugin object as JSON (keys sorted, as libcni re-encodes it)
};

struct NetworkConfigList {
  std::string name;
  std::string cni_version;                 // the version used: highest of cniVersion/cniVersions knode speaks
  std::vector<std::string> declared_versions;  // cniVersion and cniVersions as written, for negotiation
  bool disable_check = false;
  bool disable_gc = false;
  std::vector<PluginConfig> plugins;
  std::string bytes;   // the list's bytes; cached base64 as "config" (a .conf gets libcni's wrapper)
  std::string source;  // the file it came from, for messages
};

// A configuration list (.conflist content). Errors read "<source>: <field>: <problem>".
Result<NetworkConfigList> parse_network_list(std::string_view bytes, std::string_view source = "<bytes>");
// A single-plugin configuration (.conf/.json content), wrapped into a one-plugin list.
Result<NetworkConfigList> parse_single_conf(std::string_view bytes, std::string_view source = "<bytes>");
// One file, by extension (.conflist → list; .conf/.json → single), with <dir>/<name>/*.conf drop-ins
// appended to a list unless it sets loadOnlyInlinedPlugins.
Result<NetworkConfigList> load_network_file(const std::string& path);

struct LoadedNetwork {
  NetworkConfigList list;
  std::vector<std::string> skipped;  // one line per invalid file passed over
};
// The first valid network in lexical file order (.conf, .conflist, .json), or the first named `name`.
Result<LoadedNetwork> load_network(const std::string& conf_dir, std::string_view name = {});
// The conf files of a dir, sorted.
std::vector<std::string> conf_files(const std::string& conf_dir);

// libcni's identifier rules, errors naming the bad value.
Status validate_network_name(std::string_view name);
Status validate_container_id(std::string_view id);
Status validate_interface_name(std::string_view ifname);

}  // namespace knode::cni
