#include "agent/kubelet/network_manager.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "agent/base/log.h"
#include "agent/kubelet/runtime_handler.h"
#include "cni/result_cache.h"
#include "cri/types.h"

namespace knode::kubelet {

namespace {

constexpr const char* kPodInterface = "eth0";

std::string join_dirs(const std::vector<std::string>& dirs) {
  std::string out;
  for (const auto& d : dirs) out += (out.empty() ? "" : ",") + d;
  return out;
}

}  // namespace

std::string NetworkCondition::str() const {
  return std::string("NetworkReady=") + (ready ? "true" : "false") + " reason:" + reason + " message:" + message;
}

std::string NetworkCondition::error() const {
  return ready ? std::string() : "container runtime network not ready: " + str();
}

NetworkManager::NetworkManager(cri::Runtime& runtime, cni::Executor& exec, NetworkManagerOptions options)
    : rt_(runtime),
      opts_(std::move(options)),
      cni_(exec, cni::RuntimeOptions{.bin_dirs = opts_.bin_dirs, .cache_dir = opts_.cache_dir}) {}

NetworkManager::~NetworkManager() { stop(); }

void NetworkManager::start() {
  if (opts_.cni)
    log::info("Pods without a runtimeClassName run on the CNI runtime handler", "handler", opts_.runtime_handler,
              "cniConfDir", opts_.conf_dir, "cniBinDir", join_dirs(opts_.bin_dirs), "cniCacheDir", opts_.cache_dir);
  refresh();
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void NetworkManager::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status NetworkManager::ensure_handler(const cri::v1::StatusResponse& status) {
  auto path = prepare_knode_handler(status, opts_.runtime_handler,
                                    cni::HandlerConf{.conf_dir = opts_.conf_dir,
                                                     .bin_dirs = opts_.bin_dirs,
                                                     .cache_dir = opts_.cache_dir,
                                                     .timeout_seconds = 60});
  if (!path) return path.error();
  return {};
}

NetworkCondition NetworkManager::evaluate() {
  auto not_ready = [](std::string reason, std::string message) {
    return NetworkCondition{.ready = false, .reason = std::move(reason), .message = std::move(message)};
  };
  auto st = rt_.RuntimeStatus(opts_.cni);  // verbose: the handlers' configuration
  if (!st) return not_ready("ContainerRuntimeUnreachable", st.error().message());
  bool reported = false;
  for (const auto& c : st->status().conditions()) {
    if (c.type() != "NetworkReady") continue;
    reported = true;
    if (!c.status()) return not_ready(c.reason(), c.message());
  }
  if (!reported) return not_ready("NetworkReadyMissing", "the container runtime reports no NetworkReady condition");
  if (!opts_.cni) return {};

  const std::string prefix = "Network plugin returns error: ";
  if (auto h = ensure_handler(*st); !h) return not_ready(kNetworkPluginNotReady, prefix + h.error().message());
  auto net = cni::load_network(opts_.conf_dir);
  if (!net) return not_ready(kNetworkPluginNotReady, prefix + "cni config load failed: " + net.error().message());
  if (auto s = cni_.status(net->list); !s)
    return not_ready(kNetworkPluginNotReady, prefix + net->list.source + ": " + s.error().message());
  return {};
}

NetworkCondition NetworkManager::refresh() {
  std::lock_guard check(check_mu_);
  NetworkCondition now = evaluate();
  bool changed;
  {
    std::lock_guard lock(mu_);
    changed = !known_ || !(now == condition_);
    condition_ = now;
    known_ = true;
  }
  if (!changed) return now;
  if (now.ready) log::info("Container runtime network ready", "networkReady", now.str());
  else log::error_msg("Container runtime network not ready", "networkReady", now.str());
  if (opts_.on_change) opts_.on_change(now);
  return now;
}

NetworkCondition NetworkManager::condition() const {
  std::lock_guard lock(mu_);
  return condition_;
}

Result<int> NetworkManager::collect_garbage() {
  if (!opts_.cni) return 0;
  std::lock_guard check(check_mu_);
  // The runtime's sandboxes first: without that list nothing may be judged leaked.
  auto sandboxes = rt_.ListPodSandbox(nullptr);
  if (!sandboxes) {
    log::warning("Skipping CNI garbage collection: cannot list the runtime's pod sandboxes", "reason",
                 sandboxes.error().message());
    return sandboxes.error().wrap("cannot list pod sandboxes");
  }
  std::vector<cni::Attachment> valid;
  for (const auto& s : *sandboxes) valid.push_back({.container_id = s.id(), .ifname = kPodInterface});
  // Attachments written within the grace period may belong to a RunPodSandbox still in flight.
  cni::ResultCache cache(opts_.cache_dir);
  auto entries = cache.list();
  const auto now = std::filesystem::file_time_type::clock::now();
  std::vector<cni::CacheEntry> candidates;
  for (const auto& e : entries) {
    cni::Attachment a{.container_id = e.container_id, .ifname = e.ifname};
    if (std::find(valid.begin(), valid.end(), a) != valid.end()) continue;
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(cache.path(e.network_name, e.container_id, e.ifname), ec);
    if (ec || now - mtime < opts_.gc_grace) {
      valid.push_back(a);
      continue;
    }
    candidates.push_back(e);
  }

  std::set<std::string> done;
  auto gc = [&](const cni::NetworkConfigList& list) {
    if (!done.insert(list.name).second) return;
    if (auto st = cni_.gc(list, valid); !st)
      log::warning("CNI garbage collection failed", "network", list.name, "reason", st.error().message());
  };
  for (const auto& file : cni::conf_files(opts_.conf_dir))
    if (auto list = cni::load_network_file(file)) gc(*list);
  // Networks whose configuration left the conf dir: their attachments carry the config they were made with.
  for (const auto& e : candidates)
    if (!done.count(e.network_name))
      if (auto list = cni::parse_network_list(e.config, cache.path(e.network_name, e.container_id, e.ifname));
          list && list->name == e.network_name)
        gc(*list);
  int released = 0;
  for (const auto& e : candidates) {
    auto still = cache.read(e.network_name, e.container_id, e.ifname);
    if (!done.count(e.network_name) || (still && *still)) continue;
    ++released;
    log::info("Released a leaked pod network attachment", "network", e.network_name, "containerID", e.container_id,
              "ifname", e.ifname);
  }
  return released;
}

void NetworkManager::run() {
  using clock = std::chrono::steady_clock;
  auto next_gc = clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (opts_.cni && clock::now() >= next_gc) {
      (void)collect_garbage();
      next_gc = clock::now() + opts_.gc_period;
    }
    lock.lock();
    if (cv_.wait_for(lock, opts_.status_period, [&] { return stopping_; })) break;
    lock.unlock();
    refresh();
    lock.lock();
  }
}

}  // namespace knode::kubelet
