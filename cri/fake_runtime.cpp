#include "cri/fake_runtime.h"

#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <set>

namespace knode::cri {
namespace {

struct Failure {
  Code code;
  std::string message;
};

struct FakeSandbox {
  v1::PodSandboxConfig config;
  std::string runtime_handler;
  v1::PodSandboxState state = v1::SANDBOX_READY;
  int64_t created_at = 0;
  std::string ip;
};

struct FakeContainer {
  std::string sandbox_id;
  v1::ContainerConfig config;
  std::string log_path;  // absolute
  std::string image_ref;
  v1::ContainerState state = v1::CONTAINER_CREATED;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int32_t exit_code = 0;
  std::string reason;
  std::string message;
  v1::LinuxContainerResources resources;
};

struct FakeImage {
  std::string id;
  uint64_t size = 0;
};

bool labels_match(const google::protobuf::Map<std::string, std::string>& selector,
                  const google::protobuf::Map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// containerd accepts a unique prefix of an id in filters; full ids are the common case.
bool id_matches(const std::string& wanted, const std::string& id) {
  return wanted.empty() || id.starts_with(wanted);
}

// 64 hex digits, like containerd's ids, distinct from their first digits on.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::string hex_id(uint64_t n) {
  return fmt::format("{:016x}{:016x}{:016x}{:016x}", mix(n), mix(n + (1ULL << 32)),
                     mix(n + (2ULL << 32)), mix(n + (3ULL << 32)));
}

}  // namespace

struct FakeRuntime::State {
  mutable std::mutex mu;
  std::vector<std::string> calls;
  std::map<std::string, std::deque<Failure>> failures;
  std::map<std::string, Failure> refused_pulls;
  std::map<std::string, FakeSandbox> sandboxes;
  std::map<std::string, FakeContainer> containers;
  std::map<std::string, FakeImage> images;  // by ref
  std::map<std::string, v1::RuntimeCondition> conditions;
  std::vector<std::string> runtime_handlers;
  std::map<std::string, std::string> status_info;
  ExecHandler exec_handler;
  std::function<int64_t()> now_ns;
  int graceful_exit = 143;
  int killed_exit = 137;
  uint64_t next_id = 1;
  uint32_t next_ip = 2;
  std::string pod_cidr;

  // Records the call and returns a scripted failure if one is queued. Caller holds mu.
  std::optional<Error> enter(const std::string& method, const std::string& what) {
    calls.push_back(method);
    auto it = failures.find(method);
    if (it == failures.end() || it->second.empty()) return std::nullopt;
    Failure f = std::move(it->second.front());
    it->second.pop_front();
    return rpc_error(what, f.code, f.message);
  }

  void finish(FakeContainer& c, int code, std::string reason = {}, std::string message = {}) {
    c.state = v1::CONTAINER_EXITED;
    c.finished_at = now_ns();
    c.exit_code = code;
    c.reason = reason.empty() ? (code == 0 ? "Completed" : "Error") : std::move(reason);
    c.message = std::move(message);
  }

  void stop_sandbox_containers(const std::string& sandbox_id) {
    for (auto& [id, c] : containers) {
      if (c.sandbox_id == sandbox_id && c.state == v1::CONTAINER_RUNNING) finish(c, killed_exit);
    }
  }

  v1::ContainerStatus status_of(const std::string& id, const FakeContainer& c) const {
    v1::ContainerStatus s;
    s.set_id(id);
    *s.mutable_metadata() = c.config.metadata();
    s.set_state(c.state);
    s.set_created_at(c.created_at);
    s.set_started_at(c.started_at);
    s.set_finished_at(c.finished_at);
    s.set_exit_code(c.exit_code);
    *s.mutable_image() = c.config.image();
    s.set_image_ref(c.image_ref);
    s.set_image_id(c.image_ref);
    s.set_reason(c.reason);
    s.set_message(c.message);
    *s.mutable_labels() = c.config.labels();
    *s.mutable_annotations() = c.config.annotations();
    *s.mutable_mounts() = c.config.mounts();
    s.set_log_path(c.log_path);
    *s.mutable_resources()->mutable_linux() = c.resources;
    return s;
  }

