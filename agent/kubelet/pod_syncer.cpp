#include "agent/kubelet/pod_syncer.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "agent/base/log.h"
#include "agent/kubelet/lifecycle_hooks.h"
#include "agent/kubelet/termination_order.h"
#include "agent/kubelet/image_puller.h"
#include "agent/kubelet/time_format.h"
#include "agent/kubelet/volumes.h"
#include "config/duration.h"
#include "cri/errors.h"
#include "cri/types.h"

namespace knode::kubelet {

namespace {

constexpr int64_t kMinGraceSeconds = 2;
constexpr auto kErrorRetry = std::chrono::seconds(10);

std::chrono::milliseconds ms_of_ns(int64_t ns) {
  return std::chrono::milliseconds(std::max<int64_t>(ns / 1'000'000, 100));
}

std::string sandbox_ip(const PodRuntimeStatus& rs) { return rs.sandboxes.empty() ? "" : rs.sandboxes.front().ip; }

// A warning event about a container, logged as upstream's event recorder logs it (standalone mode
// has no API server to post it to).
void log_container_event(const kube::Pod& pod, const std::string& container, const char* reason,
                         const std::string& message) {
  bool init = false;
  for (const auto& c : pod.spec.init_containers) init = init || c.name == container;
  std::string field = std::string(init ? "spec.initContainers{" : "spec.containers{") + container + "}";
  log::warning("Event occurred", "object", kube::object_ref(pod.metadata), "fieldPath", field, "kind", "Pod",
               "apiVersion", "v1", "type", "Warning", "reason", reason, "message", message);
}

// For a pod known only from the runtime (an orphan): the pod and its containers as far as the CRI
// annotations tell (grace period, preStop hook, ports), as upstream restores them from container
// labels, so that preStop hooks run and the grace period holds. An annotation that does not decode
// is logged and left out.
kube::Pod restore_pod(const PodRuntimeStatus& rs) {
  kube::Pod pod;
  pod.metadata.name = rs.name;
  pod.metadata.namespace_ = rs.namespace_;
  pod.metadata.uid = rs.uid;
  std::set<std::string> seen;
  for (const auto& rc : rs.containers) {
    if (!seen.insert(rc.name).second) continue;  // newest first: one spec per name
    if (rc.termination_grace_seconds >= 0 && !pod.spec.termination_grace_period_seconds)
      pod.spec.termination_grace_period_seconds = rc.termination_grace_seconds;
    kube::Container c;
    c.name = rc.name;
    c.image = rc.image;
    if (!rc.pre_stop_json.empty()) {
      std::string wrapped = R"({"spec":{"containers":[{"name":"c","ports":)" +
                            (rc.ports_json.empty() ? std::string("[]") : rc.ports_json) +
                            R"(,"lifecycle":{"preStop":)" + rc.pre_stop_json + "}}]}}";
      auto decoded = kube::decode_pod_json(wrapped);
      if (decoded && !decoded->spec.containers.empty()) {
        c.lifecycle = decoded->spec.containers[0].lifecycle;
        c.ports = decoded->spec.containers[0].ports;
      } else {
        log::warning("Cannot read the preStop hook of a container from its annotation", "containerID", rc.id,
                     "containerName", rc.name, "annotation", cri::kPreStopHandlerAnnotation);
      }
    }
    pod.spec.containers.push_back(std::move(c));
  }
  return pod;
}

std::string go_duration(int64_t ns) { return config::format_duration(config::Duration{ns}); }

}  // namespace

PodSyncer::PodSyncer(cri::Runtime& runtime, cri::ImageService& images, PodStatusSink& status, ContainerHealth* health,
                     PodSyncerOptions options)
    : rt_(runtime), images_(images), status_(status), health_(health), opts_(std::move(options)) {}

int64_t PodSyncer::now() const { return opts_.now_ns ? opts_.now_ns() : unix_now_ns(); }

SyncOutcome PodSyncer::sync_pod(const kube::Pod& pod, PodState& state) {
  const std::string& uid = pod.metadata.uid;
  const std::string ref = kube::object_ref(pod.metadata);
  auto rs = get_pod_runtime_status(rt_, uid);
  if (!rs) {
    log::error("Cannot read the pod's runtime state", rs.error(), "pod", ref);
    return {kErrorRetry};
  }
  StatusInputs si{.runtime_name = opts_.runtime_name, .host_ip = opts_.host_ip};
  ActionInputs ai;
  if (health_) health_->results(uid, si, ai);
  ai.started = si.started;
  PodActions actions = compute_pod_actions(pod, *rs, ai);
  bool changed = !actions.nothing_to_do();
  std::optional<std::chrono::milliseconds> retry;
  auto want_retry = [&](std::chrono::milliseconds d) { retry = retry ? std::min(*retry, d) : d; };

  if (actions.kill_pod) {
    bool live = std::any_of(rs->sandboxes.begin(), rs->sandboxes.end(), [](const auto& sb) { return sb.ready; }) ||
                std::any_of(rs->containers.begin(), rs->containers.end(), [](const auto& c) {
                  return c.state == ContainerState::Running || c.state == ContainerState::Unknown;
                });
    if (live) {
      log::info(actions.create_sandbox ? "Pod sandbox changed or missing, killing the pod before starting it again"
                                       : "Pod has nothing left to run, stopping it",
                "pod", ref);
      if (Status st = kill_pod(pod, *rs); !st.ok()) {
        log::error("Killing pod failed", st.error(), "pod", ref);
        return {kErrorRetry};
      }
    }
  } else {
    for (const auto& k : actions.containers_to_kill) {
      const RuntimeContainer* rc = nullptr;
      for (const auto& c : rs->containers)
        if (c.id == k.id) rc = &c;
      if (rc) kill_container(&pod, *rc, pod.spec.termination_grace_period_seconds.value_or(30), k.reason, sandbox_ip(*rs));
    }
  }

  if (actions.create_sandbox || !actions.init_containers_to_start.empty() || !actions.containers_to_start.empty()) {
    auto sandbox_config = cri::make_sandbox_config(pod, actions.attempt, opts_.node);
    if (!sandbox_config) {
      log::error("Cannot generate the pod sandbox config", sandbox_config.error(), "pod", ref);
      return {kErrorRetry};
    }
    std::string sandbox_id = actions.sandbox_id;
    std::string ip = sandbox_ip(*rs);
    if (actions.create_sandbox) {
      if (Status st = prepare_volumes(pod, opts_.pods_dir); !st.ok()) {
        log::error("Cannot prepare the pod's volumes", st.error(), "pod", ref);
        for (const auto& c : pod.spec.containers) state.reasons[c.name] = {"CreateContainerConfigError", st.message()};
        retry = kErrorRetry;
        goto report;
      }
      std::error_code ec;
      std::filesystem::create_directories(sandbox_config->log_directory(), ec);
      log::info("Creating pod sandbox", "pod", ref, "attempt", actions.attempt);
      auto id = rt_.RunPodSandbox(*sandbox_config, pod.spec.runtime_class_name.value_or(opts_.runtime_handler));
      if (!id) {
        log::error("Creating the pod sandbox failed", id.error(), "pod", ref);
        return {kErrorRetry};
      }
      sandbox_id = *id;
      auto sst = rt_.PodSandboxStatus(sandbox_id, false);
      if (sst) ip = sst->status().network().ip();
    }
    // Init containers (and sidecars) first, in order; a regular init container that does not start
    // stops the sync, a sidecar that does not start (back-off) does not.
    bool init_ok = true;
    for (size_t i : actions.init_containers_to_start) {
      const auto& c = pod.spec.init_containers[i];
      auto r = start_container(pod, c, *rs, sandbox_id, *sandbox_config, ip, state);
      if (r.retry) want_retry(*r.retry);
      if (!r.ok && !kube::is_sidecar(c)) {
        init_ok = false;
        break;
      }
    }
    for (size_t i : actions.containers_to_start) {
      if (!init_ok) break;
      auto r = start_container(pod, pod.spec.containers[i], *rs, sandbox_id, *sandbox_config, ip, state);
      if (r.retry) want_retry(*r.retry);
    }
  }

report:
  collect_garbage(*rs);
  if (changed) {
    auto after = get_pod_runtime_status(rt_, uid);
    if (after) rs = std::move(after);
  }
  if (health_) {
    health_->update(pod, *rs);
    si = StatusInputs{.runtime_name = opts_.runtime_name, .host_ip = opts_.host_ip};
    ActionInputs ignored;
    health_->results(uid, si, ignored);
  }
  si.reasons = state.reasons;
  si.now_ns = now();
  kube::PodStatus status = generate_pod_status(pod, *rs, si, state.last_status);
  state.last_status = status;
  status_.set_status(pod, status);
  state.crash_backoff.gc(si.now_ns);
  state.image_backoff.gc(si.now_ns);
  return {retry};
}

PodSyncer::StartResult PodSyncer::start_container(const kube::Pod& pod, const kube::Container& c,
                                                  const PodRuntimeStatus& rs, const std::string& sandbox_id,
                                                  const runtime::v1::PodSandboxConfig& sandbox_config,
                                                  const std::string& pod_ip, PodState& state) {
  const std::string ref = kube::object_ref(pod.metadata);
  const int64_t t = now();
  const RuntimeContainer* last = rs.latest(c.name);
  if (last && last->state == ContainerState::Exited) {
    std::string key = c.name + "_" + fmt::format("{:x}", cri::hash_container(c));
    int64_t since = last->finished_at > 0 ? last->finished_at : t;
    if (state.crash_backoff.in_backoff_since(key, since, t)) {
      int64_t delay = state.crash_backoff.get(key);
      state.reasons[c.name] = {"CrashLoopBackOff", fmt::format("back-off {} restarting failed container={} pod={}",
                                                               go_duration(delay), c.name, format_pod(pod))};
      if (log::V(2))
        log::infov(2, "Back-off restarting failed container", "pod", ref, "containerName", c.name, "backoff",
                   go_duration(delay));
      return {false, ms_of_ns(delay - (t - since))};
    }
    state.crash_backoff.next(key, since, t);
  }

  std::optional<std::chrono::milliseconds> retry;
  auto image = ensure_image(pod, c, state, &retry);
  if (!image) return {false, retry};

  cri::ContainerInputs in;
  in.restart_count = last ? last->restart_count + 1 : 0;
  in.image_ref = *image;
  in.env.pod_ip = pod_ip;
  if (!pod_ip.empty()) in.env.pod_ips = {pod_ip};
  if (!opts_.host_ip.empty()) in.env.host_ips = {opts_.host_ip};
  auto mounts = container_mounts(pod, c, opts_.pods_dir, in.env);
  if (!mounts) {
    state.reasons[c.name] = {"CreateContainerConfigError", mounts.error().message()};
    log::error("Cannot generate the container config", mounts.error(), "pod", ref, "containerName", c.name);
    return {false, kErrorRetry};
  }
  in.mounts = std::move(*mounts);
  auto config = cri::make_container_config(pod, c, in, opts_.node);
  if (!config) {
    state.reasons[c.name] = {"CreateContainerConfigError", config.error().message()};
    log::error("Cannot generate the container config", config.error(), "pod", ref, "containerName", c.name);
    return {false, kErrorRetry};
  }
  auto id = rt_.CreateContainer(sandbox_id, *config, sandbox_config);
  if (!id) {
    state.reasons[c.name] = {"CreateContainerError", id.error().message()};
    log::error("Creating the container failed", id.error(), "pod", ref, "containerName", c.name);
    return {false, kErrorRetry};
  }
  if (Status st = rt_.StartContainer(*id); !st.ok()) {
    state.reasons[c.name] = {"RunContainerError", st.message()};
    log::error("Starting the container failed", st.error(), "pod", ref, "containerName", c.name);
    return {false, kErrorRetry};
  }
  if (c.lifecycle && c.lifecycle->post_start) {
    // Right after the start, before anything else of the pod goes on (as upstream). A failed hook
    // kills the container; it is then restarted per restartPolicy.
    auto hook = run_lifecycle_hook(rt_, {pod, c, *id, pod_ip}, *c.lifecycle->post_start, std::chrono::seconds(0));
    if (!hook.ok) {
      std::string cid = opts_.runtime_name + "://" + *id;
      log::error_msg("Failed to execute PostStartHook", "pod", ref, "podUID", pod.metadata.uid, "containerName", c.name,
                     "containerID", cid, "err", hook.message);
      log_container_event(pod, c.name, "FailedPostStartHook", "PostStartHook failed");
      RuntimeContainer started{.id = *id, .name = c.name, .state = ContainerState::Running};
      kill_container(&pod, started, pod.spec.termination_grace_period_seconds.value_or(30), "FailedPostStartHook",
                     pod_ip);
      state.reasons[c.name] = {"PostStartHookError", hook.message};
      return {false, {}};
    }
  }
  state.reasons.erase(c.name);
  log::info("Started container", "pod", ref, "containerName", c.name, "containerID", *id, "restartCount",
            in.restart_count);
  return {true, {}};
}

std::optional<std::string> PodSyncer::ensure_image(const kube::Pod& pod, const kube::Container& c, PodState& state,
                                                   std::optional<std::chrono::milliseconds>* retry) {
  const std::string ref = kube::object_ref(pod.metadata);
  cri::v1::ImageSpec spec;
  spec.set_image(c.image);
  auto st = images_.ImageStatus(spec, false);
  if (!st) {
    state.reasons[c.name] = {"ErrImageInspect", st.error().message()};
    *retry = kErrorRetry;
    return std::nullopt;
  }
  bool present = st->has_image() && !st->image().id().empty();
  std::string policy = c.image_pull_policy.empty() ? kube::default_image_pull_policy(c.image) : c.image_pull_policy;
  if (policy == "Never") {
    if (present) return st->image().id();
    std::string msg = fmt::format("Container image \"{}\" is not present with pull policy of Never", c.image);
    auto old = state.reasons.find(c.name);
    if (old == state.reasons.end() || old->second.reason != "ErrImageNeverPull")
      log::warning(msg, "pod", ref, "containerName", c.name);
    state.reasons[c.name] = {"ErrImageNeverPull", msg};
    *retry = kErrorRetry;
    return std::nullopt;
  }
  if (present && policy != "Always") return st->image().id();
  const int64_t t = now();
  const std::string& key = c.image;
  if (state.image_backoff.in_backoff_since_update(key, t)) {
    state.reasons[c.name] = {"ImagePullBackOff", fmt::format("Back-off pulling image \"{}\"", c.image)};
    *retry = std::chrono::seconds(1);
    return std::nullopt;
  }
  log::info("Pulling image", "pod", ref, "image", c.image);
  auto pulled = opts_.puller ? opts_.puller->pull(spec, nullptr) : images_.PullImage(spec, nullptr, nullptr);
  if (!pulled) {
    state.image_backoff.next(key, t, t);
    state.reasons[c.name] = {"ErrImagePull", pulled.error().message()};
    log::error("Pulling the image failed", pulled.error(), "pod", ref, "image", c.image);
    *retry = std::chrono::seconds(1);
    return std::nullopt;
  }
  return *pulled;
}

void PodSyncer::kill_container(const kube::Pod* pod, const RuntimeContainer& rc, int64_t grace,
                               const std::string& reason, const std::string& pod_ip, TerminationOrdering* ordering) {
  if (rc.state != ContainerState::Running && rc.state != ContainerState::Unknown) {
    if (ordering) ordering->terminated(rc.name);
    return;
  }
  std::string ref = pod ? kube::object_ref(pod->metadata) : std::string();
  if (grace < kMinGraceSeconds) grace = kMinGraceSeconds;
  log::info("Killing container with a grace period", "pod", ref, "containerName", rc.name, "containerID", rc.id,
            "gracePeriod", grace, "reason", reason);
  const auto start = std::chrono::steady_clock::now();
  auto spent_s = [&] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
  };
  const kube::Container* spec = pod ? kube::find_container(pod->spec, rc.name) : nullptr;
  if (spec && spec->lifecycle && spec->lifecycle->pre_stop) {
    // The hook runs inside the grace period; what it uses is taken from the stop's timeout.
    auto hook = run_lifecycle_hook(rt_, {*pod, *spec, rc.id, pod_ip}, *spec->lifecycle->pre_stop,
                                   std::chrono::seconds(grace));
    if (!hook.ok) {
      log::error_msg("PreStop hook failed", "pod", ref, "containerName", rc.name, "containerID", rc.id, "err",
                     hook.message);
      log_container_event(*pod, rc.name, "FailedPreStopHook", hook.message);
    }
  }
  if (ordering) {
    // Sidecars wait here for the regular containers (and later sidecars) to stop.
    auto left = std::chrono::seconds(std::max<int64_t>(grace - spent_s(), 0));
    ordering->wait_for_turn(rc.name, left);
  }
  int64_t timeout = std::max<int64_t>(grace - spent_s(), kMinGraceSeconds);
  if (Status st = rt_.StopContainer(rc.id, std::chrono::seconds(timeout)); !st.ok() && !cri::is_not_found(st.error()))
    log::error("Stopping the container failed", st.error(), "pod", ref, "containerName", rc.name);
  if (ordering) ordering->terminated(rc.name);
}

