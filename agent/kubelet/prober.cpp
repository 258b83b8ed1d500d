#include "agent/kubelet/prober.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include "agent/base/log.h"
#include "agent/kubelet/http_get.h"
#include "cri/types.h"

namespace knode::kubelet {

namespace {

using Clock = std::chrono::steady_clock;

std::string_view type_name(ProbeType t) {
  switch (t) {
    case ProbeType::Liveness: return "Liveness";
    case ProbeType::Readiness: return "Readiness";
    case ProbeType::Startup: return "Startup";
  }
  return "";
}

}  // namespace

ProbeOutcome run_tcp_probe(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto fd = dial_tcp(host, port, timeout);
  if (!fd) return {false, fd.error().message()};
  close(*fd);
  return {true, {}};
}

ProbeOutcome run_http_probe(const std::string& host, int port, const std::string& path,
                            const std::vector<kube::HTTPHeader>& headers, std::chrono::milliseconds timeout,
                            const std::string& scheme) {
  HttpGetRequest req;
  req.url.scheme = scheme == "HTTPS" || scheme == "https" ? "https" : "http";
  req.url.host = host;
  req.url.port = port;
  req.url.path = path.empty() || path[0] != '/' ? "/" + path : path;
  for (const auto& h : headers) req.headers.emplace_back(h.name, h.value);
  req.status_only = true;
  // As upstream's prober: redirects to the same host are followed (at most 10), a redirect to
  // another host ends the probe with the redirect itself (a success, logged as a warning).
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int requests = 0;; ++requests) {
    req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (req.timeout.count() <= 0) req.timeout = std::chrono::milliseconds(1);
    auto resp = http_get(req);
    if (!resp) return {false, "Get \"" + req.url.str() + "\": " + resp.error().message()};
    bool redirect = resp->status >= 300 && resp->status < 400 && !resp->location.empty();
    if (redirect) {
      auto next = resolve_location(req.url, resp->location);
      if (next && next->host == req.url.host) {
        if (requests + 1 >= 10) return {false, "Get \"" + next->str() + "\": stopped after 10 redirects"};
        req.url = *next;
        continue;
      }
      if (next && log::V(2))
        log::infov(2, "Probe terminated redirects", "url", req.url.str(), "location", resp->location);
    }
    if (resp->status >= 200 && resp->status < 400) return {true, {}};
    return {false, "HTTP probe failed with statuscode: " + std::to_string(resp->status)};
  }
}

namespace {

std::string go_seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// The wire form of grpc.health.v1.HealthCheckRequest: field 1, the service name.
std::string encode_health_request(const std::string& service) {
  std::string out;
  if (service.empty()) return out;
  out += static_cast<char>(0x0a);
  for (size_t n = service.size(); ; n >>= 7) {
    if (n < 0x80) { out += static_cast<char>(n); break; }
    out += static_cast<char>((n & 0x7f) | 0x80);
  }
  return out + service;
}

// HealthCheckResponse.status (field 1, varint); unset means UNKNOWN (0); -1 when malformed.
int decode_health_status(const std::string& in) {
  int status = 0;
  for (size_t i = 0; i < in.size();) {
    uint8_t tag = static_cast<uint8_t>(in[i++]);
    uint64_t v = 0;
    int shift = 0;
    auto varint = [&]() {
      v = 0;
      for (shift = 0; i < in.size() && shift < 64; shift += 7) {
        uint8_t b = static_cast<uint8_t>(in[i++]);
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
      }
      return false;
    };
    switch (tag & 7) {
      case 0:
        if (!varint()) return -1;
        if ((tag >> 3) == 1) status = static_cast<int>(v);
        break;
      case 2:
        if (!varint() || i + v > in.size()) return -1;
        i += v;
        break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      default: return -1;
    }
  }
  return status;
}

std::string_view serving_status_name(int s) {
  switch (s) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
  }
  return "UNKNOWN";
}

std::string_view grpc_code_name(grpc::StatusCode c) {
  static constexpr std::string_view kNames[] = {
      "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
      "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
      "Internal", "Unavailable", "DataLoss", "Unauthenticated"};
  auto i = static_cast<size_t>(c);
  return i < std::size(kNames) ? kNames[i] : "Unknown";
}

}  // namespace

