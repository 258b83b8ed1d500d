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
  CHECK(first.next_init_container == 0u);
  CHECK(first.containers_to_start.empty());

  auto running = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i1", ContainerState::Running)}));
  CHECK(running.nothing_to_do());

  auto second = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i1", ContainerState::Exited, 0)}));
  CHECK(second.next_init_container == 1u);

  auto failed = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i2", ContainerState::Exited, 1, 300),
                                                                     container(pod, "i1", ContainerState::Exited, 0)}));
  CHECK(failed.next_init_container == 1u);  // restarted (restartPolicy Always)

  auto done = compute_pod_actions(pod, status({ready_sandbox()}, {container(pod, "i2", ContainerState::Exited, 0, 300),
                                                                   container(pod, "i1", ContainerState::Exited, 0)}));
  CHECK_FALSE(done.next_init_container);
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
  CHECK_FALSE(a.next_init_container);
}
