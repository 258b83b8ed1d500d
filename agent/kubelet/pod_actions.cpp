#include "agent/kubelet/pod_actions.h"

#include "cri/convert.h"

namespace knode::kubelet {

namespace {

bool restart_on_failure(const kube::Pod& pod) { return pod.spec.restart_policy != "Never"; }

bool container_succeeded(const kube::Container& c, const PodRuntimeStatus& status) {
  const RuntimeContainer* rc = status.latest(c.name);
  return rc && rc->state == ContainerState::Exited && rc->exit_code == 0;
}

bool init_failed(const RuntimeContainer& rc) {
  if (rc.state == ContainerState::Exited && rc.exit_code != 0) return true;
  return rc.state == ContainerState::Unknown;
}

// upstream's hasAnyRegularContainerCreated: a regular container ran in an earlier sandbox.
bool any_regular_container_created(const kube::Pod& pod, const PodRuntimeStatus& status) {
  for (const auto& c : pod.spec.containers) {
    const RuntimeContainer* rc = status.latest(c.name);
    if (rc && rc->state != ContainerState::Unknown) return true;
  }
  return false;
}

// upstream's computeInitContainerActions: fills init_containers_to_start (and kills) and returns
// whether initialization is complete. Walks the init containers backwards, since completed ones may
// have been removed from the runtime: the last one with a status tells how far initialization got;
// sidecars before it are kept running.
bool compute_init_actions(const kube::Pod& pod, const PodRuntimeStatus& status, const ActionInputs& in,
                          PodActions& a) {
  const auto& inits = pod.spec.init_containers;
  if (inits.empty()) return true;
  // A created or running regular container means the init containers completed before (an exited
  // one may be from a sandbox before a reboot, so it does not count).
  bool initialized = false;
  for (const auto& c : pod.spec.containers) {
    const RuntimeContainer* rc = status.latest(c.name);
    if (rc && (rc->state == ContainerState::Created || rc->state == ContainerState::Running)) initialized = true;
  }
  bool previously_initialized = initialized;
  std::vector<size_t> start;  // collected backwards
  auto kill = [&](const RuntimeContainer& rc, std::string reason) {
    a.containers_to_kill.push_back({rc.id, rc.name, std::move(reason)});
  };
  for (size_t i = inits.size(); i-- > 0;) {
    const kube::Container& c = inits[i];
    const bool sidecar = kube::is_sidecar(c);
    const RuntimeContainer* rc = status.latest(c.name);
    if (!rc) {
      // Initialized before but gone (removed): only a sidecar is started again.
      if (previously_initialized && sidecar) start.push_back(i);
      continue;
    }
    if (previously_initialized && !sidecar) continue;  // after initialization only sidecars matter
    switch (rc->state) {
      case ContainerState::Created:
        // Created and started happen in one step; one left created failed to start.
        start.push_back(i);
        break;
      case ContainerState::Running: {
        if (!sidecar) break;  // wait for it to finish
        if (c.startup_probe && in.startup_failed.count(c.name)) {
          kill(*rc, "Init container " + c.name + " failed startup probe, will be restarted");
          start.push_back(i);
          break;
        }
        if (c.startup_probe) {
          auto st = in.started.find(c.name);
          if (st == in.started.end() || !st->second) break;  // wait for the startup probe
        }
        if (i + 1 == inits.size()) initialized = true;
        else if (!previously_initialized) start.push_back(i + 1);  // started for the first time: next one
        if (rc->hash != cri::hash_container(c)) {
          kill(*rc, "Init container " + c.name + " definition changed, will be restarted");
          start.push_back(i);
        } else if (in.liveness_failed.count(c.name)) {
          kill(*rc, "Init container " + c.name + " failed liveness probe, will be restarted");
          start.push_back(i);
        }
        break;
      }
      case ContainerState::Exited:
        if (sidecar) {
          start.push_back(i);  // restarted whatever the pod's restartPolicy (with crash-loop back-off)
        } else if (init_failed(*rc)) {
          if (!restart_on_failure(pod)) {
            a.kill_pod = true;
            a.init_containers_to_start.clear();
            return false;
          }
          start.push_back(i);
        } else if (i + 1 == inits.size()) {
          initialized = true;
        } else {
          start.push_back(i + 1);
        }
        break;
      case ContainerState::Unknown:
        if (!sidecar && !restart_on_failure(pod)) {
          a.kill_pod = true;
          a.init_containers_to_start.clear();
          return false;
        }
        kill(*rc, "Init container is in \"unknown\" state, try killing it before restart");
        start.push_back(i);
        break;
    }
    previously_initialized = true;
  }
  if (!previously_initialized) start.push_back(0);  // nothing ran yet: the first one
  a.init_containers_to_start.assign(start.rbegin(), start.rend());
  return initialized;
}

}  // namespace

SandboxDecision sandbox_changed(const kube::Pod& pod, const PodRuntimeStatus& status) {
  if (status.sandboxes.empty()) return {.changed = true, .attempt = 0};
  int ready = 0;
  for (const auto& s : status.sandboxes) ready += s.ready ? 1 : 0;
  const RuntimeSandbox& newest = status.sandboxes.front();
  SandboxDecision again{.changed = true, .attempt = newest.attempt + 1, .sandbox_id = newest.id};
  if (ready > 1 || !newest.ready) return again;
  if (newest.host_network != pod.spec.host_network) return again;
  if (!pod.spec.host_network && newest.ip.empty()) return again;
  return {.changed = false, .attempt = newest.attempt, .sandbox_id = newest.id};
}

bool should_container_be_restarted(const kube::Container& c, const kube::Pod& pod, const PodRuntimeStatus& status) {
  const RuntimeContainer* rc = status.latest(c.name);
  if (!rc) return true;
  if (rc->state == ContainerState::Running) return false;
  if (rc->state == ContainerState::Unknown || rc->state == ContainerState::Created) return true;
  if (kube::is_sidecar(c)) return true;
  if (pod.spec.restart_policy == "Never") return false;
  if (pod.spec.restart_policy == "OnFailure" && rc->exit_code == 0) return false;
  return true;
}

PodActions compute_pod_actions(const kube::Pod& pod, const PodRuntimeStatus& status, const ActionInputs& in) {
  PodActions a;
  SandboxDecision sb = sandbox_changed(pod, status);
  a.kill_pod = sb.changed;
  a.create_sandbox = sb.changed;
  a.sandbox_id = sb.sandbox_id;
  a.attempt = sb.attempt;

  if (sb.changed) {
    if (!restart_on_failure(pod) && sb.attempt != 0 && !status.containers.empty()) {
      // restartPolicy Never and the pod already ran: do not start it again.
      a.create_sandbox = false;
      return a;
    }
    std::vector<size_t> to_start;
    for (size_t i = 0; i < pod.spec.containers.size(); ++i) {
      const auto& c = pod.spec.containers[i];
      if (pod.spec.restart_policy == "OnFailure" && container_succeeded(c, status)) continue;
      to_start.push_back(i);
    }
    if (to_start.empty() && any_regular_container_created(pod, status)) {
      // Initialization done and nothing to start (OnFailure, all succeeded): no new sandbox.
      a.create_sandbox = false;
      return a;
    }
    if (!pod.spec.init_containers.empty()) {
      a.init_containers_to_start = {0};
      return a;
    }
    a.containers_to_start = std::move(to_start);
    return a;
  }

  // Initialization failed or still in progress: regular containers wait.
  if (!compute_init_actions(pod, status, in, a) || a.kill_pod) return a;

  size_t keep = 0;
  for (size_t i = 0; i < pod.spec.containers.size(); ++i) {
    const auto& c = pod.spec.containers[i];
    const RuntimeContainer* rc = status.latest(c.name);
    if (!rc || rc->state != ContainerState::Running) {
      if (should_container_be_restarted(c, pod, status)) {
        // A container left in "created" or "unknown" is killed before a new one starts.
        if (rc && (rc->state == ContainerState::Created || rc->state == ContainerState::Unknown))
          a.containers_to_kill.push_back({rc->id, c.name, "Container is in " + std::string(to_string(rc->state)) + " state"});
        a.containers_to_start.push_back(i);
      }
      continue;
    }
    std::string reason;
    bool restart = true;
    if (rc->hash != cri::hash_container(c)) {
      reason = "Container spec hash changed";
    } else if (in.liveness_failed.count(c.name)) {
      reason = "Container failed liveness probe";
      restart = pod.spec.restart_policy != "Never";
    } else if (in.startup_failed.count(c.name)) {
      reason = "Container failed startup probe";
      restart = pod.spec.restart_policy != "Never";
    } else {
      ++keep;
      continue;
    }
    if (restart) a.containers_to_start.push_back(i);
    a.containers_to_kill.push_back({rc->id, c.name, reason + ", will be restarted"});
  }
  if (keep == 0 && a.containers_to_start.empty()) {
    // Nothing left to run: stop the pod, and do not let its sidecars keep it alive.
    a.kill_pod = true;
    a.init_containers_to_start.clear();
  }
  return a;
}

}  // namespace knode::kubelet
