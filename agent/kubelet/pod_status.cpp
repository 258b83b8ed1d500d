#include "agent/kubelet/pod_status.h"

#include "agent/kubelet/pod_actions.h"
#include "agent/kubelet/time_format.h"
#include "cri/convert_qos.h"

namespace knode::kubelet {

namespace {

const kube::ContainerStatus* find_status(const std::vector<kube::ContainerStatus>& v, const std::string& name) {
  for (const auto& s : v)
    if (s.name == name) return &s;
  return nullptr;
}

kube::ContainerState to_api_state(const RuntimeContainer& rc, const StatusInputs& in) {
  kube::ContainerState st;
  switch (rc.state) {
    case ContainerState::Running:
      st.running = kube::ContainerStateRunning{rfc3339(rc.started_at)};
      break;
    case ContainerState::Exited: {
      kube::ContainerStateTerminated t;
      t.exit_code = rc.exit_code;
      t.reason = rc.reason;
      t.message = rc.message;
      t.started_at = rfc3339(rc.started_at);
      t.finished_at = rfc3339(rc.finished_at);
      t.container_id = in.runtime_name + "://" + rc.id;
      st.terminated = std::move(t);
      break;
    }
    case ContainerState::Created:
      st.waiting = kube::ContainerStateWaiting{"ContainerCreating", ""};
      break;
    case ContainerState::Unknown:
      st.waiting = kube::ContainerStateWaiting{"ContainerStatusUnknown",
                                               "The container could not be located when the pod was terminated"};
      break;
  }
  return st;
}

std::vector<kube::ContainerStatus> container_statuses(const kube::Pod& pod, const std::vector<kube::Container>& specs,
                                                      const PodRuntimeStatus& rs, const StatusInputs& in,
                                                      const std::string& default_waiting, bool init) {
  std::vector<kube::ContainerStatus> out;
  for (const auto& c : specs) {
    kube::ContainerStatus s;
    s.name = c.name;
    s.image = c.image;
    // The newest two runtime containers of this name: state and lastState.
    const RuntimeContainer* cur = nullptr;
    const RuntimeContainer* prev = nullptr;
    for (const auto& rc : rs.containers) {
      if (rc.name != c.name) continue;
      if (!cur) cur = &rc;
      else if (!prev) { prev = &rc; break; }
    }
    if (!cur) {
      s.state.waiting = kube::ContainerStateWaiting{default_waiting, ""};
      s.started = false;
    } else {
      s.state = to_api_state(*cur, in);
      s.container_id = in.runtime_name + "://" + cur->id;
      s.image_id = cur->image_ref;
      s.restart_count = static_cast<int32_t>(cur->restart_count);
      if (prev && prev->state == ContainerState::Exited) s.last_state = to_api_state(*prev, in);
      bool running = cur->state == ContainerState::Running;
      auto started = in.started.find(c.name);
      bool is_started = running && (!c.startup_probe || (started != in.started.end() && started->second));
      s.started = is_started;
      auto ready = in.ready.find(c.name);
      if (init && !kube::is_sidecar(c)) {
        s.ready = cur->state == ContainerState::Exited && cur->exit_code == 0;
      } else {
        // Regular containers and sidecars: started, and the readiness probe (if any) succeeded.
        s.ready = is_started && (!c.readiness_probe || (ready != in.ready.end() && ready->second));
      }
    }
    // A container the next sync will (re)start shows why it is waiting.
    auto reason = in.reasons.find(c.name);
    bool init_succeeded = init && !kube::is_sidecar(c) && cur && cur->state == ContainerState::Exited &&
                          cur->exit_code == 0;
    if (reason != in.reasons.end() && !init_succeeded && should_container_be_restarted(c, pod, rs)) {
      if (s.state.terminated) s.last_state = s.state;
      s.state = {};
      s.state.waiting = kube::ContainerStateWaiting{reason->second.reason, reason->second.message};
      s.ready = false;
    }
    out.push_back(std::move(s));
  }
  return out;
}

void set_condition(std::vector<kube::PodCondition>& out, const kube::PodStatus& previous, std::string type,
                   bool ok, std::string reason, std::string message, int64_t now) {
  kube::PodCondition c;
  c.type = std::move(type);
  c.status = ok ? "True" : "False";
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.last_transition_time = rfc3339(now);
  for (const auto& p : previous.conditions)
    if (p.type == c.type && p.status == c.status && !p.last_transition_time.empty())
      c.last_transition_time = p.last_transition_time;
  out.push_back(std::move(c));
}

std::string name_list(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
  return s + "]";
}

}  // namespace

std::string pod_phase(const kube::PodSpec& spec, const std::vector<kube::ContainerStatus>& init_statuses,
                      const std::vector<kube::ContainerStatus>& statuses) {
  int pending_init = 0, pending_sidecars = 0, failed_init = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const auto& c : spec.init_containers) {
    const kube::ContainerStatus* s = find_status(init_statuses, c.name);
    if (kube::is_sidecar(c)) {
      // A sidecar counts as running (or pending until started); once stopped it does not count.
      if (!s) { ++unknown; continue; }
      if (s->state.running) {
        if (!(s->started && *s->started)) ++pending_sidecars;
        ++running;
      } else if (s->state.waiting && !s->last_state.terminated) {
        ++pending_sidecars;
        ++waiting;
      } else if (!s->state.terminated && !s->state.waiting) {
        ++pending_sidecars;
        ++unknown;
      }
      continue;
    }
    if (!s) { ++pending_init; continue; }
    if (s->state.running) ++pending_init;
    else if (s->state.terminated) { if (s->state.terminated->exit_code != 0) ++failed_init; }
    else if (s->state.waiting) {
      if (s->last_state.terminated) { if (s->last_state.terminated->exit_code != 0) ++failed_init; }
      else ++pending_init;
    } else ++pending_init;
  }
  bool regular_started = false;  // upstream's HasAnyRegularContainerStarted
  int regular_running = 0, regular_stopped = 0;
  for (const auto& c : spec.containers) {
    const kube::ContainerStatus* s = find_status(statuses, c.name);
    if (!s) { ++unknown; continue; }
    if (s->state.running || s->state.terminated) regular_started = true;
    if (s->state.running) { ++running; ++regular_running; }
    else if (s->state.terminated) { ++stopped; ++regular_stopped; if (s->state.terminated->exit_code == 0) ++succeeded; }
    else if (s->state.waiting) { if (s->last_state.terminated) { ++stopped; ++regular_stopped; } else ++waiting; }
    else ++unknown;
  }
  if (failed_init > 0 && spec.restart_policy == "Never") return "Failed";
  if (pending_init > 0 || failed_init > 0) {
    // Initialization in progress, unless a regular container already ran (init containers removed).
    if (regular_running + regular_stopped == 0) return "Pending";
  }
  if (pending_sidecars > 0 && !regular_started) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown == 0) return "Running";
  if (running == 0 && stopped > 0 && unknown == 0) {
    if (spec.restart_policy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (spec.restart_policy == "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

kube::PodStatus generate_pod_status(const kube::Pod& pod, const PodRuntimeStatus& rs, const StatusInputs& in,
                                    const kube::PodStatus& previous) {
  kube::PodStatus s;
  // Init containers all done (or a regular container already ran) decides the default reason.
  bool init_done = true;
  for (const auto& c : pod.spec.init_containers) {
    const RuntimeContainer* rc = rs.latest(c.name);
    auto started = in.started.find(c.name);
    bool ok = rc && (kube::is_sidecar(c) ? rc->state == ContainerState::Running &&
                                               (!c.startup_probe || (started != in.started.end() && started->second))
                                         : rc->state == ContainerState::Exited && rc->exit_code == 0);
    if (!ok) init_done = false;
  }
  for (const auto& c : pod.spec.containers)
    if (rs.latest(c.name)) init_done = true;

  s.init_container_statuses = container_statuses(pod, pod.spec.init_containers, rs, in, "PodInitializing", true);
  s.container_statuses =
      container_statuses(pod, pod.spec.containers, rs, in, init_done ? "ContainerCreating" : "PodInitializing", false);
  s.phase = pod_phase(pod.spec, s.init_container_statuses, s.container_statuses);
  s.qos_class = std::string(cri::to_string(cri::pod_qos(pod)));
  s.host_ip = in.host_ip;
  if (!in.host_ip.empty()) s.host_ips.push_back({in.host_ip});
  if (!rs.sandboxes.empty() && rs.sandboxes.front().ready) {
    const auto& sb = rs.sandboxes.front();
    if (pod.spec.host_network) {
      s.pod_ip = in.host_ip;
      if (!in.host_ip.empty()) s.pod_ips.push_back({in.host_ip});
    } else if (!sb.ip.empty()) {
      s.pod_ip = sb.ip;
      s.pod_ips.push_back({sb.ip});
      for (const auto& ip : sb.additional_ips) s.pod_ips.push_back({ip});
    }
  } else if (s.phase == "Succeeded" || s.phase == "Failed") {
    s.pod_ip = previous.pod_ip;
    s.pod_ips = previous.pod_ips;
  }
  s.start_time = previous.start_time.empty() ? rfc3339(in.now_ns) : previous.start_time;

  // Conditions.
  const int64_t now = in.now_ns;
  bool completed = s.phase == "Succeeded";
  bool sandbox_ok = !rs.sandboxes.empty() && rs.sandboxes.front().ready &&
                    (pod.spec.host_network || !rs.sandboxes.front().ip.empty());
  set_condition(s.conditions, previous, "PodReadyToStartContainers", sandbox_ok, "", "", now);

  std::vector<std::string> incomplete;
  for (const auto& cs : s.init_container_statuses) {
    const kube::Container* c = kube::find_container(pod.spec, cs.name);
    bool ok = (c && kube::is_sidecar(*c)) ? (cs.started && *cs.started)
                                          : (cs.state.terminated && cs.state.terminated->exit_code == 0);
    if (!ok && !(cs.state.waiting && cs.last_state.terminated && cs.last_state.terminated->exit_code == 0))
      incomplete.push_back(cs.name);
  }
  bool initialized = incomplete.empty() || init_done;
  set_condition(s.conditions, previous, "Initialized", initialized, initialized ? "" : "ContainersNotInitialized",
                initialized ? "" : "containers with incomplete status: " + name_list(incomplete), now);

  // Sidecars count for readiness too, listed first (as upstream).
  std::vector<std::string> unready;
  for (const auto& cs : s.init_container_statuses) {
    const kube::Container* c = kube::find_container(pod.spec, cs.name);
    if (c && kube::is_sidecar(*c) && !cs.ready) unready.push_back(cs.name);
  }
  for (const auto& cs : s.container_statuses)
    if (!cs.ready) unready.push_back(cs.name);
  const bool failed = s.phase == "Failed";
  bool ready = unready.empty() && !completed && !failed;
  std::string reason, message;
  if (completed) {
    reason = "PodCompleted";
  } else if (failed) {
    reason = "PodFailed";  // terminal: not ready, whatever is still stopping
  } else if (!ready) {
    reason = "ContainersNotReady";
    message = "containers with unready status: " + name_list(unready);
  }
  set_condition(s.conditions, previous, "Ready", ready, reason, message, now);
  set_condition(s.conditions, previous, "ContainersReady", ready, reason, message, now);
  set_condition(s.conditions, previous, "PodScheduled", true, "", "", now);
  return s;
}

}  // namespace knode::kubelet
