#include "agent/kubelet/runtime_pod.h"

#include <algorithm>
#include <cstdlib>

#include "cri/convert.h"
#include "cri/errors.h"
#include "cri/types.h"

namespace knode::kubelet {

std::string_view to_string(ContainerState s) {
  switch (s) {
    case ContainerState::Created: return "created";
    case ContainerState::Running: return "running";
    case ContainerState::Exited: return "exited";
    case ContainerState::Unknown: return "unknown";
  }
  return "unknown";
}

const RuntimeContainer* PodRuntimeStatus::latest(std::string_view container_name) const {
  for (const auto& c : containers)
    if (c.name == container_name) return &c;
  return nullptr;
}

namespace {

ContainerState from_cri(cri::v1::ContainerState s) {
  switch (s) {
    case cri::v1::CONTAINER_CREATED: return ContainerState::Created;
    case cri::v1::CONTAINER_RUNNING: return ContainerState::Running;
    case cri::v1::CONTAINER_EXITED: return ContainerState::Exited;
    default: return ContainerState::Unknown;
  }
}

std::string annotation(const google::protobuf::Map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

Result<PodRuntimeStatus> get_pod_runtime_status(cri::Runtime& rt, const std::string& uid) {
  PodRuntimeStatus out;
  out.uid = uid;
  cri::v1::PodSandboxFilter sf;
  (*sf.mutable_label_selector())[std::string(cri::kPodUidLabel)] = uid;
  auto sandboxes = rt.ListPodSandbox(&sf);
  if (!sandboxes) return sandboxes.error();
  for (const auto& s : *sandboxes) {
    RuntimeSandbox rs;
    rs.id = s.id();
    rs.ready = s.state() == cri::v1::SANDBOX_READY;
    rs.attempt = s.metadata().attempt();
    rs.created_at = s.created_at();
    out.name = s.metadata().name();
    out.namespace_ = s.metadata().namespace_();
    out.sandboxes.push_back(std::move(rs));
  }
  std::sort(out.sandboxes.begin(), out.sandboxes.end(),
            [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  if (!out.sandboxes.empty()) {
    auto st = rt.PodSandboxStatus(out.sandboxes[0].id, false);
    if (st) {
      const auto& ss = st->status();
      out.sandboxes[0].ready = ss.state() == cri::v1::SANDBOX_READY;
      out.sandboxes[0].ip = ss.network().ip();
      for (const auto& ip : ss.network().additional_ips()) out.sandboxes[0].additional_ips.push_back(ip.ip());
      out.sandboxes[0].host_network =
          ss.linux().namespaces().options().network() == cri::v1::NODE;
    } else if (!cri::is_not_found(st.error())) {
      return st.error();
    }
  }

  cri::v1::ContainerFilter cf;
  (*cf.mutable_label_selector())[std::string(cri::kPodUidLabel)] = uid;
  auto containers = rt.ListContainers(&cf);
  if (!containers) return containers.error();
  for (const auto& c : *containers) {
    RuntimeContainer rc;
    rc.id = c.id();
    rc.name = c.metadata().name();
    rc.sandbox_id = c.pod_sandbox_id();
    rc.state = from_cri(c.state());
    rc.created_at = c.created_at();
    rc.image = c.image().image();
    rc.image_ref = c.image_ref();
    rc.hash = std::strtoull(annotation(c.annotations(), cri::kContainerHashAnnotation).c_str(), nullptr, 16);
    rc.restart_count = static_cast<uint32_t>(
        std::strtoul(annotation(c.annotations(), cri::kContainerRestartCountAnnotation).c_str(), nullptr, 10));
    std::string grace = annotation(c.annotations(), cri::kPodTerminationGracePeriodAnnotation);
    if (!grace.empty()) rc.termination_grace_seconds = std::strtoll(grace.c_str(), nullptr, 10);
    rc.pre_stop_json = annotation(c.annotations(), cri::kPreStopHandlerAnnotation);
    rc.ports_json = annotation(c.annotations(), cri::kContainerPortsAnnotation);
    auto st = rt.ContainerStatus(c.id(), false);
    if (st) {
      const auto& cs = st->status();
      rc.state = from_cri(cs.state());
      rc.started_at = cs.started_at();
      rc.finished_at = cs.finished_at();
      rc.exit_code = cs.exit_code();
      rc.reason = cs.reason();
      rc.message = cs.message();
      if (!cs.image().image().empty()) rc.image = cs.image().image();
      if (!cs.image_ref().empty()) rc.image_ref = cs.image_ref();
    } else if (cri::is_not_found(st.error())) {
      continue;  // removed between the list and the status
    } else {
      return st.error();
    }
    out.containers.push_back(std::move(rc));
  }
  std::sort(out.containers.begin(), out.containers.end(),
            [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  return out;
}

}  // namespace knode::kubelet
