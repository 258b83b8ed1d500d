// The runtime handler that runs pods on knode's CNI (kubelet --network-plugin=cni): whether the
// container runtime knows it, where its CNI conf dir is, and writing the knode-cni conflist there.
//
// The runtime says which handlers it has in its Status (runtime_handlers, newer CRI runtimes) or, as
// containerd 1.6 does, in the verbose Status's "config" (containerd.runtimes.<name>.cniConfDir).
#pragma once

#include <string>
#include <vector>

#include "agent/base/result.h"
#include "cni/plugin_mode.h"
#include "cri/runtime.h"

namespace knode::kubelet {

// Where a runtime without a readable configuration is assumed to keep the handler's CNI conf
// (cni/containerd/config.toml's cni_conf_dir).
inline constexpr const char* kDefaultHandlerConfDir = "/etc/knode/cni/net.d";
inline constexpr const char* kHandlerConfFile = "10-knode.conflist";

struct RuntimeHandlerInfo {
  bool reported = false;            // the runtime told which handlers it has
  std::vector<std::string> names;   // those handlers
  bool known = false;               // `name` is one of them
  bool config_shown = false;        // the runtime showed the handlers' configuration (containerd)
  std::string cni_conf_dir;         // then: the handler's cni_conf_dir ("" = the default network)
};

// From a (verbose) Status response.
RuntimeHandlerInfo runtime_handler_info(const cri::v1::StatusResponse& status, const std::string& name);

// Writes `content` to `path` in place (truncate + write: containerd's conf watcher ignores files
// mv-ed into its dir), only when the file differs. Returns whether it wrote.
Result<bool> write_in_place_if_changed(const std::string& path, const std::string& content);

// Checks that the runtime knows handler `name` (an error naming it otherwise) and writes its
// knode-cni conflist (<cni_conf_dir>/10-knode.conflist) with `conf`'s dirs when changed. Returns
// the conflist's path.
Result<std::string> prepare_knode_handler(const cri::v1::StatusResponse& status, const std::string& name,
                                          const cni::HandlerConf& conf);
// The same, asking the runtime for its verbose Status first.
Result<std::string> prepare_knode_handler(cri::Runtime& runtime, const std::string& name,
                                          const cni::HandlerConf& conf);

}  // namespace knode::kubelet
