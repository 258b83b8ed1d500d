#include <catch2/catch.hpp>

#include "agent/kubelet/pod_actions.h"
#include "cri/convert.h"
#include "kubelet_test_util.h"

using namespace knode;
using namespace knode::kubelet;
using knode::kubelet::testing::pod_from_yaml;

namespace {

const char* kTwo = R"(apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  restartPolicy: RESTART
  containers:
  - {name: a, image: img-a}
  - {name: b, image: img-b}
)";

kube::Pod two(const std::string& policy = "Always") {
  std::string y = kTwo;
  y.replace(y.find("RESTART"), 7, policy);
  return pod_from_yaml(y);
}

RuntimeSandbox ready_sandbox(uint32_t attempt = 0) {
  return {.id = "sb" + std::to_string(attempt), .ready = true, .attempt = attempt, .created_at = 100 + attempt,
          .ip = "10.88.0.5"};
}

RuntimeContainer container(const kube::Pod& pod, const std::string& name, ContainerState st, int exit = 0,
                           int64_t created = 200, uint32_t restarts = 0) {
  RuntimeContainer c{.id = name + std::to_string(created), .name = name, .sandbox_id = "sb0", .state = st,
                     .created_at = created, .exit_code = exit, .restart_count = restarts};
  c.hash = cri::hash_container(*kube::find_container(pod.spec, name));
  return c;
}

PodRuntimeStatus status(std::vector<RuntimeSandbox> sbs, std::vector<RuntimeContainer> cs) {
  PodRuntimeStatus s{.uid = "uid-1", .sandboxes = std::move(sbs), .containers = std::move(cs)};
  return s;
}

}  // namespace

TEST_CASE("pod actions: a new pod creates the sandbox and starts every container", "[kubelet][actions]") {
  auto pod = two();
  auto a = compute_pod_actions(pod, status({}, {}));
  CHECK(a.create_sandbox);
  CHECK(a.kill_pod);
  CHECK(a.attempt == 0);
  CHECK(a.containers_to_start == std::vector<size_t>{0, 1});
}

TEST_CASE("pod actions: a running pod needs nothing (adoption after restart)", "[kubelet][actions]") {
  auto pod = two();
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "a", ContainerState::Running),
                                                               container(pod, "b", ContainerState::Running)}));
  CHECK(a.nothing_to_do());
  CHECK(a.sandbox_id == "sb0");
}

TEST_CASE("pod actions: a dead sandbox is recreated with the next attempt", "[kubelet][actions]") {
  auto pod = two();
  auto sb = ready_sandbox(2);
  sb.ready = false;
  auto a = compute_pod_actions(pod, status({sb}, {container(pod, "a", ContainerState::Exited, 137)}));
  CHECK(a.kill_pod);
  CHECK(a.create_sandbox);
  CHECK(a.attempt == 3);
  CHECK(a.containers_to_start.size() == 2);
  // A sandbox without an IP is not usable either.
  auto noip = ready_sandbox();
  noip.ip.clear();
  CHECK(compute_pod_actions(pod, status({noip}, {})).create_sandbox);
}

TEST_CASE("pod actions: restartPolicy decides which exited containers start again", "[kubelet][actions]") {
  SECTION("Always restarts succeeded and failed") {
    auto pod = two("Always");
    auto a = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "a", ContainerState::Exited, 0),
                                                                 container(pod, "b", ContainerState::Exited, 1)}));
    CHECK(a.containers_to_start == std::vector<size_t>{0, 1});
    CHECK_FALSE(a.kill_pod);
  }
  SECTION("OnFailure restarts only failed") {
    auto pod = two("OnFailure");
    auto a = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "a", ContainerState::Exited, 0),
                                                                 container(pod, "b", ContainerState::Exited, 1)}));
    CHECK(a.containers_to_start == std::vector<size_t>{1});
  }
  SECTION("Never restarts nothing and stops the pod once all are done") {
    auto pod = two("Never");
    auto a = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "a", ContainerState::Exited, 0),
                                                                 container(pod, "b", ContainerState::Exited, 1)}));
    CHECK(a.containers_to_start.empty());
    CHECK(a.kill_pod);
    CHECK_FALSE(a.create_sandbox);
    // ... and once the sandbox is down it is not created again.
    auto sb = ready_sandbox();
    sb.ready = false;
    auto b = compute_pod_actions(pod, status({sb}, {container(pod, "a", ContainerState::Exited, 0)}));
    CHECK_FALSE(b.create_sandbox);
  }
}

