#include <catch2/catch.hpp>

#include "agent/kubelet/pod_status.h"
#include "cri/convert.h"
#include "kubelet_test_util.h"

using namespace knode;
using namespace knode::kubelet;
using knode::kubelet::testing::pod_from_yaml;

namespace {

const kube::PodCondition& cond(const kube::PodStatus& s, const std::string& type) {
  for (const auto& c : s.conditions)
    if (c.type == type) return c;
  FAIL("no condition " << type);
  return s.conditions.front();
}

const char* kPod = R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: img
    resources: {limits: {cpu: 100m, memory: 64Mi}}
)";

constexpr int64_t T = 1'800'000'000LL * 1'000'000'000LL;

PodRuntimeStatus running_pod(const kube::Pod& pod) {
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = "sb", .ready = true, .ip = "10.88.0.7"});
  rs.containers.push_back({.id = "c1", .name = "app", .state = ContainerState::Running, .created_at = T,
                           .started_at = T, .image_ref = "sha256:abc", .restart_count = 0});
  return rs;
}

}  // namespace

TEST_CASE("pod status: a pending pod waits with ContainerCreating", "[kubelet][status]") {
  auto pod = pod_from_yaml(kPod);
  auto s = generate_pod_status(pod, {}, {.now_ns = T}, {});
  CHECK(s.phase == "Pending");
  REQUIRE(s.container_statuses.size() == 1);
  REQUIRE(s.container_statuses[0].state.waiting);
  CHECK(s.container_statuses[0].state.waiting->reason == "ContainerCreating");
  CHECK(cond(s, "PodReadyToStartContainers").status == "False");
  CHECK(cond(s, "Ready").status == "False");
  CHECK(cond(s, "Ready").reason == "ContainersNotReady");
  CHECK(cond(s, "Ready").message == "containers with unready status: [app]");
  CHECK(s.qos_class == "Guaranteed");
  CHECK(s.start_time == "2027-01-15T08:00:00Z");
}

TEST_CASE("pod status: running pod is Ready with its IP", "[kubelet][status]") {
  auto pod = pod_from_yaml(kPod);
  auto s = generate_pod_status(pod, running_pod(pod), {.host_ip = "192.168.1.2", .now_ns = T}, {});
  CHECK(s.phase == "Running");
  CHECK(s.pod_ip == "10.88.0.7");
  REQUIRE(s.pod_ips.size() == 1);
  CHECK(s.host_ip == "192.168.1.2");
  const auto& cs = s.container_statuses[0];
  CHECK(cs.ready);
  REQUIRE(cs.state.running);
  CHECK(cs.container_id == "containerd://c1");
  CHECK(cs.image_id == "sha256:abc");
  CHECK(cond(s, "Ready").status == "True");
  CHECK(cond(s, "ContainersReady").status == "True");
  CHECK(cond(s, "Initialized").status == "True");
  CHECK(cond(s, "PodReadyToStartContainers").status == "True");
}

