// The node's pod network as the kubelet sees it (upstream: the runtime state's network error plus
// the legacy CNI network plugin), and the periodic release of leaked pod network attachments.
//
// With `cni` set (kubelet --network-plugin=cni), pods without a runtimeClassName run on the
// runtime handler `runtime_handler` ("knode"): containerd runs that handler's cni_conf_dir, which
// holds only a knode-cni conflist, and knode-cni runs the node's real chain from `conf_dir`. Every
// `status_period` (upstream's 5 s runtime status check) the manager checks that the runtime has the
// handler and that its conflist is as it should be (rewritten in place when not; runtime_handler.h), and:
//   - NetworkReady = the runtime's own NetworkReady condition, and (with cni) a valid network in
//     conf_dir whose plugins answer CNI STATUS (1.1 lists; older plugins count as ready). Not ready
//     reads as upstream's: `container runtime network not ready: NetworkReady=false
//     reason:NetworkPluginNotReady message:Network plugin returns error: <conf dir or plugin>`.
//     A change is logged ("Container runtime network not ready", as upstream) and reported to
//     `on_change` (the status file).
//   - at start and every `gc_period` (1 min, the kubelet's container GC cadence): CNI GC of every
//     valid network in conf_dir (and of networks only the cache still knows, with their cached
//     config), with the valid attachments = <sandbox id, eth0> of every sandbox the
//     runtime still lists. Cached attachments of gone sandboxes are DELeted (host-local leases are
//     released even by plugins without the GC verb); entries written less than `gc_grace` ago are
//     kept (a RunPodSandbox may still be in flight: its CNI ADD has run, the sandbox is not listed
//     yet). Nothing is collected while the runtime's sandboxes cannot be listed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/base/result.h"
#include "cni/executor.h"
#include "cni/runtime.h"
#include "cri/runtime.h"

namespace knode::kubelet {

// The runtime's NetworkReady condition as the kubelet judges it.
struct NetworkCondition {
  bool ready = true;
  std::string reason;
  std::string message;
  bool operator==(const NetworkCondition&) const = default;
  // Upstream's RuntimeCondition text: "NetworkReady=false reason:<reason> message:<message>".
  std::string str() const;
  // "" when ready, else "container runtime network not ready: <str()>" (the Node's Ready message).
  std::string error() const;
};

inline constexpr const char* kNetworkPluginNotReady = "NetworkPluginNotReady";

struct NetworkManagerOptions {
  bool cni = false;  // --network-plugin=cni
  std::string runtime_handler = "knode";
  std::string conf_dir = "/etc/cni/net.d";                  // --cni-conf-dir
  std::vector<std::string> bin_dirs = {"/opt/cni/bin"};     // --cni-bin-dir
  std::string cache_dir = "/var/lib/cni/cache";             // --cni-cache-dir
  std::chrono::milliseconds status_period = std::chrono::seconds(5);
  std::chrono::milliseconds gc_period = std::chrono::minutes(1);
  std::chrono::milliseconds gc_grace = std::chrono::minutes(2);  // --runtime-request-timeout
  std::function<void(const NetworkCondition&)> on_change;
};

class NetworkManager {
 public:
  NetworkManager(cri::Runtime& runtime, cni::Executor& exec, NetworkManagerOptions options);
  ~NetworkManager();

  // Checks once (so the first state is known and logged), collects garbage, then keeps checking.
  void start();
  void stop();

  // One readiness check now; logs and reports a change.
  NetworkCondition refresh();
  NetworkCondition condition() const;
  // What the Node's Ready condition message will carry: "" when the network is ready.
  std::string network_error() const { return condition().error(); }

  // One GC pass; returns how many cached attachments were released. Fails (and deletes nothing)
  // when the runtime's sandboxes cannot be listed.
  Result<int> collect_garbage();

 private:
  NetworkCondition evaluate();
  Status ensure_handler(const cri::v1::StatusResponse& status);
  void run();

  cri::Runtime& rt_;
  NetworkManagerOptions opts_;
  cni::Runtime cni_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  NetworkCondition condition_;
  bool known_ = false;
  bool stopping_ = false;
  std::mutex check_mu_;  // one refresh/GC at a time
  std::thread thread_;
};

}  // namespace knode::kubelet
