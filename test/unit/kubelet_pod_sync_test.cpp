// PodSyncer + PodWorkers against the in-memory FakeRuntime.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "agent/base/log.h"
#include "agent/kubelet/pod_syncer.h"
#include "agent/kubelet/termination_order.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
#include "cri/fake_runtime.h"
#include "cri/types.h"
#include "kubelet_test_util.h"
#include "loopback_http_server.h"

using namespace knode;
using namespace knode::kubelet;
using knode::kubelet::testing::FakeClock;
using knode::kubelet::testing::kWebPod;
using knode::kubelet::testing::pod_from_yaml;

namespace {

struct Fixture {
  FakeClock clock;
  cri::FakeRuntime rt;
  StatusManager status{""};
  std::string pods_dir = "/tmp/knode-unit-kubelet-pods";
  PodSyncer syncer{rt, rt, status, nullptr,
                   PodSyncerOptions{.pods_dir = pods_dir, .host_ip = "192.0.2.1", .now_ns = [this] { return clock(); }}};
  PodState state;
  Fixture() {
    rt.set_clock([this] { return clock(); });
    rt.add_image("knode.local/busybox:1.36");
    rt.add_image("knode.local/pause:3.10");
  }
  ~Fixture() { std::filesystem::remove_all(pods_dir); }

  std::vector<std::string> containers(cri::v1::ContainerState st) {
    std::vector<std::string> out;
    auto list = rt.ListContainers(nullptr);
    REQUIRE(list.ok());
    for (const auto& c : *list)
      if (c.state() == st) out.push_back(c.id());
    return out;
  }
  kube::PodStatus pod_status() {
    auto pods = status.pods();
    REQUIRE(pods.size() == 1);
    return pods[0].status;
  }
  const kube::ContainerStatus& app() {
    static kube::ContainerStatus cs;
    cs = pod_status().container_statuses.at(0);
    return cs;
  }
};

size_t count(const std::vector<std::string>& calls, const std::string& name) {
  return std::count(calls.begin(), calls.end(), name);
}

}  // namespace

TEST_CASE("pod sync: a new pod gets a sandbox and its container, then is left alone", "[kubelet][sync]") {
  Fixture f;
  auto pod = pod_from_yaml(kWebPod);
  f.syncer.sync_pod(pod, f.state);
  auto calls = f.rt.calls();
  CHECK(count(calls, "RunPodSandbox") == 1);
  CHECK(count(calls, "CreateContainer") == 1);
  CHECK(count(calls, "StartContainer") == 1);
  CHECK(count(calls, "PullImage") == 0);  // present, policy Never
  auto s = f.pod_status();
  CHECK(s.phase == "Running");
  CHECK_FALSE(s.pod_ip.empty());
  CHECK(s.container_statuses[0].ready);

  // Restart safety: a second syncer (a restarted agent with no memory) changes nothing.
  f.rt.clear_calls();
  PodState fresh;
  f.syncer.sync_pod(pod, fresh);
  for (const auto& c : f.rt.calls()) {
    CHECK(c != "RunPodSandbox");
    CHECK(c != "CreateContainer");
    CHECK(c != "StopContainer");
  }
}

TEST_CASE("pod sync: crash loop restarts with back-off and counts restarts", "[kubelet][sync]") {
  Fixture f;
  auto pod = pod_from_yaml(kWebPod);
  f.syncer.sync_pod(pod, f.state);
  auto running = f.containers(cri::v1::CONTAINER_RUNNING);
  REQUIRE(running.size() == 1);

  f.clock.advance_s(1);
  REQUIRE(f.rt.exit_container(running[0], 1).ok());
  auto out = f.syncer.sync_pod(pod, f.state);  // first failure: immediate restart
  CHECK(f.app().restart_count == 1);
  REQUIRE(f.app().state.running);
  REQUIRE(f.app().last_state.terminated);
  CHECK(f.app().last_state.terminated->exit_code == 1);

  running = f.containers(cri::v1::CONTAINER_RUNNING);
  REQUIRE(running.size() == 1);
  f.clock.advance_s(1);
  REQUIRE(f.rt.exit_container(running[0], 1).ok());
  out = f.syncer.sync_pod(pod, f.state);  // within 10 s: back-off
  REQUIRE(f.app().state.waiting);
  CHECK(f.app().state.waiting->reason == "CrashLoopBackOff");
  CHECK(f.app().state.waiting->message.find("back-off 10s restarting failed container=app") != std::string::npos);
  CHECK(f.app().restart_count == 1);
  REQUIRE(out.requeue_after);
  CHECK(out.requeue_after->count() <= 10000);
  CHECK(f.pod_status().phase == "Running");

  f.clock.advance_s(11);
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.app().restart_count == 2);
  CHECK(f.app().state.running);

  // Dead containers are collected, keeping the newest one per container.
  CHECK(f.containers(cri::v1::CONTAINER_EXITED).size() == 1);
}

