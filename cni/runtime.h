// The CNI runtime: runs a network configuration list's plugins for one attachment — ADD in order with
// prevResult chaining (a failed ADD is undone with DEL), DEL in reverse with the cached result,
// CHECK, STATUS and GC (1.1) — and keeps libcni's result cache.
//
//   cni::ProcessExecutor exec;
//   cni::Runtime rt(exec, {.bin_dirs = {"/opt/cni/bin"}, .cache_dir = "/var/lib/cni"});
//   auto net = cni::load_network("/etc/cni/net.d");
//   auto res = rt.add(net->list, {.container_id = id, .netns = path, .args = ...});
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/result.h"
#include "cni/executor.h"
#include "cni/network_config.h"
#include "cni/plugin_error.h"
#include "cni/plugin_result.h"
#include "cni/result_cache.h"
#include "cni/runtime_conf.h"

namespace knode::cni {

struct RuntimeOptions {
  std::vector<std::string> bin_dirs = {"/opt/cni/bin"};
  std::string cache_dir = "/var/lib/cni";
  std::chrono::milliseconds plugin_timeout{std::chrono::seconds(60)};  // per plugin invocation
};

// Safe to use from several threads at once (one operation per attachment at a time, as the spec asks).
class Runtime {
 public:
  Runtime(Executor& exec, RuntimeOptions options);

  // Every operation may report why it failed through `failure`, ready to print as a plugin error:
  // the plugin's error JSON (code, msg, details) exactly as it printed it, or for other failures
  // (crash, timeout, bad result, missing plugin) a knode code with the whole explanation in msg.
  Result<PluginResult> add(const NetworkConfigList& list, const RuntimeConf& rt, PluginError* failure = nullptr);
  Status check(const NetworkConfigList& list, const RuntimeConf& rt, PluginError* failure = nullptr);
  Status del(const NetworkConfigList& list, const RuntimeConf& rt, PluginError* failure = nullptr);
  // STATUS: whether the network is ready for ADDs (1.1 lists; older lists have nothing to ask).
  Status status(const NetworkConfigList& list, PluginError* failure = nullptr);
  // GC: DEL every cached attachment of this network not in `valid`, then (1.1) send the plugins GC
  // with cni.dev/valid-attachments so they release what they hold for anything else.
  Status gc(const NetworkConfigList& list, const std::vector<Attachment>& valid, PluginError* failure = nullptr);

  // The cached result of a previous ADD, if any.
  Result<std::optional<CacheEntry>> cached(const NetworkConfigList& list, const RuntimeConf& rt) const;
  const RuntimeOptions& options() const { return options_; }

 private:
  struct Call;
  Result<std::optional<PluginResult>> invoke(const Call& call, PluginError* failure);
  Result<std::string> stdin_for(const Call& call, std::string_view version) const;
  Result<std::vector<std::string>> plugin_versions(const std::string& path, const NetworkConfigList& list);
  std::string rollback(const NetworkConfigList& list, const RuntimeConf& rt, const std::optional<PluginResult>& prev);

  Executor& exec_;
  RuntimeOptions options_;
  ResultCache cache_;
  mutable std::mutex versions_mu_;                            // pods are attached concurrently
  std::map<std::string, std::vector<std::string>> versions_;  // plugin path → supportedVersions
};

}  // namespace knode::cni