  const FakeImage* find_image(const std::string& ref) const {
    auto it = images.find(ref);
    if (it != images.end()) return &it->second;
    for (const auto& [name, img] : images) {
      if (img.id == ref) return &img;
    }
    return nullptr;
  }
};

FakeRuntime::FakeRuntime() : s_(std::make_unique<State>()) {
  s_->now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  set_condition("RuntimeReady", true);
  set_condition("NetworkReady", true);
}

FakeRuntime::~FakeRuntime() = default;

// --- Scripting and inspection ---------------------------------------------------------------

void FakeRuntime::fail_next(const std::string& method, Code code, const std::string& message,
                            int times) {
  std::lock_guard lock(s_->mu);
  for (int i = 0; i < times; ++i) s_->failures[method].push_back({code, message});
}

void FakeRuntime::refuse_pull(const std::string& image, Code code, const std::string& message) {
  std::lock_guard lock(s_->mu);
  s_->refused_pulls[image] = {code, message};
}

void FakeRuntime::allow_pull(const std::string& image) {
  std::lock_guard lock(s_->mu);
  s_->refused_pulls.erase(image);
}

void FakeRuntime::add_image(const std::string& image, uint64_t size_bytes) {
  std::lock_guard lock(s_->mu);
  s_->images[image] = {"sha256:" + hex_id(s_->next_id++), size_bytes};
}

void FakeRuntime::set_exec_handler(ExecHandler handler) {
  std::lock_guard lock(s_->mu);
  s_->exec_handler = std::move(handler);
}

Status FakeRuntime::exit_container(const std::string& container_id, int exit_code,
                                   std::string reason, std::string message) {
  std::lock_guard lock(s_->mu);
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return Error(fmt::format("fake runtime: no container {:?}", container_id));
  }
  if (it->second.state != v1::CONTAINER_RUNNING) {
    return Error(fmt::format("fake runtime: container {:?} is not running", container_id));
  }
  s_->finish(it->second, exit_code, std::move(reason), std::move(message));
  return {};
}

void FakeRuntime::set_condition(const std::string& type, bool status, const std::string& reason,
                                const std::string& message) {
  std::lock_guard lock(s_->mu);
  v1::RuntimeCondition c;
  c.set_type(type);
  c.set_status(status);
  c.set_reason(reason);
  c.set_message(message);
  s_->conditions[type] = std::move(c);
}

void FakeRuntime::set_stop_exit_codes(int graceful, int killed) {
  std::lock_guard lock(s_->mu);
  s_->graceful_exit = graceful;
  s_->killed_exit = killed;
}

void FakeRuntime::set_clock(std::function<int64_t()> now_ns) {
  std::lock_guard lock(s_->mu);
  s_->now_ns = std::move(now_ns);
}

std::vector<std::string> FakeRuntime::calls() const {
  std::lock_guard lock(s_->mu);
  return s_->calls;
}

void FakeRuntime::clear_calls() {
  std::lock_guard lock(s_->mu);
  s_->calls.clear();
}

size_t FakeRuntime::sandbox_count() const {
  std::lock_guard lock(s_->mu);
  return s_->sandboxes.size();
}

size_t FakeRuntime::container_count() const {
  std::lock_guard lock(s_->mu);
  return s_->containers.size();
}

std::vector<std::string> FakeRuntime::image_names() const {
  std::lock_guard lock(s_->mu);
  std::vector<std::string> out;
  for (const auto& [name, img] : s_->images) out.push_back(name);
  return out;
}

std::string FakeRuntime::pod_cidr() const {
  std::lock_guard lock(s_->mu);
  return s_->pod_cidr;
}

// --- Runtime --------------------------------------------------------------------------------

Result<v1::VersionResponse> FakeRuntime::Version() {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("Version", "Version")) return *err;
  v1::VersionResponse r;
  r.set_version("0.1.0");
  r.set_runtime_name("fake");
  r.set_runtime_version("0.1.0");
  r.set_runtime_api_version(kApiVersion);
  return r;
}

