// knode answering as a CNI plugin ("knode-cni"): a runtime (containerd, through a runtime handler
// whose cni_conf_dir holds only this plugin's conf) invokes it with the CNI_* environment and its
// config on stdin; it runs the real network from `confDir` with the cni/ library and prints the real
// result (in the caller's cniVersion), or the inner plugin's error (code, msg, details) unchanged.
//
// Config keys (all optional): "confDir" (/etc/cni/net.d), "binDir" ("a:b" or ["a","b"]; default
// CNI_PATH, then /opt/cni/bin), "cacheDir" (/var/lib/cni), "network" (a name; default the first
// valid), "timeoutSeconds" (per plugin, 60). Capabilities it declares are passed on to the chain.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cni/executor.h"

namespace knode::cni {

struct PluginInvocation {
  std::map<std::string, std::string> env;  // at least CNI_COMMAND; the other CNI_* as given
  std::string stdin_data;
};

struct PluginReply {
  int exit_code = 0;
  std::string stdout_data;
};

PluginReply run_plugin_mode(const PluginInvocation& inv, Executor& exec);

// The process entry: reads the environment and stdin, writes stdout, returns the exit code.
int plugin_process_main();

// What a runtime handler's cni_conf_dir holds so that knode-cni runs the node's network: a conflist
// named `name` with one knode-cni plugin pointing at these dirs and declaring every capability the
// reference plugins take (cni/containerd/10-knode.conflist is this with the defaults).
struct HandlerConf {
  std::string name = "knode";
  std::string conf_dir = "/etc/cni/net.d";
  std::vector<std::string> bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  std::string cache_dir = "/var/lib/cni";
  int timeout_seconds = 60;
};
std::string handler_conflist(const HandlerConf& conf);

}  // namespace knode::cni
