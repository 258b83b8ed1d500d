#include "agent/kubelet/lifecycle_hooks.h"

#include <fmt/format.h>

#include <thread>

#include "agent/base/log.h"
#include "agent/kubelet/http_get.h"
#include "agent/kubelet/prober.h"
#include "config/flags.h"
#include "cri/types.h"

namespace knode::kubelet {

namespace {

// The words joined by spaces: `sh -c x` (as Go's strings.Join(cmd, " ")).
std::string joined(const std::vector<std::string>& cmd) {
  std::string s;
  for (size_t i = 0; i < cmd.size(); ++i) s += (i ? " " : "") + cmd[i];
  return s;
}

// Go's %v of a []string: `[sh -c x]`.
std::string command_list(const std::vector<std::string>& cmd) { return "[" + joined(cmd) + "]"; }

std::string where(const HookTarget& t) {
  return fmt::format("for Container {} in Pod {}", config::go_quote(t.container.name),
                     config::go_quote(format_pod(t.pod)));
}

HookOutcome run_exec(cri::Runtime& rt, const HookTarget& t, const kube::ExecAction& exec, std::chrono::seconds limit) {
  auto r = rt.ExecSync(t.container_id, exec.command, limit);
  std::string error, output;
  if (!r) {
    error = r.error().message();
  } else if (r->exit_code() != 0) {
    error = fmt::format("command '{}' exited with {}: {}", joined(exec.command), r->exit_code(), r->stderr());
    output = r->stdout() + r->stderr();
  } else {
    return {};
  }
  return {false, fmt::format("Exec lifecycle hook ({}) {} failed - error: {}, message: {}", command_list(exec.command),
                             where(t), error, config::go_quote(output))};
}

HookOutcome run_http(const HookTarget& t, const kube::HTTPGetAction& get, std::chrono::seconds limit) {
  HttpGetRequest req;
  req.url.scheme = get.scheme == "HTTPS" || get.scheme == "https" ? "https" : "http";
  req.url.host = get.host.empty() ? t.pod_ip : get.host;
  req.url.port = resolve_port(get.port, t.container);
  req.url.path = get.path.empty() || get.path[0] != '/' ? "/" + get.path : get.path;
  for (const auto& h : get.http_headers) req.headers.emplace_back(h.name, h.value);
  req.user_agent = "kube-lifecycle/1.32";
  req.status_only = true;
  // Upstream's hook client has no timeout of its own; the grace period bounds a preStop hook.
  req.timeout = limit.count() > 0 ? std::chrono::milliseconds(limit) : std::chrono::minutes(2);
  auto fail = [&](const std::string& error) {
    return HookOutcome{false, fmt::format("HTTP lifecycle hook ({}) {} failed - error: {}", get.path, where(t), error)};
  };
  if (req.url.host.empty()) return fail("the pod has no IP address to send the request to");
  if (req.url.port <= 0 || req.url.port > 65535)
    return fail(fmt::format("invalid port {}", config::go_quote(get.port.is_int() ? std::to_string(get.port.int_val)
                                                                                   : get.port.str_val)));
  auto resp = http_get(req);
  if (!resp && req.url.scheme == "https" &&
      resp.error().message().find("server gave HTTP response to HTTPS client") != std::string::npos) {
    // An HTTP server behind an HTTPS hook: upstream retries over plain HTTP without credentials.
    HttpGetRequest plain = req;
    plain.url.scheme = "http";
    std::erase_if(plain.headers, [](const auto& h) { return h.first == "Authorization"; });
    if (auto retry = http_get(plain)) {
      log::warning("HTTPS lifecycle hook got an HTTP response, retried with HTTP", "pod", kube::object_ref(t.pod.metadata),
                   "containerName", t.container.name, "host", req.url.host);
      resp = std::move(retry);
    }
  }
  if (!resp) return fail(fmt::format("Get {}: {}", config::go_quote(req.url.str()), resp.error().message()));
  return {};
}

}  // namespace

std::string format_pod(const kube::Pod& pod) {
  return pod.metadata.name + "_" + pod.metadata.namespace_ + "(" + pod.metadata.uid + ")";
}

HookOutcome run_lifecycle_hook(cri::Runtime& rt, const HookTarget& target, const kube::LifecycleHandler& handler,
                               std::chrono::seconds limit) {
  if (handler.exec) return run_exec(rt, target, *handler.exec, limit);
  if (handler.http_get) return run_http(target, *handler.http_get, limit);
  if (handler.sleep) {
    int64_t s = handler.sleep->seconds;
    if (limit.count() > 0 && s > limit.count()) s = limit.count();
    std::this_thread::sleep_for(std::chrono::seconds(s));
    return {};
  }
  return {false, "Cannot run handler: invalid handler: only exec, httpGet and sleep hooks are supported"};
}

}  // namespace knode::kubelet