Result<v1::StatusResponse> FakeRuntime::RuntimeStatus(bool verbose) {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("Status", "Status")) return *err;
  v1::StatusResponse r;
  for (const auto& [type, c] : s_->conditions) *r.mutable_status()->add_conditions() = c;
  r.add_runtime_handlers();  // the default handler
  for (const auto& h : s_->runtime_handlers) r.add_runtime_handlers()->set_name(h);
  if (verbose)
    for (const auto& [k, v] : s_->status_info) (*r.mutable_info())[k] = v;
  return r;
}

void FakeRuntime::add_runtime_handler(const std::string& name) {
  std::lock_guard lock(s_->mu);
  s_->runtime_handlers.push_back(name);
}

void FakeRuntime::set_status_info(const std::string& key, const std::string& value) {
  std::lock_guard lock(s_->mu);
  s_->status_info[key] = value;
}

Status FakeRuntime::UpdateRuntimeConfig(const std::string& pod_cidr) {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("UpdateRuntimeConfig", "UpdateRuntimeConfig")) return *err;
  s_->pod_cidr = pod_cidr;
  return {};
}

Result<std::string> FakeRuntime::RunPodSandbox(const v1::PodSandboxConfig& config,
                                               const std::string& runtime_handler) {
  const auto& m = config.metadata();
  const std::string what = for_pod("RunPodSandbox", m.namespace_(), m.name());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("RunPodSandbox", what)) return *err;
  if (!config.has_metadata() || m.name().empty() || m.namespace_().empty() || m.uid().empty()) {
    return rpc_error(what, Code::InvalidArgument, "sandbox config must include metadata");
  }
  for (const auto& [id, sb] : s_->sandboxes) {
    const auto& o = sb.config.metadata();
    if (o.name() == m.name() && o.namespace_() == m.namespace_() && o.uid() == m.uid() &&
        o.attempt() == m.attempt()) {
      return rpc_error(what, Code::AlreadyExists,
                       fmt::format("sandbox name {}_{}_{}_{} is reserved for {:?}", m.name(),
                                   m.namespace_(), m.uid(), m.attempt(), id));
    }
  }
  FakeSandbox sb;
  sb.config = config;
  sb.runtime_handler = runtime_handler;
  sb.created_at = s_->now_ns();
  bool host_network = config.linux().security_context().namespace_options().network() == v1::NODE;
  if (!host_network) {
    uint32_t n = s_->next_ip++;
    sb.ip = fmt::format("10.88.{}.{}", (n >> 8) & 0xff, n & 0xff);
  }
  std::string id = hex_id(s_->next_id++);
  s_->sandboxes.emplace(id, std::move(sb));
  return id;
}

Status FakeRuntime::StopPodSandbox(const std::string& sandbox_id) {
  const std::string what = on("StopPodSandbox", sandbox_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("StopPodSandbox", what)) return *err;
  auto it = s_->sandboxes.find(sandbox_id);
  if (it == s_->sandboxes.end()) {
    return rpc_error(what, Code::NotFound,
                     fmt::format("an error occurred when try to find sandbox {:?}: not found",
                                 sandbox_id));
  }
  s_->stop_sandbox_containers(sandbox_id);
  it->second.state = v1::SANDBOX_NOTREADY;
  return {};
}

Status FakeRuntime::RemovePodSandbox(const std::string& sandbox_id) {
  const std::string what = on("RemovePodSandbox", sandbox_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("RemovePodSandbox", what)) return *err;
  if (!s_->sandboxes.contains(sandbox_id)) return {};
  std::erase_if(s_->containers, [&](const auto& kv) { return kv.second.sandbox_id == sandbox_id; });
  s_->sandboxes.erase(sandbox_id);
  return {};
}