TEST_CASE("pod sync: imagePullPolicy Never with a missing image is ErrImageNeverPull", "[kubelet][sync]") {
  Fixture f;
  std::string y = kWebPod;
  y.replace(y.find("knode.local/busybox:1.36"), 24, "knode.local/missing:1");
  auto pod = pod_from_yaml(y);
  f.syncer.sync_pod(pod, f.state);
  REQUIRE(f.app().state.waiting);
  CHECK(f.app().state.waiting->reason == "ErrImageNeverPull");
  CHECK(f.app().state.waiting->message == "Container image \"knode.local/missing:1\" is not present with pull policy of Never");
  CHECK(count(f.rt.calls(), "PullImage") == 0);
  CHECK(f.pod_status().phase == "Pending");
}

TEST_CASE("pod sync: pull failure is ErrImagePull, then ImagePullBackOff, then a retry", "[kubelet][sync]") {
  Fixture f;
  std::string y = kWebPod;
  y.replace(y.find("imagePullPolicy: Never"), 22, "imagePullPolicy: IfNotPresent");
  y.replace(y.find("knode.local/busybox:1.36"), 24, "registry.invalid/x:1");
  auto pod = pod_from_yaml(y);
  f.rt.refuse_pull("registry.invalid/x:1", cri::Code::Unknown, "no route to registry");
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.app().state.waiting->reason == "ErrImagePull");
  f.clock.advance_s(2);
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.app().state.waiting->reason == "ImagePullBackOff");
  CHECK(count(f.rt.calls(), "PullImage") == 1);
  f.rt.allow_pull("registry.invalid/x:1");
  f.clock.advance_s(10);
  f.syncer.sync_pod(pod, f.state);
  CHECK(count(f.rt.calls(), "PullImage") == 2);
  CHECK(f.app().state.running);
}

TEST_CASE("pod sync: a changed container spec replaces only that container", "[kubelet][sync]") {
  Fixture f;
  auto pod = pod_from_yaml(kWebPod);
  f.syncer.sync_pod(pod, f.state);
  auto before = f.containers(cri::v1::CONTAINER_RUNNING);
  pod.spec.containers[0].image = "knode.local/pause:3.10";  // the hash covers name and image
  f.rt.clear_calls();
  f.syncer.sync_pod(pod, f.state);
  CHECK(count(f.rt.calls(), "RunPodSandbox") == 0);
  CHECK(count(f.rt.calls(), "StopContainer") == 1);
  auto after = f.containers(cri::v1::CONTAINER_RUNNING);
  REQUIRE(after.size() == 1);
  CHECK(after != before);
}

TEST_CASE("pod sync: a dead sandbox kills the pod and starts it again", "[kubelet][sync]") {
  Fixture f;
  auto pod = pod_from_yaml(kWebPod);
  f.syncer.sync_pod(pod, f.state);
  auto sbs = *f.rt.ListPodSandbox(nullptr);
  REQUIRE(sbs.size() == 1);
  REQUIRE(f.rt.StopPodSandbox(sbs[0].id()).ok());
  f.clock.advance_s(1);
  f.syncer.sync_pod(pod, f.state);
  int ready = 0;
  auto list = f.rt.ListPodSandbox(nullptr);
  for (const auto& sb : *list) ready += sb.state() == cri::v1::SANDBOX_READY;
  CHECK(ready == 1);
  CHECK(f.containers(cri::v1::CONTAINER_RUNNING).size() == 1);
  CHECK(f.app().restart_count == 1);
}

