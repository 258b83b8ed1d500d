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

struct NextInit {
  const RuntimeContainer* last_status = nullptr;
  std::optional<size_t> next;
  bool done = false;
};

// upstream's findNextInitContainerToRun (without sidecars).
NextInit find_next_init_container(const kube::Pod& pod, const PodRuntimeStatus& status) {
  const auto& inits = pod.spec.init_containers;
  if (inits.empty()) return {.done = true};
  // Any regular container with a status means initialization completed earlier.
  for (const auto& c : pod.spec.containers)
    if (status.latest(c.name)) return {.done = true};
  // A failed init container is restarted first.
  for (size_t i = inits.size(); i-- > 0;) {
    const RuntimeContainer* rc = status.latest(inits[i].name);
    if (rc && init_failed(*rc)) return {.last_status = rc, .next = i};
  }
  for (size_t i = inits.size(); i-- > 0;) {
    const RuntimeContainer* rc = status.latest(inits[i].name);
    if (!rc) continue;
    if (rc->state == ContainerState::Exited && rc->exit_code == 0) {
      if (i + 1 == inits.size()) return {.last_status = rc, .done = true};
      return {.last_status = rc, .next = i + 1};
    }
    // Created or running: wait for it.
    return {.last_status = rc};
  }
  return {.next = 0};
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
    if (to_start.empty() && find_next_init_container(pod, status).done) {
      // Everything succeeded (OnFailure): no new sandbox.
      a.create_sandbox = false;
      return a;
    }
    if (!pod.spec.init_containers.empty()) {
      a.next_init_container = 0;
      return a;
    }
    a.containers_to_start = std::move(to_start);
    return a;
  }

  NextInit init = find_next_init_container(pod, status);
  if (!init.done) {
    if (init.next) {
      bool failed = init.last_status && init_failed(*init.last_status);
      if (failed && !restart_on_failure(pod)) {
        a.kill_pod = true;
      } else {
        if (init.last_status && init.last_status->state == ContainerState::Unknown)
          a.containers_to_kill.push_back({init.last_status->id, init.last_status->name, "Init container is in unknown state"});
        a.next_init_container = init.next;
      }
    }
    return a;
  }

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
    } else {
      ++keep;
      continue;
    }
    if (restart) a.containers_to_start.push_back(i);
    a.containers_to_kill.push_back({rc->id, c.name, reason + ", will be restarted"});
  }
  if (keep == 0 && a.containers_to_start.empty()) a.kill_pod = true;
  return a;
}

}  // namespace knode::kubelet