Status PodSyncer::kill_pod(const kube::Pod& pod, const PodRuntimeStatus& rs) {
  std::vector<const RuntimeContainer*> running;
  std::set<std::string> names;
  for (const auto& rc : rs.containers) {
    if (rc.state != ContainerState::Running && rc.state != ContainerState::Unknown) continue;
    running.push_back(&rc);
    names.insert(rc.name);
  }
  // Regular containers stop first, then sidecars in reverse order (a pod restored from the runtime
  // has no sidecars: everything stops at once).
  TerminationOrdering order(pod.spec, names);
  const std::string ip = sandbox_ip(rs);
  const int64_t grace = pod.spec.termination_grace_period_seconds.value_or(30);
  std::vector<std::future<void>> stops;
  for (const RuntimeContainer* rc : running) {
    stops.push_back(std::async(std::launch::async, [this, &pod, rc, grace, &ip, &order] {
      kill_container(&pod, *rc, grace, "Stopping pod", ip, &order);
    }));
  }
  for (auto& f : stops) f.get();
  for (const auto& sb : rs.sandboxes) {
    if (!sb.ready) continue;
    if (Status st = rt_.StopPodSandbox(sb.id); !st.ok() && !cri::is_not_found(st.error())) return st;
  }
  return Status::Ok();
}