TEST_CASE("pod sync: terminate stops and removes everything", "[kubelet][sync]") {
  Fixture f;
  auto pod = pod_from_yaml(kWebPod);
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.syncer.terminate_pod(pod.metadata.uid, &pod, f.state));
  CHECK(f.rt.container_count() == 0);
  CHECK(f.rt.sandbox_count() == 0);
  CHECK(f.status.pods().empty());
}

TEST_CASE("pod sync: init containers then the app; Never + failing app is Failed", "[kubelet][sync]") {
  Fixture f;
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: job}
spec:
  restartPolicy: Never
  initContainers: [{name: init, image: knode.local/busybox:1.36}]
  containers: [{name: app, image: knode.local/busybox:1.36}]
)");
  f.syncer.sync_pod(pod, f.state);
  auto running = f.containers(cri::v1::CONTAINER_RUNNING);
  REQUIRE(running.size() == 1);
  CHECK(f.pod_status().phase == "Pending");
  REQUIRE(f.rt.exit_container(running[0], 0).ok());
  f.syncer.sync_pod(pod, f.state);
  running = f.containers(cri::v1::CONTAINER_RUNNING);
  REQUIRE(running.size() == 1);
  CHECK(f.pod_status().phase == "Running");
  REQUIRE(f.rt.exit_container(running[0], 3).ok());
  f.syncer.sync_pod(pod, f.state);
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.pod_status().phase == "Failed");
  CHECK(f.containers(cri::v1::CONTAINER_RUNNING).empty());
}

namespace {

// Running containers by name (the newest of each).
std::map<std::string, std::string> running_by_name(cri::FakeRuntime& rt) {
  std::map<std::string, std::string> out;
  auto list = rt.ListContainers(nullptr);
  REQUIRE(list.ok());
  for (const auto& c : *list)
    if (c.state() == cri::v1::CONTAINER_RUNNING) out[c.metadata().name()] = c.id();
  return out;
}

const kube::ContainerStatus& init_status(const kube::PodStatus& s, const std::string& name) {
  for (const auto& c : s.init_container_statuses)
    if (c.name == name) return c;
  FAIL("no init container status " << name);
  return s.init_container_statuses.front();
}

// Collects log lines while alive.
struct LogCapture {
  std::mutex mu;
  std::string text;
  LogCapture() {
    log::set_sink([](std::string_view line, void* self) {
      auto* c = static_cast<LogCapture*>(self);
      std::lock_guard l(c->mu);
      c->text.append(line).append("\n");
    }, this);
  }
  ~LogCapture() { log::reset_sink(); }
  std::string get() {
    std::lock_guard l(mu);
    return text;
  }
};

}  // namespace