TEST_CASE("pod status: lastTransitionTime and startTime are kept while unchanged", "[kubelet][status]") {
  auto pod = pod_from_yaml(kPod);
  auto first = generate_pod_status(pod, running_pod(pod), {.now_ns = T}, {});
  auto second = generate_pod_status(pod, running_pod(pod), {.now_ns = T + 60'000'000'000}, first);
  CHECK(second.start_time == first.start_time);
  CHECK(cond(second, "Ready").last_transition_time == cond(first, "Ready").last_transition_time);
  CHECK(second == first);
}

TEST_CASE("pod status: readiness probe result gates Ready", "[kubelet][status]") {
  auto pod = pod_from_yaml(std::string(kPod) + "    readinessProbe: {tcpSocket: {port: 80}}\n");
  auto not_yet = generate_pod_status(pod, running_pod(pod), {.now_ns = T}, {});
  CHECK_FALSE(not_yet.container_statuses[0].ready);
  CHECK(cond(not_yet, "Ready").status == "False");
  auto ok = generate_pod_status(pod, running_pod(pod), {.ready = {{"app", true}}, .now_ns = T}, {});
  CHECK(ok.container_statuses[0].ready);
}

TEST_CASE("pod status: crash loop shows CrashLoopBackOff with lastState and restarts", "[kubelet][status]") {
  auto pod = pod_from_yaml(kPod);
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = "sb", .ready = true, .ip = "10.88.0.7"});
  rs.containers.push_back({.id = "c3", .name = "app", .state = ContainerState::Exited, .created_at = T,
                           .started_at = T, .finished_at = T + 1, .exit_code = 1, .reason = "Error",
                           .restart_count = 2});
  rs.containers.push_back({.id = "c2", .name = "app", .state = ContainerState::Exited, .created_at = T - 10,
                           .exit_code = 1, .reason = "Error", .restart_count = 1});
  StatusInputs in{.now_ns = T};
  in.reasons["app"] = {"CrashLoopBackOff", "back-off 20s restarting failed container=app pod=p"};
  auto s = generate_pod_status(pod, rs, in, {});
  const auto& cs = s.container_statuses[0];
  REQUIRE(cs.state.waiting);
  CHECK(cs.state.waiting->reason == "CrashLoopBackOff");
  REQUIRE(cs.last_state.terminated);
  CHECK(cs.last_state.terminated->exit_code == 1);
  CHECK(cs.last_state.terminated->reason == "Error");
  CHECK(cs.restart_count == 2);
  CHECK(s.phase == "Running");  // restartPolicy Always: a crash-looping pod is Running
}

TEST_CASE("pod status: image errors are the waiting reason", "[kubelet][status]") {
  auto pod = pod_from_yaml(kPod);
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = "sb", .ready = true, .ip = "10.88.0.7"});
  for (const char* reason : {"ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError"}) {
    StatusInputs in{.now_ns = T};
    in.reasons["app"] = {reason, "m"};
    auto s = generate_pod_status(pod, rs, in, {});
    REQUIRE(s.container_statuses[0].state.waiting);
    CHECK(s.container_statuses[0].state.waiting->reason == reason);
    CHECK(s.phase == "Pending");
  }
}

TEST_CASE("pod status: phases of finished pods", "[kubelet][status]") {
  auto done = [](const std::string& policy, int exit) {
    auto pod = pod_from_yaml(std::string(kPod) + "  restartPolicy: " + policy + "\n");
    PodRuntimeStatus rs;
    rs.sandboxes.push_back({.id = "sb", .ready = false});
    rs.containers.push_back({.id = "c1", .name = "app", .state = ContainerState::Exited, .exit_code = exit,
                             .reason = exit ? "Error" : "Completed"});
    return generate_pod_status(pod, rs, {.now_ns = T}, {});
  };
  CHECK(done("Never", 0).phase == "Succeeded");
  CHECK(done("Never", 3).phase == "Failed");
  CHECK(done("OnFailure", 0).phase == "Succeeded");
  CHECK(done("Always", 0).phase == "Running");
  auto s = done("Never", 0);
  CHECK(cond(s, "Ready").reason == "PodCompleted");
  REQUIRE(s.container_statuses[0].state.terminated);
  CHECK(s.container_statuses[0].state.terminated->reason == "Completed");
}

TEST_CASE("pod status: init containers keep the pod Pending and not Initialized", "[kubelet][status]") {
  auto pod = pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers: [{name: i1, image: img}]
  containers: [{name: app, image: img}]
)");
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = "sb", .ready = true, .ip = "10.88.0.7"});
  rs.containers.push_back({.id = "i", .name = "i1", .state = ContainerState::Running});
  auto s = generate_pod_status(pod, rs, {.now_ns = T}, {});
  CHECK(s.phase == "Pending");
  CHECK(cond(s, "Initialized").status == "False");
  CHECK(cond(s, "Initialized").message == "containers with incomplete status: [i1]");
  CHECK(s.container_statuses[0].state.waiting->reason == "PodInitializing");
}