Result<v1::PodSandboxStatusResponse> FakeRuntime::PodSandboxStatus(const std::string& sandbox_id,
                                                                   bool verbose) {
  const std::string what = on("PodSandboxStatus", sandbox_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("PodSandboxStatus", what)) return *err;
  auto it = s_->sandboxes.find(sandbox_id);
  if (it == s_->sandboxes.end()) {
    return rpc_error(what, Code::NotFound,
                     fmt::format("an error occurred when try to find sandbox: not found"));
  }
  const FakeSandbox& sb = it->second;
  v1::PodSandboxStatusResponse r;
  auto* s = r.mutable_status();
  s->set_id(sandbox_id);
  *s->mutable_metadata() = sb.config.metadata();
  s->set_state(sb.state);
  s->set_created_at(sb.created_at);
  s->mutable_network()->set_ip(sb.ip);
  *s->mutable_linux()->mutable_namespaces()->mutable_options() =
      sb.config.linux().security_context().namespace_options();
  *s->mutable_labels() = sb.config.labels();
  *s->mutable_annotations() = sb.config.annotations();
  s->set_runtime_handler(sb.runtime_handler);
  if (verbose) (*r.mutable_info())["info"] = "{}";
  return r;
}

Result<std::vector<v1::PodSandbox>> FakeRuntime::ListPodSandbox(const v1::PodSandboxFilter* filter) {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ListPodSandbox", "ListPodSandbox")) return *err;
  std::vector<v1::PodSandbox> out;
  for (const auto& [id, sb] : s_->sandboxes) {
    if (filter) {
      if (!id_matches(filter->id(), id)) continue;
      if (filter->has_state() && filter->state().state() != sb.state) continue;
      if (!labels_match(filter->label_selector(), sb.config.labels())) continue;
    }
    v1::PodSandbox p;
    p.set_id(id);
    *p.mutable_metadata() = sb.config.metadata();
    p.set_state(sb.state);
    p.set_created_at(sb.created_at);
    *p.mutable_labels() = sb.config.labels();
    *p.mutable_annotations() = sb.config.annotations();
    p.set_runtime_handler(sb.runtime_handler);
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::string> FakeRuntime::CreateContainer(const std::string& sandbox_id,
                                                 const v1::ContainerConfig& config,
                                                 const v1::PodSandboxConfig& sandbox_config) {
  const auto& pm = sandbox_config.metadata();
  const std::string what =
      sandbox_config.has_metadata()
          ? fmt::format("CreateContainer \"{}\" for pod \"{}/{}\"", config.metadata().name(),
                        pm.namespace_(), pm.name())
          : fmt::format("CreateContainer \"{}\" in sandbox \"{}\"", config.metadata().name(),
                        sandbox_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("CreateContainer", what)) return *err;
  auto sb = s_->sandboxes.find(sandbox_id);
  if (sb == s_->sandboxes.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("sandbox {:?} not found", sandbox_id));
  }
  if (sb->second.state != v1::SANDBOX_READY) {
    return rpc_error(what, Code::FailedPrecondition,
                     fmt::format("sandbox {:?} is not running", sandbox_id));
  }
  if (!config.has_metadata() || config.metadata().name().empty()) {
    return rpc_error(what, Code::InvalidArgument, "container config must include metadata");
  }
  for (const auto& [id, c] : s_->containers) {
    if (c.sandbox_id == sandbox_id && c.config.metadata().name() == config.metadata().name() &&
        c.config.metadata().attempt() == config.metadata().attempt()) {
      return rpc_error(what, Code::AlreadyExists,
                       fmt::format("container name {:?} attempt {} is reserved for {:?}",
                                   config.metadata().name(), config.metadata().attempt(), id));
    }
  }
  const FakeImage* image = s_->find_image(config.image().image());
  if (!image) {
    return rpc_error(what, Code::NotFound,
                     fmt::format("failed to get image {:?}: not found", config.image().image()));
  }
  FakeContainer c;
  c.sandbox_id = sandbox_id;
  c.config = config;
  c.image_ref = image->id;
  c.created_at = s_->now_ns();
  c.resources = config.linux().resources();
  const auto& dir = sb->second.config.log_directory();
  if (!dir.empty() && !config.log_path().empty()) c.log_path = dir + "/" + config.log_path();
  std::string id = hex_id(s_->next_id++);
  s_->containers.emplace(id, std::move(c));
  return id;
}

Status FakeRuntime::StartContainer(const std::string& container_id) {
  const std::string what = on("StartContainer", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("StartContainer", what)) return *err;
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("container {:?} not found", container_id));
  }
  FakeContainer& c = it->second;
  if (c.state != v1::CONTAINER_CREATED) {
    return rpc_error(what, Code::FailedPrecondition,
                     fmt::format("container is in {} state", v1::ContainerState_Name(c.state)));
  }
  if (s_->sandboxes.at(c.sandbox_id).state != v1::SANDBOX_READY) {
    return rpc_error(what, Code::FailedPrecondition, "sandbox container is not running");
  }
  c.state = v1::CONTAINER_RUNNING;
  c.started_at = s_->now_ns();
  return {};
}