TEST_CASE("pod actions: a changed spec hash replaces the container", "[kubelet][actions]") {
  auto pod = two();
  auto old = container(pod, "a", ContainerState::Running);
  old.hash ^= 1;
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {old, container(pod, "b", ContainerState::Running)}));
  REQUIRE(a.containers_to_kill.size() == 1);
  CHECK(a.containers_to_kill[0].id == old.id);
  CHECK(a.containers_to_kill[0].reason.find("hash changed") != std::string::npos);
  CHECK(a.containers_to_start == std::vector<size_t>{0});
  CHECK_FALSE(a.kill_pod);
}

TEST_CASE("pod actions: a failed liveness probe restarts the container", "[kubelet][actions]") {
  auto pod = two();
  auto a = compute_pod_actions(pod,
                               status({ready_sandbox()}, {container(pod, "a", ContainerState::Running),
                                                          container(pod, "b", ContainerState::Running)}),
                               ActionInputs{.liveness_failed = {"b"}});
  REQUIRE(a.containers_to_kill.size() == 1);
  CHECK(a.containers_to_kill[0].name == "b");
  CHECK(a.containers_to_start == std::vector<size_t>{1});
}

TEST_CASE("pod actions: init containers run one at a time, in order", "[kubelet][actions]") {
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  initContainers:
  - {name: i1, image: img}
  - {name: i2, image: img}
  containers:
  - {name: app, image: img}
)");
  auto first = compute_pod_actions(pod, status({}, {}));
  CHECK(first.create_sandbox);
  CHECK(first.init_containers_to_start == std::vector<size_t>{0});
  CHECK(first.containers_to_start.empty());

  auto running = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i1", ContainerState::Running)}));
  CHECK(running.nothing_to_do());

  auto second = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i1", ContainerState::Exited, 0)}));
  CHECK(second.init_containers_to_start == std::vector<size_t>{1});

  auto failed = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i2", ContainerState::Exited, 1, 300),
                                                                     container(pod, "i1", ContainerState::Exited, 0)}));
  CHECK(failed.init_containers_to_start == std::vector<size_t>{1});  // restarted (restartPolicy Always)

  auto done = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i2", ContainerState::Exited, 0, 300),
                                                                   container(pod, "i1", ContainerState::Exited, 0)}));
  CHECK(done.init_containers_to_start.empty());
  CHECK(done.containers_to_start == std::vector<size_t>{0});
}

TEST_CASE("pod actions: a failed init container with restartPolicy Never fails the pod", "[kubelet][actions]") {
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  restartPolicy: Never
  initContainers:
  - {name: i1, image: img}
  containers:
  - {name: app, image: img}
)");
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i1", ContainerState::Exited, 2)}));
  CHECK(a.kill_pod);
  CHECK(a.init_containers_to_start.empty());
}

namespace {

const char* kSidecarPod = R"(apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  restartPolicy: RESTART
  initContainers:
  - {name: i1, image: img}
  - {name: proxy, image: img, restartPolicy: Always}
  - {name: logs, image: img, restartPolicy: Always, startupProbe: {exec: {command: ["true"]}}}
  - {name: i2, image: img}
  containers:
  - {name: app, image: img}
)";

kube::Pod sidecar_pod(const std::string& policy = "Always") {
  std::string y = kSidecarPod;
  y.replace(y.find("RESTART"), 7, policy);
  return pod_from_yaml(y);
}

}  // namespace

TEST_CASE("pod actions: sidecars start in order with the init containers, each after the one before runs",
          "[kubelet][actions][sidecar]") {
  auto pod = sidecar_pod();
  using CS = ContainerState;
  auto i1 = container(pod, "i1", CS::Exited, 0, 200);
  auto proxy = container(pod, "proxy", CS::Running, 0, 300);
  auto logs = container(pod, "logs", CS::Running, 0, 400);
  auto i2 = container(pod, "i2", CS::Exited, 0, 500);
  auto app = container(pod, "app", CS::Running, 0, 600);

  // i1 done: the sidecar "proxy" is next.
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {i1}));
  CHECK(a.init_containers_to_start == std::vector<size_t>{1});
  CHECK(a.containers_to_start.empty());

  // proxy running (no startup probe): "logs" starts; proxy keeps running, nothing else.
  a = compute_pod_actions(pod, status({ready_sandbox()}, {proxy, i1}));
  CHECK(a.init_containers_to_start == std::vector<size_t>{2});
  CHECK(a.containers_to_kill.empty());

  // logs running but its startup probe has not succeeded yet: wait.
  a = compute_pod_actions(pod, status({ready_sandbox()}, {logs, proxy, i1}));
  CHECK(a.nothing_to_do());
  a = compute_pod_actions(pod, status({ready_sandbox()}, {logs, proxy, i1}), ActionInputs{.started = {{"logs", false}}});
  CHECK(a.nothing_to_do());
  // ... started: the regular init container i2 is next; the app still waits.
  ActionInputs started{.started = {{"logs", true}}};
  a = compute_pod_actions(pod, status({ready_sandbox()}, {logs, proxy, i1}), started);
  CHECK(a.init_containers_to_start == std::vector<size_t>{3});
  CHECK(a.containers_to_start.empty());

  // i2 running: wait for it, sidecars do not block anything else.
  auto i2_running = container(pod, "i2", CS::Running, 0, 500);
  CHECK(compute_pod_actions(pod, status({ready_sandbox()}, {i2_running, logs, proxy, i1}), started).nothing_to_do());

  // i2 done: the app starts (sidecars running do not hold initialization back).
  a = compute_pod_actions(pod, status({ready_sandbox()}, {i2, logs, proxy, i1}), started);
  CHECK(a.init_containers_to_start.empty());
  CHECK(a.containers_to_start == std::vector<size_t>{0});

  // Everything running: nothing to do, even with i1 and i2 removed by GC.
  CHECK(compute_pod_actions(pod, status({ready_sandbox()}, {app, logs, proxy}), started).nothing_to_do());
}