namespace {

const char* kSidecarPod = R"(apiVersion: v1
kind: Pod
metadata: {name: sc}
spec:
  restartPolicy: RESTART
  initContainers:
  - name: init
    image: img
  - name: proxy
    image: img
    restartPolicy: Always
    startupProbe: {exec: {command: ["true"]}}
    readinessProbe: {exec: {command: ["true"]}}
  containers:
  - {name: app, image: img}
)";

kube::Pod sidecar_pod(const std::string& policy = "Always") {
  std::string y = kSidecarPod;
  y.replace(y.find("RESTART"), 7, policy);
  return pod_from_yaml(y);
}

RuntimeContainer rc(const std::string& name, ContainerState st, int64_t created, int exit_code = 0,
                    uint32_t restarts = 0) {
  return {.id = name + std::to_string(created), .name = name, .state = st, .created_at = created,
          .started_at = created, .finished_at = st == ContainerState::Exited ? created + 1 : 0, .exit_code = exit_code,
          .reason = st == ContainerState::Exited ? (exit_code ? "Error" : "Completed") : "",
          .restart_count = restarts};
}

PodRuntimeStatus with(std::vector<RuntimeContainer> cs) {
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = "sb", .ready = true, .ip = "10.88.0.7"});
  rs.containers = std::move(cs);
  return rs;
}

}  // namespace

TEST_CASE("pod status: a sidecar is started after its startup probe and ready after its readiness probe",
          "[kubelet][status][sidecar]") {
  auto pod = sidecar_pod();
  auto rs = with({rc("proxy", ContainerState::Running, T + 2), rc("init", ContainerState::Exited, T + 1)});
  // Running, startup probe not yet successful: not started, initialization pending.
  auto s = generate_pod_status(pod, rs, {.now_ns = T}, {});
  REQUIRE(s.init_container_statuses.size() == 2);
  const auto& proxy = s.init_container_statuses[1];
  CHECK(proxy.name == "proxy");
  CHECK(proxy.state.running);
  CHECK(proxy.started == false);
  CHECK_FALSE(proxy.ready);
  CHECK(s.phase == "Pending");
  CHECK(cond(s, "Initialized").status == "False");
  CHECK(cond(s, "Initialized").message == "containers with incomplete status: [proxy]");

  // Started: initialized, the app is waiting for its start; not ready until the readiness probe.
  s = generate_pod_status(pod, rs, {.started = {{"proxy", true}}, .now_ns = T}, {});
  CHECK(s.init_container_statuses[1].started == true);
  CHECK_FALSE(s.init_container_statuses[1].ready);
  CHECK(cond(s, "Initialized").status == "True");
  CHECK(s.container_statuses[0].state.waiting->reason == "ContainerCreating");

  // App running, sidecar not ready: the pod is Running but not Ready, naming the sidecar first.
  rs.containers.insert(rs.containers.begin(), rc("app", ContainerState::Running, T + 3));
  s = generate_pod_status(pod, rs, {.started = {{"proxy", true}}, .now_ns = T}, {});
  CHECK(s.phase == "Running");
  CHECK(cond(s, "Ready").status == "False");
  CHECK(cond(s, "Ready").message == "containers with unready status: [proxy]");
  CHECK(s.init_container_statuses[0].ready);  // a completed init container is ready

  // Sidecar ready: the pod is Ready.
  s = generate_pod_status(pod, rs, {.ready = {{"proxy", true}}, .started = {{"proxy", true}}, .now_ns = T}, {});
  CHECK(s.init_container_statuses[1].ready);
  CHECK(cond(s, "Ready").status == "True");
  CHECK(cond(s, "ContainersReady").status == "True");
}