bool PodSyncer::terminate_pod(const std::string& uid, const kube::Pod* pod, PodState& state) {
  auto rs = get_pod_runtime_status(rt_, uid);
  if (!rs) {
    log::error("Cannot read the pod's runtime state", rs.error(), "podUID", uid);
    return false;
  }
  if (!rs->empty()) {
    log::info("Stopping pod", "pod", pod ? kube::object_ref(pod->metadata) : rs->namespace_ + "/" + rs->name,
              "podUID", uid);
    const kube::Pod restored = pod ? kube::Pod{} : restore_pod(*rs);
    if (Status st = kill_pod(pod ? *pod : restored, *rs); !st.ok()) {
      log::error("Killing pod failed", st.error(), "podUID", uid);
      return false;
    }
    bool ok = true;
    for (const auto& c : rs->containers)
      if (Status st = rt_.RemoveContainer(c.id); !st.ok()) {
        log::error("Removing the container failed", st.error(), "podUID", uid, "containerID", c.id);
        ok = false;
      }
    for (const auto& s : rs->sandboxes)
      if (Status st = rt_.RemovePodSandbox(s.id); !st.ok()) {
        log::error("Removing the pod sandbox failed", st.error(), "podUID", uid, "podSandboxID", s.id);
        ok = false;
      }
    if (!ok) return false;
  }
  if (health_) health_->remove(uid);
  status_.remove(uid);
  remove_pod_dir(opts_.pods_dir, uid);
  return true;
}

void PodSyncer::collect_garbage(const PodRuntimeStatus& rs) {
  // Keep the newest dead container per name (restart counts, lastState, logs); remove older ones.
  std::map<std::string, int> dead_seen;
  std::set<std::string> sandboxes_in_use;
  for (const auto& c : rs.containers) {
    bool dead = c.state == ContainerState::Exited;
    if (dead && dead_seen[c.name]++ >= 1) {
      if (Status st = rt_.RemoveContainer(c.id); !st.ok())
        log::error("Removing a dead container failed", st.error(), "containerID", c.id);
      else if (log::V(4))
        log::infov(4, "Removed dead container", "containerID", c.id, "containerName", c.name);
      continue;
    }
    sandboxes_in_use.insert(c.sandbox_id);
  }
  for (size_t i = 1; i < rs.sandboxes.size(); ++i) {
    const auto& s = rs.sandboxes[i];
    if (s.ready || sandboxes_in_use.count(s.id)) continue;
    if (Status st = rt_.RemovePodSandbox(s.id); !st.ok())
      log::error("Removing a dead pod sandbox failed", st.error(), "podSandboxID", s.id);
  }
}

}  // namespace knode::kubelet