TEST_CASE("pod actions: an exited sidecar is restarted whatever the restartPolicy; a removed one too",
          "[kubelet][actions][sidecar]") {
  using CS = ContainerState;
  for (std::string policy : {"Always", "OnFailure", "Never"}) {
    CAPTURE(policy);
    auto pod = sidecar_pod(policy);
    ActionInputs started{.started = {{"logs", true}}};
    auto app = container(pod, "app", CS::Running, 0, 600);
    auto logs = container(pod, "logs", CS::Running, 0, 400);
    for (int exit_code : {0, 1}) {
      auto proxy = container(pod, "proxy", CS::Exited, exit_code, 300);
      auto a = compute_pod_actions(pod, status({ready_sandbox()}, {app, logs, proxy}), started);
      CHECK(a.init_containers_to_start == std::vector<size_t>{1});
      CHECK(a.containers_to_start.empty());
      CHECK_FALSE(a.kill_pod);
    }
    // A sidecar gone from the runtime after initialization is started again; regular init
    // containers are not.
    auto a = compute_pod_actions(pod, status({ready_sandbox()}, {app, logs}), started);
    CHECK(a.init_containers_to_start == std::vector<size_t>{1});
  }
}

TEST_CASE("pod actions: a sidecar with a changed spec or a failed liveness probe is killed and restarted",
          "[kubelet][actions][sidecar]") {
  using CS = ContainerState;
  auto pod = sidecar_pod();
  auto app = container(pod, "app", CS::Running, 0, 600);
  auto logs = container(pod, "logs", CS::Running, 0, 400);
  auto proxy = container(pod, "proxy", CS::Running, 0, 300);
  ActionInputs in{.started = {{"logs", true}}};
  in.liveness_failed = {"proxy"};
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {app, logs, proxy}), in);
  REQUIRE(a.containers_to_kill.size() == 1);
  CHECK(a.containers_to_kill[0].id == proxy.id);
  CHECK(a.containers_to_kill[0].reason.find("failed liveness probe") != std::string::npos);
  CHECK(a.init_containers_to_start == std::vector<size_t>{1});

  auto changed = proxy;
  changed.hash ^= 1;
  a = compute_pod_actions(pod, status({ready_sandbox()}, {app, logs, changed}), ActionInputs{.started = {{"logs", true}}});
  REQUIRE(a.containers_to_kill.size() == 1);
  CHECK(a.containers_to_kill[0].reason.find("definition changed") != std::string::npos);
  CHECK(a.init_containers_to_start == std::vector<size_t>{1});
}