Status FakeRuntime::StopContainer(const std::string& container_id, std::chrono::seconds timeout) {
  const std::string what = on("StopContainer", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("StopContainer", what)) return *err;
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("container {:?} not found", container_id));
  }
  if (it->second.state == v1::CONTAINER_RUNNING) {
    s_->finish(it->second, timeout.count() > 0 ? s_->graceful_exit : s_->killed_exit);
  }
  return {};
}

Status FakeRuntime::RemoveContainer(const std::string& container_id) {
  const std::string what = on("RemoveContainer", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("RemoveContainer", what)) return *err;
  s_->containers.erase(container_id);
  return {};
}

Result<std::vector<v1::Container>> FakeRuntime::ListContainers(const v1::ContainerFilter* filter) {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ListContainers", "ListContainers")) return *err;
  std::vector<v1::Container> out;
  for (const auto& [id, c] : s_->containers) {
    if (filter) {
      if (!id_matches(filter->id(), id)) continue;
      if (filter->has_state() && filter->state().state() != c.state) continue;
      if (!id_matches(filter->pod_sandbox_id(), c.sandbox_id)) continue;
      if (!labels_match(filter->label_selector(), c.config.labels())) continue;
    }
    v1::Container x;
    x.set_id(id);
    x.set_pod_sandbox_id(c.sandbox_id);
    *x.mutable_metadata() = c.config.metadata();
    *x.mutable_image() = c.config.image();
    x.set_image_ref(c.image_ref);
    x.set_image_id(c.image_ref);
    x.set_state(c.state);
    x.set_created_at(c.created_at);
    *x.mutable_labels() = c.config.labels();
    *x.mutable_annotations() = c.config.annotations();
    out.push_back(std::move(x));
  }
  return out;
}

Result<v1::ContainerStatusResponse> FakeRuntime::ContainerStatus(const std::string& container_id,
                                                                 bool verbose) {
  const std::string what = on("ContainerStatus", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ContainerStatus", what)) return *err;
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return rpc_error(what, Code::NotFound,
                     fmt::format("an error occurred when try to find container {:?}: not found",
                                 container_id));
  }
  v1::ContainerStatusResponse r;
  *r.mutable_status() = s_->status_of(container_id, it->second);
  if (verbose) (*r.mutable_info())["info"] = "{}";
  return r;
}

Status FakeRuntime::UpdateContainerResources(const std::string& container_id,
                                             const v1::LinuxContainerResources& resources) {
  const std::string what = on("UpdateContainerResources", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("UpdateContainerResources", what)) return *err;
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("container {:?} not found", container_id));
  }
  it->second.resources = resources;
  return {};
}

Status FakeRuntime::ReopenContainerLog(const std::string& container_id) {
  const std::string what = on("ReopenContainerLog", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ReopenContainerLog", what)) return *err;
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("container {:?} not found", container_id));
  }
  if (it->second.state != v1::CONTAINER_RUNNING) {
    return rpc_error(what, Code::FailedPrecondition, "container is not running");
  }
  return {};
}