ProbeOutcome run_grpc_probe(const std::string& host, int port, const std::string& service,
                            std::chrono::milliseconds timeout) {
  // Plaintext, a fresh connection per probe, as upstream's prober.
  bool v6 = host.find(':') != std::string::npos;
  const std::string addr = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetUserAgentPrefix("kube-probe/1.32");
  auto channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
  const auto deadline = std::chrono::system_clock::now() + timeout;
  if (!channel->WaitForConnected(deadline))
    return {false, "timeout: failed to connect service \"" + addr + "\" within " + go_seconds(timeout) +
                       ": context deadline exceeded"};
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  grpc::Slice slice(encode_health_request(service));
  grpc::ByteBuffer request(&slice, 1);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED)
      return {false, "this server does not implement the grpc health protocol (grpc.health.v1.Health): " +
                         status.error_message()};
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      return {false, "timeout: health rpc did not complete within " + go_seconds(timeout)};
    return {false, "error: health rpc probe failed: rpc error: code = " +
                       std::string(grpc_code_name(status.error_code())) + " desc = " + status.error_message()};
  }
  std::vector<grpc::Slice> slices;
  std::string body;
  if (response.Dump(&slices).ok())
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
  int serving = decode_health_status(body);
  if (serving < 0) return {false, "error: health rpc probe failed: malformed HealthCheckResponse"};
  if (serving != 1) return {false, "service unhealthy (responded with \"" + std::string(serving_status_name(serving)) + "\")"};
  return {true, "service healthy"};
}

int resolve_port(const kube::IntOrString& port, const kube::Container& c) {
  if (port.is_int()) return port.int_val;
  for (const auto& p : c.ports)
    if (p.name == port.str_val) return p.container_port;
  return std::atoi(port.str_val.c_str());
}

ProbeManager::ProbeManager(cri::Runtime& runtime, std::function<void(const std::string&)> on_change, int runners)
    : rt_(runtime), on_change_(std::move(on_change)), runner_count_(runners) {}

ProbeManager::~ProbeManager() { stop(); }

void ProbeManager::start() {
  threads_.emplace_back([this] { scheduler(); });
  for (int i = 0; i < runner_count_; ++i) threads_.emplace_back([this] { runner(); });
}

void ProbeManager::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool ProbeManager::started_locked(const std::string& uid, const std::string& container) const {
  auto it = probes_.find(uid + "/" + container + "/Startup");
  return it == probes_.end() || it->second.result;
}

void ProbeManager::results(const std::string& uid, StatusInputs& status, ActionInputs& actions) {
  std::lock_guard lock(mu_);
  for (auto it = probes_.lower_bound(uid + "/"); it != probes_.end() && it->first.rfind(uid + "/", 0) == 0; ++it) {
    const Probe& p = it->second;
    if (p.container_id.empty()) continue;
    switch (p.type) {
      case ProbeType::Readiness: status.ready[p.container] = p.result; break;
      case ProbeType::Startup:
        status.started[p.container] = p.result;
        if (!p.result && p.failures >= std::max(p.spec.failure_threshold, 1)) actions.startup_failed.insert(p.container);
        break;
      case ProbeType::Liveness:
        if (!p.result) actions.liveness_failed.insert(p.container);
        break;
    }
  }
}

void ProbeManager::update(const kube::Pod& pod, const PodRuntimeStatus& rs) {
  const std::string& uid = pod.metadata.uid;
  std::string pod_ip = rs.sandboxes.empty() ? "" : rs.sandboxes.front().ip;
  std::lock_guard lock(mu_);
  // Regular containers and sidecars (restartable init containers) are probed.
  std::vector<const kube::Container*> probed;
  for (const auto& c : pod.spec.init_containers)
    if (kube::is_sidecar(c)) probed.push_back(&c);
  for (const auto& c : pod.spec.containers) probed.push_back(&c);
  for (const kube::Container* cp : probed) {
    const kube::Container& c = *cp;
    const RuntimeContainer* rc = rs.latest(c.name);
    std::string running_id = rc && rc->state == ContainerState::Running ? rc->id : "";
    auto track = [&](const std::optional<kube::Probe>& spec, ProbeType type) {
      Key key = uid + "/" + c.name + "/" + std::string(type_name(type));
      if (!spec) {
        probes_.erase(key);
        return;
      }
      Probe& p = probes_[key];
      if (p.container_id == running_id && p.spec == *spec) return;
      p.uid = uid;
      p.container = c.name;
      p.type = type;
      p.spec = *spec;
      p.container_spec = c;
      p.pod_ip = pod_ip;
      p.container_id = running_id;
      p.result = type == ProbeType::Liveness;  // readiness and startup start "failed"
      p.successes = p.failures = 0;
      ++p.generation;
      p.due = Clock::now() + std::chrono::seconds(spec->initial_delay_seconds);
    };
    track(c.liveness_probe, ProbeType::Liveness);
    track(c.readiness_probe, ProbeType::Readiness);
    track(c.startup_probe, ProbeType::Startup);
  }
  cv_.notify_all();
}