TEST_CASE("pod actions: app containers done with restartPolicy Never/OnFailure stop the pod, sidecars included",
          "[kubelet][actions][sidecar]") {
  using CS = ContainerState;
  for (std::string policy : {"Never", "OnFailure"}) {
    CAPTURE(policy);
    auto pod = sidecar_pod(policy);
    ActionInputs started{.started = {{"logs", true}}};
    auto app = container(pod, "app", CS::Exited, 0, 600);
    auto logs = container(pod, "logs", CS::Running, 0, 400);
    auto proxy = container(pod, "proxy", CS::Running, 0, 300);
    auto i2 = container(pod, "i2", CS::Exited, 0, 500);
    auto a = compute_pod_actions(pod, status({ready_sandbox()}, {app, i2, logs, proxy}), started);
    CHECK(a.kill_pod);
    CHECK_FALSE(a.create_sandbox);
    CHECK(a.init_containers_to_start.empty());
    CHECK(a.containers_to_start.empty());

    // Once stopped, no new sandbox: the pod is done.
    auto sb = ready_sandbox();
    sb.ready = false;
    auto stopped_logs = container(pod, "logs", CS::Exited, 143, 400);
    auto stopped_proxy = container(pod, "proxy", CS::Exited, 143, 300);
    auto b = compute_pod_actions(pod, status({sb}, {app, i2, stopped_logs, stopped_proxy}), started);
    CHECK_FALSE(b.create_sandbox);
    CHECK(b.init_containers_to_start.empty());
  }
  // With restartPolicy Always the app is restarted instead.
  auto pod = sidecar_pod("Always");
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "app", CS::Exited, 0, 600),
                                                               container(pod, "i2", CS::Exited, 0, 500),
                                                               container(pod, "logs", CS::Running, 0, 400),
                                                               container(pod, "proxy", CS::Running, 0, 300)}),
                               ActionInputs{.started = {{"logs", true}}});
  CHECK_FALSE(a.kill_pod);
  CHECK(a.containers_to_start == std::vector<size_t>{0});
}

TEST_CASE("pod actions: a new sandbox starts with the first init container, sidecar or not", "[kubelet][actions][sidecar]") {
  auto pod = sidecar_pod();
  pod.spec.init_containers.erase(pod.spec.init_containers.begin());  // proxy (a sidecar) first
  auto a = compute_pod_actions(pod, status({}, {}));
  CHECK(a.create_sandbox);
  CHECK(a.init_containers_to_start == std::vector<size_t>{0});
  CHECK(a.containers_to_start.empty());
}

TEST_CASE("pod actions: a container killed by a failed postStart hook restarts per restartPolicy", "[kubelet][actions][hooks]") {
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: hooked}
spec:
  restartPolicy: OnFailure
  containers:
  - name: app
    image: img
    lifecycle:
      postStart: {exec: {command: ["false"]}}
      preStop: {httpGet: {path: /stop, port: 8080}}
)");
  // Killed after the hook failed (SIGTERM/SIGKILL: non-zero exit): started again.
  auto killed = container(pod, "app", ContainerState::Exited, 137);
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {killed}));
  CHECK(a.containers_to_start == std::vector<size_t>{0});
  // Exited 0 under OnFailure (the hook succeeded on a later start, then the app finished): done.
  auto done = container(pod, "app", ContainerState::Exited, 0);
  a = compute_pod_actions(pod, status({ready_sandbox()}, {done}));
  CHECK(a.containers_to_start.empty());
  CHECK(a.kill_pod);
}

TEST_CASE("pod actions: a failed startup probe restarts the container or sidecar", "[kubelet][actions][sidecar]") {
  using CS = ContainerState;
  auto pod = sidecar_pod();
  auto app = container(pod, "app", CS::Running, 0, 600);
  auto logs = container(pod, "logs", CS::Running, 0, 400);
  auto proxy = container(pod, "proxy", CS::Running, 0, 300);
  // The sidecar "logs" (it has a startup probe) never started: killed and started again; the app
  // is not touched.
  auto a = compute_pod_actions(pod, status({ready_sandbox()}, {app, logs, proxy}),
                               ActionInputs{.started = {{"logs", false}}, .startup_failed = {"logs"}});
  REQUIRE(a.containers_to_kill.size() == 1);
  CHECK(a.containers_to_kill[0].id == logs.id);
  CHECK(a.containers_to_kill[0].reason.find("failed startup probe") != std::string::npos);
  CHECK(a.init_containers_to_start == std::vector<size_t>{2});
  CHECK(a.containers_to_start.empty());

  // A regular container: restarted per restartPolicy.
  auto two_pod = two("OnFailure");
  auto b = compute_pod_actions(two_pod,
                               status({ready_sandbox()}, {container(two_pod, "a", CS::Running),
                                                          container(two_pod, "b", CS::Running)}),
                               ActionInputs{.startup_failed = {"a"}});
  REQUIRE(b.containers_to_kill.size() == 1);
  CHECK(b.containers_to_kill[0].reason == "Container failed startup probe, will be restarted");
  CHECK(b.containers_to_start == std::vector<size_t>{0});
  auto never = two("Never");
  auto c = compute_pod_actions(never,
                               status({ready_sandbox()}, {container(never, "a", CS::Running),
                                                          container(never, "b", CS::Running)}),
                               ActionInputs{.startup_failed = {"a"}});
  REQUIRE(c.containers_to_kill.size() == 1);
  CHECK(c.containers_to_start.empty());
}
