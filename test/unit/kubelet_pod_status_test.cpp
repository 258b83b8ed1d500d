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