Result<v1::ExecSyncResponse> FakeRuntime::ExecSync(const std::string& container_id,
                                                   const std::vector<std::string>& cmd,
                                                   std::chrono::seconds timeout) {
  const std::string what = on("ExecSync", container_id);
  ExecHandler handler;
  {
    std::lock_guard lock(s_->mu);
    if (auto err = s_->enter("ExecSync", what)) return *err;
    auto it = s_->containers.find(container_id);
    if (it == s_->containers.end()) {
      return rpc_error(what, Code::NotFound, fmt::format("container {:?} not found", container_id));
    }
    if (it->second.state != v1::CONTAINER_RUNNING) {
      return rpc_error(what, Code::FailedPrecondition,
                       fmt::format("container {:?} is not running", container_id));
    }
    handler = s_->exec_handler;
  }
  // The handler runs unlocked: it may call back into the fake.
  if (handler) return handler(container_id, cmd);
  return v1::ExecSyncResponse();
}

Result<std::string> FakeRuntime::Exec(const v1::ExecRequest& request) {
  const std::string what = on("Exec", request.container_id());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("Exec", what)) return *err;
  if (!s_->containers.contains(request.container_id())) {
    return rpc_error(what, Code::NotFound, "container not found");
  }
  return fmt::format("http://127.0.0.1:10010/exec/{}", s_->next_id++);
}

Result<std::string> FakeRuntime::Attach(const v1::AttachRequest& request) {
  const std::string what = on("Attach", request.container_id());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("Attach", what)) return *err;
  if (!s_->containers.contains(request.container_id())) {
    return rpc_error(what, Code::NotFound, "container not found");
  }
  return fmt::format("http://127.0.0.1:10010/attach/{}", s_->next_id++);
}

Result<std::string> FakeRuntime::PortForward(const v1::PortForwardRequest& request) {
  const std::string what = on("PortForward", request.pod_sandbox_id());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("PortForward", what)) return *err;
  if (!s_->sandboxes.contains(request.pod_sandbox_id())) {
    return rpc_error(what, Code::NotFound, "sandbox not found");
  }
  return fmt::format("http://127.0.0.1:10010/portforward/{}", s_->next_id++);
}

namespace {
v1::ContainerStats zero_stats(const std::string& id, const v1::ContainerConfig& config,
                              int64_t now) {
  v1::ContainerStats st;
  auto* a = st.mutable_attributes();
  a->set_id(id);
  *a->mutable_metadata() = config.metadata();
  *a->mutable_labels() = config.labels();
  *a->mutable_annotations() = config.annotations();
  st.mutable_cpu()->set_timestamp(now);
  st.mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(0);
  st.mutable_memory()->set_timestamp(now);
  st.mutable_memory()->mutable_working_set_bytes()->set_value(0);
  return st;
}
}  // namespace

Result<v1::ContainerStats> FakeRuntime::ContainerStats(const std::string& container_id) {
  const std::string what = on("ContainerStats", container_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ContainerStats", what)) return *err;
  auto it = s_->containers.find(container_id);
  if (it == s_->containers.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("container {:?} not found", container_id));
  }
  return zero_stats(container_id, it->second.config, s_->now_ns());
}

Result<std::vector<v1::ContainerStats>> FakeRuntime::ListContainerStats(
    const v1::ContainerStatsFilter* filter) {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ListContainerStats", "ListContainerStats")) return *err;
  std::vector<v1::ContainerStats> out;
  for (const auto& [id, c] : s_->containers) {
    if (c.state != v1::CONTAINER_RUNNING) continue;
    if (filter) {
      if (!id_matches(filter->id(), id)) continue;
      if (!id_matches(filter->pod_sandbox_id(), c.sandbox_id)) continue;
      if (!labels_match(filter->label_selector(), c.config.labels())) continue;
    }
    out.push_back(zero_stats(id, c.config, s_->now_ns()));
  }
  return out;
}

Result<v1::PodSandboxStats> FakeRuntime::PodSandboxStats(const std::string& sandbox_id) {
  const std::string what = on("PodSandboxStats", sandbox_id);
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("PodSandboxStats", what)) return *err;
  auto it = s_->sandboxes.find(sandbox_id);
  if (it == s_->sandboxes.end()) {
    return rpc_error(what, Code::NotFound, fmt::format("sandbox {:?} not found", sandbox_id));
  }
  v1::PodSandboxStats st;
  auto* a = st.mutable_attributes();
  a->set_id(sandbox_id);
  *a->mutable_metadata() = it->second.config.metadata();
  *a->mutable_labels() = it->second.config.labels();
  *a->mutable_annotations() = it->second.config.annotations();
  for (const auto& [id, c] : s_->containers) {
    if (c.sandbox_id == sandbox_id && c.state == v1::CONTAINER_RUNNING) {
      *st.mutable_linux()->add_containers() = zero_stats(id, c.config, s_->now_ns());
    }
  }
  return st;
}