void ProbeManager::remove(const std::string& uid) {
  std::lock_guard lock(mu_);
  for (auto it = probes_.lower_bound(uid + "/"); it != probes_.end() && it->first.rfind(uid + "/", 0) == 0;)
    it = probes_.erase(it);
}

void ProbeManager::scheduler() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    for (auto& [key, p] : probes_) {
      if (p.running || p.container_id.empty()) continue;
      if (p.due <= now) {
        p.running = true;
        due_.push_back(key);
        work_cv_.notify_one();
      } else if (p.due < next) {
        next = p.due;
      }
    }
    cv_.wait_until(lock, next);
  }
}

ProbeOutcome ProbeManager::execute(const Probe& p) {
  auto timeout = std::chrono::seconds(std::max(p.spec.timeout_seconds, 1));
  const kube::Probe& s = p.spec;
  if (s.exec) {
    auto r = rt_.ExecSync(p.container_id, s.exec->command, timeout);
    if (!r) return {false, r.error().message()};
    if (r->exit_code() != 0) return {false, "command exited with " + std::to_string(r->exit_code()) + ": " + r->stdout()};
    return {true, {}};
  }
  if (s.http_get) {
    std::string host = s.http_get->host.empty() ? p.pod_ip : s.http_get->host;
    return run_http_probe(host, resolve_port(s.http_get->port, p.container_spec), s.http_get->path,
                          s.http_get->http_headers, timeout, s.http_get->scheme);
  }
  if (s.tcp_socket) {
    std::string host = s.tcp_socket->host.empty() ? p.pod_ip : s.tcp_socket->host;
    return run_tcp_probe(host, resolve_port(s.tcp_socket->port, p.container_spec), timeout);
  }
  if (s.grpc) return run_grpc_probe(p.pod_ip, s.grpc->port, s.grpc->service.value_or(""), timeout);
  return {false, "the probe has no handler (exec, httpGet, tcpSocket or grpc)"};
}

void ProbeManager::runner() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      work_cv_.wait(lock);
      continue;
    }
    Key key = due_.back();
    due_.pop_back();
    auto it = probes_.find(key);
    if (it == probes_.end()) continue;
    Probe copy = it->second;
    // Liveness and readiness wait for the startup probe.
    bool hold = copy.type != ProbeType::Startup && !started_locked(copy.uid, copy.container);
    lock.unlock();
    ProbeOutcome out = hold ? ProbeOutcome{} : execute(copy);
    lock.lock();
    it = probes_.find(key);
    if (it == probes_.end()) continue;
    Probe& p = it->second;
    p.running = false;
    p.due = Clock::now() + std::chrono::seconds(std::max(p.spec.period_seconds, 1));
    if (hold || p.generation != copy.generation) continue;
    bool before = p.result;
    if (out.success) {
      p.failures = 0;
      if (++p.successes >= std::max(p.spec.success_threshold, 1)) p.result = true;
    } else {
      p.successes = 0;
      // A startup probe that succeeded once stays successful (upstream stops running it).
      bool sticky = p.type == ProbeType::Startup && p.result;
      if (++p.failures >= std::max(p.spec.failure_threshold, 1) && !sticky) p.result = false;
      if (log::V(2))
        log::infov(2, "Probe failed", "probeType", type_name(p.type), "podUID", p.uid, "containerName", p.container,
                   "output", out.message);
    }
    // A startup probe that reaches its failureThreshold (its result stays false) restarts the container.
    bool startup_failed = p.type == ProbeType::Startup && !p.result && !out.success &&
                          p.failures == std::max(p.spec.failure_threshold, 1);
    if (p.result != before || startup_failed) {
      if (!p.result && p.type == ProbeType::Liveness)
        log::info("Container failed liveness probe, will be restarted", "podUID", p.uid, "containerName", p.container);
      if (startup_failed)
        log::info("Container failed startup probe, will be restarted", "podUID", p.uid, "containerName", p.container);
      std::string uid = p.uid;
      lock.unlock();
      on_change_(uid);
      lock.lock();
    }
  }
}

}  // namespace knode::kubelet