TEST_CASE("pod sync: sidecars start in order before the app, restart with back-off, and the app is left alone",
          "[kubelet][sync][sidecar]") {
  Fixture f;
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  restartPolicy: Never
  initContainers:
  - {name: init, image: knode.local/busybox:1.36, imagePullPolicy: Never}
  - {name: proxy, image: knode.local/busybox:1.36, imagePullPolicy: Never, restartPolicy: Always}
  containers:
  - {name: app, image: knode.local/busybox:1.36, imagePullPolicy: Never}
)");
  f.syncer.sync_pod(pod, f.state);
  auto run = running_by_name(f.rt);
  REQUIRE(run.size() == 1);
  REQUIRE(run.count("init"));
  REQUIRE(f.rt.exit_container(run["init"], 0).ok());
  f.clock.advance_s(1);
  f.syncer.sync_pod(pod, f.state);
  run = running_by_name(f.rt);
  CHECK(run.size() == 1);
  REQUIRE(run.count("proxy"));  // the sidecar, not yet the app
  CHECK(f.pod_status().phase == "Pending");
  f.syncer.sync_pod(pod, f.state);
  run = running_by_name(f.rt);
  CHECK(run.size() == 2);
  REQUIRE(run.count("app"));
  auto s = f.pod_status();
  CHECK(s.phase == "Running");
  CHECK(init_status(s, "proxy").started == true);
  CHECK(init_status(s, "proxy").ready);

  // The sidecar exits: started again at once (restartPolicy Never notwithstanding), then back-off.
  f.clock.advance_s(1);
  REQUIRE(f.rt.exit_container(run["proxy"], 1).ok());
  f.syncer.sync_pod(pod, f.state);
  CHECK(init_status(f.pod_status(), "proxy").restart_count == 1);
  run = running_by_name(f.rt);
  REQUIRE(run.count("proxy"));
  f.clock.advance_s(1);
  REQUIRE(f.rt.exit_container(run["proxy"], 1).ok());
  auto out = f.syncer.sync_pod(pod, f.state);
  REQUIRE(init_status(f.pod_status(), "proxy").state.waiting);
  CHECK(init_status(f.pod_status(), "proxy").state.waiting->reason == "CrashLoopBackOff");
  REQUIRE(out.requeue_after);
  CHECK(f.pod_status().phase == "Running");
  CHECK(f.app().restart_count == 0);
  CHECK(f.app().state.running);
  f.clock.advance_s(11);
  f.syncer.sync_pod(pod, f.state);
  CHECK(init_status(f.pod_status(), "proxy").restart_count == 2);

  // The app completes (restartPolicy Never): the sidecar is stopped and the pod Succeeded.
  run = running_by_name(f.rt);
  REQUIRE(f.rt.exit_container(run["app"], 0).ok());
  f.syncer.sync_pod(pod, f.state);
  CHECK(running_by_name(f.rt).empty());
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.pod_status().phase == "Succeeded");
  CHECK(count(f.rt.calls(), "RunPodSandbox") == 1);
}

TEST_CASE("pod sync: a failed postStart hook kills the container, which restarts per restartPolicy",
          "[kubelet][sync][hooks]") {
  Fixture f;
  LogCapture logs;
  std::atomic<int> hooks{0};
  std::atomic<bool> fail{true};
  f.rt.set_exec_handler([&](const std::string&, const std::vector<std::string>& cmd) {
    cri::v1::ExecSyncResponse r;
    if (cmd.size() == 1 && cmd[0] == "post-start") {
      ++hooks;
      r.set_exit_code(fail ? 7 : 0);
      r.set_stdout("partial output\n");
    }
    return r;
  });
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: hooked}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    lifecycle:
      postStart: {exec: {command: [post-start]}}
)");
  f.syncer.sync_pod(pod, f.state);
  CHECK(hooks == 1);
  CHECK(f.containers(cri::v1::CONTAINER_RUNNING).empty());  // killed after the hook failed
  REQUIRE(f.app().state.waiting);
  CHECK(f.app().state.waiting->reason == "PostStartHookError");
  CHECK(f.app().state.waiting->message ==
        "Exec lifecycle hook ([post-start]) for Container \"app\" in Pod \"hooked_default(uid-1)\" failed - error: "
        "command 'post-start' exited with 7: , message: \"partial output\\n\"");
  auto text = logs.get();
  CHECK(text.find("\"Failed to execute PostStartHook\" pod=\"default/hooked\"") != std::string::npos);
  CHECK(text.find("containerName=\"app\"") != std::string::npos);
  CHECK(text.find("reason=\"FailedPostStartHook\"") != std::string::npos);

  // Restarted (restartPolicy Always); with the hook passing it stays up.
  fail = false;
  f.clock.advance_s(1);
  f.syncer.sync_pod(pod, f.state);
  CHECK(hooks == 2);
  CHECK(f.app().restart_count == 1);
  CHECK(f.app().state.running);
}