TEST_CASE("pod status: a restarting sidecar waits in back-off without sending the pod back to Pending",
          "[kubelet][status][sidecar]") {
  for (std::string policy : {"Always", "Never"}) {
    CAPTURE(policy);
    auto pod = sidecar_pod(policy);
    auto rs = with({rc("app", ContainerState::Running, T + 3), rc("proxy", ContainerState::Exited, T + 2, 1),
                    rc("init", ContainerState::Exited, T + 1)});
    StatusInputs in{.now_ns = T};
    in.reasons["proxy"] = {"CrashLoopBackOff", "back-off 10s restarting failed container=proxy pod=sc_default(uid-1)"};
    auto s = generate_pod_status(pod, rs, in, {});
    const auto& proxy = s.init_container_statuses[1];
    REQUIRE(proxy.state.waiting);  // restarted whatever the pod's restartPolicy
    CHECK(proxy.state.waiting->reason == "CrashLoopBackOff");
    REQUIRE(proxy.last_state.terminated);
    CHECK(proxy.last_state.terminated->exit_code == 1);
    CHECK(s.phase == "Running");
    CHECK(cond(s, "Initialized").status == "True");
    CHECK(cond(s, "Ready").status == "False");
  }
}

TEST_CASE("pod status: app containers done and sidecars stopped: Succeeded or Failed per restartPolicy",
          "[kubelet][status][sidecar]") {
  SECTION("Never, app succeeded, sidecar still running: Running until it is stopped") {
    auto pod = sidecar_pod("Never");
    auto rs = with({rc("app", ContainerState::Exited, T + 3, 0), rc("proxy", ContainerState::Running, T + 2),
                    rc("init", ContainerState::Exited, T + 1)});
    CHECK(generate_pod_status(pod, rs, {.started = {{"proxy", true}}, .now_ns = T}, {}).phase == "Running");
    rs.containers[1] = rc("proxy", ContainerState::Exited, T + 2, 143);  // stopped with SIGTERM
    rs.sandboxes[0].ready = false;
    auto s = generate_pod_status(pod, rs, {.now_ns = T}, {});
    CHECK(s.phase == "Succeeded");
    CHECK(cond(s, "Ready").reason == "PodCompleted");
  }
  SECTION("OnFailure, app failed: Running (restarting); Never: Failed") {
    auto rs = with({rc("app", ContainerState::Exited, T + 3, 2), rc("proxy", ContainerState::Exited, T + 2, 143),
                    rc("init", ContainerState::Exited, T + 1)});
    auto failed = generate_pod_status(sidecar_pod("Never"), rs, {.now_ns = T}, {});
    CHECK(failed.phase == "Failed");
    CHECK(cond(failed, "Ready").status == "False");
    CHECK(cond(failed, "Ready").reason == "PodFailed");
    CHECK(cond(failed, "ContainersReady").reason == "PodFailed");
    CHECK(generate_pod_status(sidecar_pod("OnFailure"), rs, {.now_ns = T}, {}).phase == "Running");
  }
}

TEST_CASE("pod status: a failed postStart hook shows PostStartHookError until the restart", "[kubelet][status][hooks]") {
  auto pod = pod_from_yaml(kPod);
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = "sb", .ready = true, .ip = "10.88.0.7"});
  rs.containers.push_back(rc("app", ContainerState::Exited, T, 137));
  StatusInputs in{.now_ns = T};
  in.reasons["app"] = {"PostStartHookError", "Exec lifecycle hook ([false]) for Container \"app\" in Pod ..."};
  auto s = generate_pod_status(pod, rs, in, {});
  REQUIRE(s.container_statuses[0].state.waiting);
  CHECK(s.container_statuses[0].state.waiting->reason == "PostStartHookError");
  REQUIRE(s.container_statuses[0].last_state.terminated);
  CHECK(s.container_statuses[0].last_state.terminated->exit_code == 137);
}