Result<std::vector<v1::PodSandboxStats>> FakeRuntime::ListPodSandboxStats(
    const v1::PodSandboxStatsFilter* filter) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(s_->mu);
    if (auto err = s_->enter("ListPodSandboxStats", "ListPodSandboxStats")) return *err;
    for (const auto& [id, sb] : s_->sandboxes) {
      if (sb.state != v1::SANDBOX_READY) continue;
      if (filter && (!id_matches(filter->id(), id) ||
                     !labels_match(filter->label_selector(), sb.config.labels()))) {
        continue;
      }
      ids.push_back(id);
    }
  }
  std::vector<v1::PodSandboxStats> out;
  for (const auto& id : ids) {
    auto st = PodSandboxStats(id);
    if (st) out.push_back(std::move(*st));
  }
  return out;
}

// --- ImageService ---------------------------------------------------------------------------

namespace {
v1::Image image_message(const std::string& ref, const FakeImage& img) {
  v1::Image out;
  out.set_id(img.id);
  out.add_repo_tags(ref);
  out.set_size(img.size);
  out.mutable_spec()->set_image(img.id);
  return out;
}
}  // namespace

Result<std::vector<v1::Image>> FakeRuntime::ListImages(const v1::ImageFilter* filter) {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ListImages", "ListImages")) return *err;
  std::vector<v1::Image> out;
  for (const auto& [ref, img] : s_->images) {
    if (filter && !filter->image().image().empty() && filter->image().image() != ref &&
        filter->image().image() != img.id) {
      continue;
    }
    out.push_back(image_message(ref, img));
  }
  return out;
}

Result<v1::ImageStatusResponse> FakeRuntime::ImageStatus(const v1::ImageSpec& image, bool verbose) {
  const std::string what = on("ImageStatus", image.image());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ImageStatus", what)) return *err;
  v1::ImageStatusResponse r;
  for (const auto& [ref, img] : s_->images) {
    if (ref == image.image() || img.id == image.image()) {
      *r.mutable_image() = image_message(ref, img);
      break;
    }
  }
  return r;
}

Result<std::string> FakeRuntime::PullImage(const v1::ImageSpec& image, const v1::AuthConfig* auth,
                                           const v1::PodSandboxConfig* sandbox_config) {
  const std::string what = on("PullImage", image.image());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("PullImage", what)) return *err;
  if (auto it = s_->refused_pulls.find(image.image()); it != s_->refused_pulls.end()) {
    return rpc_error(what, it->second.code, it->second.message);
  }
  auto& img = s_->images[image.image()];
  if (img.id.empty()) img = {"sha256:" + hex_id(s_->next_id++), 1 << 20};
  return img.id;
}

Status FakeRuntime::RemoveImage(const v1::ImageSpec& image) {
  const std::string what = on("RemoveImage", image.image());
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("RemoveImage", what)) return *err;
  std::erase_if(s_->images, [&](const auto& kv) {
    return kv.first == image.image() || kv.second.id == image.image();
  });
  return {};
}

Result<v1::ImageFsInfoResponse> FakeRuntime::ImageFsInfo() {
  std::lock_guard lock(s_->mu);
  if (auto err = s_->enter("ImageFsInfo", "ImageFsInfo")) return *err;
  v1::ImageFsInfoResponse r;
  auto* fs = r.add_image_filesystems();
  fs->set_timestamp(s_->now_ns());
  fs->mutable_fs_id()->set_mountpoint("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs");
  uint64_t used = 0;
  for (const auto& [ref, img] : s_->images) used += img.size;
  fs->mutable_used_bytes()->set_value(used);
  fs->mutable_inodes_used()->set_value(s_->images.size());
  return r;
}

}  // namespace knode::cri
