#include "agent/kubelet/prober.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "agent/base/log.h"
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

// A connected socket to host:port within the timeout, or -1 with err set.
int dial(const std::string& host, int port, std::chrono::milliseconds timeout, std::string* err) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    *err = std::string("resolve ") + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (fd < 0) {
    *err = std::strerror(errno);
    return -1;
  }
  if (rc != 0 && errno != EINPROGRESS) {
    *err = std::string("dial tcp ") + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    *err = "dial tcp " + host + ":" + std::to_string(port) + ": i/o timeout";
    close(fd);
    return -1;
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) {
    *err = "dial tcp " + host + ":" + std::to_string(port) + ": " + std::strerror(soerr);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

ProbeOutcome run_tcp_probe(const std::string& host, int port, std::chrono::milliseconds timeout) {
  std::string err;
  int fd = dial(host, port, timeout, &err);
  if (fd < 0) return {false, err};
  close(fd);
  return {true, {}};
}

ProbeOutcome run_http_probe(const std::string& host, int port, const std::string& path,
                            const std::vector<kube::HTTPHeader>& headers, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string err;
  int fd = dial(host, port, timeout, &err);
  if (fd < 0) return {false, err};
  std::string req = "GET " + (path.empty() ? std::string("/") : path) + " HTTP/1.1\r\nHost: " + host + ":" +
                    std::to_string(port) + "\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h.name + ": " + h.value + "\r\n";
  req += "\r\n";
  size_t sent = 0;
  std::string resp;
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, static_cast<short>(sent < req.size() ? POLLOUT : POLLIN), 0};
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1))) != 1) break;
    if (sent < req.size()) {
      ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += n;
      continue;
    }
    char buf[1024];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, n);
    if (resp.find("\r\n") != std::string::npos) break;  // the status line is all we need
  }
  close(fd);
  // "HTTP/1.1 200 OK"
  if (resp.rfind("HTTP/", 0) != 0 || resp.size() < 12) {
    return {false, "Get \"http://" + host + ":" + std::to_string(port) + path + "\": " +
                       (resp.empty() ? "context deadline exceeded" : "malformed HTTP response")};
  }
  int code = std::atoi(resp.c_str() + resp.find(' ') + 1);
  if (code >= 200 && code < 400) return {true, {}};
  return {false, "HTTP probe failed with statuscode: " + std::to_string(code)};
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
      case ProbeType::Startup: status.started[p.container] = p.result; break;
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
  for (const auto& c : pod.spec.containers) {
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
                          s.http_get->http_headers, timeout);
  }
  if (s.tcp_socket) {
    std::string host = s.tcp_socket->host.empty() ? p.pod_ip : s.tcp_socket->host;
    return run_tcp_probe(host, resolve_port(s.tcp_socket->port, p.container_spec), timeout);
  }
  return {false, "grpc probes are not supported"};
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
      if (++p.failures >= std::max(p.spec.failure_threshold, 1)) p.result = false;
      if (log::V(2))
        log::infov(2, "Probe failed", "probeType", type_name(p.type), "podUID", p.uid, "containerName", p.container,
                   "output", out.message);
    }
    if (p.result != before) {
      if (!p.result && p.type == ProbeType::Liveness)
        log::info("Container failed liveness probe, will be restarted", "podUID", p.uid, "containerName", p.container);
      std::string uid = p.uid;
      lock.unlock();
      on_change_(uid);
      lock.lock();
    }
  }
}

}  // namespace knode::kubelet