TEST_CASE("pod sync: an httpGet preStop hook is sent before the stop; any HTTP answer is success",
          "[kubelet][sync][hooks]") {
  Fixture f;
  LogCapture logs;
  knode::testing::LoopbackHttpServer server([](const std::string&) {
    return knode::testing::LoopbackHttpServer::reply(500);
  });
  std::string y = R"(apiVersion: v1
kind: Pod
metadata: {name: stopper}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    ports: [{name: admin, containerPort: PORT}]
    lifecycle:
      preStop:
        httpGet:
          host: 127.0.0.1
          port: admin
          path: /drain?now=1
          httpHeaders: [{name: X-Reason, value: shutdown}]
)";
  y.replace(y.find("PORT"), 4, std::to_string(server.port()));
  auto pod = pod_from_yaml(y);
  f.syncer.sync_pod(pod, f.state);
  REQUIRE(f.containers(cri::v1::CONTAINER_RUNNING).size() == 1);
  f.rt.clear_calls();
  CHECK(f.syncer.terminate_pod(pod.metadata.uid, &pod, f.state));
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].rfind("GET /drain?now=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(requests[0].find("User-Agent: kube-lifecycle/1.32\r\n") != std::string::npos);
  CHECK(requests[0].find("X-Reason: shutdown\r\n") != std::string::npos);
  CHECK(count(f.rt.calls(), "StopContainer") == 1);
  CHECK(logs.get().find("PreStop hook failed") == std::string::npos);
}

TEST_CASE("pod sync: an HTTPS preStop hook answered by a plain HTTP server is retried over HTTP",
          "[kubelet][sync][hooks]") {
  Fixture f;
  LogCapture logs;
  knode::testing::LoopbackHttpServer server([](const std::string&) {
    return knode::testing::LoopbackHttpServer::reply(200);
  });
  std::string y = R"(apiVersion: v1
kind: Pod
metadata: {name: stopper}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    lifecycle:
      preStop:
        httpGet:
          scheme: HTTPS
          host: 127.0.0.1
          port: PORT
          path: /stop
          httpHeaders: [{name: Authorization, value: Bearer secret}]
)";
  y.replace(y.find("PORT"), 4, std::to_string(server.port()));
  auto pod = pod_from_yaml(y);
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.syncer.terminate_pod(pod.metadata.uid, &pod, f.state));
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);  // the TLS hello, then plain HTTP without the credentials
  CHECK(requests[1].rfind("GET /stop HTTP/1.1\r\n", 0) == 0);
  CHECK(requests[1].find("Authorization") == std::string::npos);
  auto text = logs.get();
  CHECK(text.find("HTTPS lifecycle hook got an HTTP response, retried with HTTP") != std::string::npos);
  CHECK(text.find("PreStop hook failed") == std::string::npos);
}

TEST_CASE("pod sync: a preStop hook that cannot connect is logged and the container still stops",
          "[kubelet][sync][hooks]") {
  Fixture f;
  LogCapture logs;
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: stopper}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    lifecycle:
      preStop: {httpGet: {host: 127.0.0.1, port: 1, path: /x}}
)");
  f.syncer.sync_pod(pod, f.state);
  CHECK(f.syncer.terminate_pod(pod.metadata.uid, &pod, f.state));
  CHECK(f.rt.container_count() == 0);
  auto text = logs.get();
  CHECK(text.find("\"PreStop hook failed\" pod=\"default/stopper\" containerName=\"app\"") != std::string::npos);
  CHECK(text.find("HTTP lifecycle hook (/x) for Container \\\"app\\\"") != std::string::npos);
  CHECK(text.find("connection refused") != std::string::npos);
}

TEST_CASE("pod sync: an orphan pod's preStop hooks run from the CRI annotations", "[kubelet][sync][hooks]") {
  Fixture f;
  std::mutex mu;
  std::vector<std::string> execs;
  f.rt.set_exec_handler([&](const std::string&, const std::vector<std::string>& cmd) {
    std::lock_guard l(mu);
    execs.push_back(cmd.empty() ? "" : cmd[0]);
    return cri::v1::ExecSyncResponse();
  });
  knode::testing::LoopbackHttpServer server([](const std::string&) { return knode::testing::LoopbackHttpServer::reply(200); });
  std::string y = R"(apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  terminationGracePeriodSeconds: 7
  containers:
  - name: worker
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    lifecycle: {preStop: {exec: {command: [drain-worker]}}}
  - name: web
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    ports: [{name: admin, containerPort: PORT}]
    lifecycle: {preStop: {httpGet: {host: 127.0.0.1, port: admin, path: /quit}}}
)";
  y.replace(y.find("PORT"), 4, std::to_string(server.port()));
  auto pod = pod_from_yaml(y);
  f.syncer.sync_pod(pod, f.state);
  REQUIRE(f.containers(cri::v1::CONTAINER_RUNNING).size() == 2);
  // The agent no longer knows the pod (e.g. its manifest went while the agent was down).
  PodState fresh;
  CHECK(f.syncer.terminate_pod(pod.metadata.uid, nullptr, fresh));
  CHECK(execs == std::vector<std::string>{"drain-worker"});
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].rfind("GET /quit HTTP/1.1\r\n", 0) == 0);
  CHECK(f.rt.container_count() == 0);
}

TEST_CASE("termination ordering: app containers first, then sidecars in reverse order", "[kubelet][sync][sidecar]") {
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  initContainers:
  - {name: s1, image: img, restartPolicy: Always}
  - {name: init, image: img}
  - {name: s2, image: img, restartPolicy: Always}
  containers:
  - {name: a, image: img}
  - {name: b, image: img}
)");
  TerminationOrdering order(pod.spec, {"s1", "s2", "a", "b"});
  std::mutex mu;
  std::vector<std::string> stopped;
  auto stop = [&](const std::string& name, int work_ms) {
    order.wait_for_turn(name, std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(work_ms));
    {
      std::lock_guard l(mu);
      stopped.push_back(name);
    }
    order.terminated(name);
  };
  std::vector<std::thread> threads;
  threads.emplace_back(stop, "s1", 0);
  threads.emplace_back(stop, "s2", 0);
  threads.emplace_back(stop, "a", 50);
  threads.emplace_back(stop, "b", 100);
  for (auto& t : threads) t.join();
  REQUIRE(stopped.size() == 4);
  CHECK(stopped[2] == "s2");
  CHECK(stopped[3] == "s1");

  // A container that is not running holds nobody back; the wait ends at the limit otherwise.
  TerminationOrdering partial(pod.spec, {"s1", "a"});
  auto waited = partial.wait_for_turn("s1", std::chrono::milliseconds(100));
  CHECK(waited >= std::chrono::milliseconds(90));  // "a" still running
  partial.terminated("a");
  CHECK(partial.wait_for_turn("s1", std::chrono::seconds(5)) < std::chrono::seconds(1));
}

namespace {
struct RecordingHandler : PodSyncHandler {
  std::mutex mu;
  std::vector<std::string> events;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  SyncOutcome sync_pod(const kube::Pod& pod, PodState&) override {
    int n = ++in_flight;
    max_in_flight = std::max(max_in_flight.load(), n);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      std::lock_guard l(mu);
      events.push_back("sync " + pod.metadata.name + " " + pod.spec.containers[0].image);
    }
    --in_flight;
    return {};
  }
  bool terminate_pod(const std::string& uid, const kube::Pod* pod, PodState&) override {
    std::lock_guard l(mu);
    events.push_back("terminate " + uid);
    return true;
  }
  size_t count(const std::string& prefix) {
    std::lock_guard l(mu);
    return std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.rfind(prefix, 0) == 0; });
  }
};
}  // namespace

TEST_CASE("pod workers: serialized per pod, latest spec wins, removal terminates", "[kubelet][workers]") {
  RecordingHandler h;
  PodWorkers w(h, {.threads = 4, .resync = std::chrono::hours(1)});
  w.start();
  auto pod = pod_from_yaml(kWebPod, "u1");
  for (int i = 0; i < 5; ++i) {
    pod.spec.containers[0].image = "img" + std::to_string(i);
    w.set_pods({pod});
  }
  w.wait_idle(std::chrono::seconds(5));
  CHECK(h.max_in_flight == 1);
  CHECK(h.count("sync web img4") == 1);  // the last spec is synced
  CHECK(h.count("sync") <= 3);           // intermediate specs coalesced
  w.on_runtime_event("u1");
  w.wait_idle(std::chrono::seconds(5));
  w.set_pods({});
  for (int i = 0; i < 100 && w.pod_count() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(w.pod_count() == 0);
  CHECK(h.count("terminate u1") == 1);
  // A runtime pod nobody wants is terminated when this kubelet made it; others are left alone.
  w.on_runtime_event("foreign", false);
  w.on_runtime_event("orphan", true);
  for (int i = 0; i < 100 && w.pod_count() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(h.count("terminate orphan") == 1);
  CHECK(h.count("terminate foreign") == 0);
  w.stop();
}
