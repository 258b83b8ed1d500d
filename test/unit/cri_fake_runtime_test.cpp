#include <catch2/catch.hpp>

#include <thread>

#include "cri/fake_runtime.h"

using namespace knode;
using namespace knode::cri;
using namespace std::chrono_literals;

namespace {

v1::PodSandboxConfig pod(const std::string& name, const std::string& ns = "default") {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_(ns);
  c.mutable_metadata()->set_uid("uid-" + name);
  c.set_log_directory("/var/log/pods/" + ns + "_" + name + "_uid-" + name);
  (*c.mutable_labels())["io.kubernetes.pod.name"] = name;
  return c;
}

v1::ContainerConfig ctr(const std::string& name, const std::string& image = "busybox") {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_image()->set_image(image);
  c.set_log_path(name + "/0.log");
  (*c.mutable_labels())["io.kubernetes.container.name"] = name;
  return c;
}

}  // namespace

TEST_CASE("fake: a pod's life from sandbox to removal", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  auto sb_config = pod("web");
  auto sb = rt.RunPodSandbox(sb_config, "");
  REQUIRE(sb);
  auto st = rt.PodSandboxStatus(*sb, false);
  REQUIRE(st);
  CHECK(st->status().state() == v1::SANDBOX_READY);
  CHECK(st->status().network().ip().starts_with("10.88."));
  CHECK(st->status().metadata().name() == "web");

  auto id = rt.CreateContainer(*sb, ctr("app"), sb_config);
  REQUIRE(id);
  CHECK(rt.ContainerStatus(*id, false)->status().state() == v1::CONTAINER_CREATED);
  REQUIRE(rt.StartContainer(*id));
  auto cs = rt.ContainerStatus(*id, false);
  REQUIRE(cs);
  CHECK(cs->status().state() == v1::CONTAINER_RUNNING);
  CHECK(cs->status().started_at() > 0);
  CHECK(cs->status().log_path() == sb_config.log_directory() + "/app/0.log");
  CHECK(cs->status().labels().at("io.kubernetes.container.name") == "app");

  REQUIRE(rt.StopContainer(*id, 30s));
  cs = rt.ContainerStatus(*id, false);
  CHECK(cs->status().state() == v1::CONTAINER_EXITED);
  CHECK(cs->status().exit_code() == 143);
  CHECK(cs->status().reason() == "Error");
  CHECK(rt.StopContainer(*id, 30s));  // no-op once exited

  REQUIRE(rt.StopPodSandbox(*sb));
  CHECK(rt.PodSandboxStatus(*sb, false)->status().state() == v1::SANDBOX_NOTREADY);
  REQUIRE(rt.RemovePodSandbox(*sb));
  CHECK(rt.sandbox_count() == 0);
  CHECK(rt.container_count() == 0);
  CHECK(rt.RemovePodSandbox(*sb));  // idempotent
  CHECK(is_not_found(rt.ContainerStatus(*id, false).error()));
  CHECK(rt.calls() == std::vector<std::string>{"RunPodSandbox", "PodSandboxStatus", "CreateContainer",
                                               "ContainerStatus", "StartContainer", "ContainerStatus",
                                               "StopContainer", "ContainerStatus", "StopContainer",
                                               "StopPodSandbox", "PodSandboxStatus",
                                               "RemovePodSandbox", "RemovePodSandbox",
                                               "ContainerStatus"});
}

TEST_CASE("fake: exits, reasons and the sandbox stopping its containers", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  auto cfg = pod("job");
  auto sb = *rt.RunPodSandbox(cfg, "");
  auto a = *rt.CreateContainer(sb, ctr("a"), cfg);
  auto b = *rt.CreateContainer(sb, ctr("b"), cfg);
  REQUIRE(rt.StartContainer(a));
  REQUIRE(rt.StartContainer(b));
  REQUIRE(rt.exit_container(a, 0));
  auto s = rt.ContainerStatus(a, false)->status();
  CHECK(s.exit_code() == 0);
  CHECK(s.reason() == "Completed");
  CHECK(s.finished_at() >= s.started_at());
  CHECK_FALSE(rt.exit_container(a, 1));  // not running any more

  REQUIRE(rt.StopPodSandbox(sb));
  s = rt.ContainerStatus(b, false)->status();
  CHECK(s.state() == v1::CONTAINER_EXITED);
  CHECK(s.exit_code() == 137);

  // A stopped sandbox takes no new containers.
  auto c = rt.CreateContainer(sb, ctr("c"), cfg);
  REQUIRE_FALSE(c);
  CHECK(code_of(c.error()) == Code::FailedPrecondition);
}

TEST_CASE("fake: OOM kill and custom stop exit codes", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  rt.set_stop_exit_codes(0, 9);
  auto cfg = pod("p");
  auto sb = *rt.RunPodSandbox(cfg, "");
  auto a = *rt.CreateContainer(sb, ctr("a"), cfg);
  auto b = *rt.CreateContainer(sb, ctr("b"), cfg);
  REQUIRE(rt.StartContainer(a));
  REQUIRE(rt.StartContainer(b));
  REQUIRE(rt.exit_container(a, 137, "OOMKilled"));
  CHECK(rt.ContainerStatus(a, false)->status().reason() == "OOMKilled");
  REQUIRE(rt.StopContainer(b, 0s));
  CHECK(rt.ContainerStatus(b, false)->status().exit_code() == 9);
}

TEST_CASE("fake: lists filter by id, state, sandbox and labels", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  auto c1 = pod("one");
  auto c2 = pod("two");
  auto s1 = *rt.RunPodSandbox(c1, "");
  auto s2 = *rt.RunPodSandbox(c2, "");
  auto x = *rt.CreateContainer(s1, ctr("x"), c1);
  auto y = *rt.CreateContainer(s2, ctr("y"), c2);
  REQUIRE(rt.StartContainer(y));
  REQUIRE(rt.StopPodSandbox(s1));

  CHECK(rt.ListPodSandbox(nullptr)->size() == 2);
  v1::PodSandboxFilter f;
  f.mutable_state()->set_state(v1::SANDBOX_READY);
  auto ready = *rt.ListPodSandbox(&f);
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].id() == s2);
  v1::PodSandboxFilter by_label;
  (*by_label.mutable_label_selector())["io.kubernetes.pod.name"] = "one";
  auto ones = *rt.ListPodSandbox(&by_label);
  REQUIRE(ones.size() == 1);
  CHECK(ones[0].metadata().name() == "one");
  v1::PodSandboxFilter by_prefix;
  by_prefix.set_id(s2.substr(0, 12));
  CHECK(rt.ListPodSandbox(&by_prefix)->size() == 1);

  v1::ContainerFilter cf;
  cf.set_pod_sandbox_id(s2);
  auto in2 = *rt.ListContainers(&cf);
  REQUIRE(in2.size() == 1);
  CHECK(in2[0].id() == y);
  CHECK(in2[0].state() == v1::CONTAINER_RUNNING);
  v1::ContainerFilter created;
  created.mutable_state()->set_state(v1::CONTAINER_CREATED);
  auto cr = *rt.ListContainers(&created);
  REQUIRE(cr.size() == 1);
  CHECK(cr[0].id() == x);
  v1::ContainerFilter lab;
  (*lab.mutable_label_selector())["io.kubernetes.container.name"] = "nope";
  CHECK(rt.ListContainers(&lab)->empty());
}

TEST_CASE("fake: scripted failures carry code and context", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  rt.fail_next("RunPodSandbox", Code::Unknown, "failed to setup network for sandbox", 2);
  auto cfg = pod("web", "prod");
  auto r = rt.RunPodSandbox(cfg, "");
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "RunPodSandbox for pod \"prod/web\": rpc error: code = Unknown desc = failed to setup "
        "network for sandbox");
  CHECK_FALSE(rt.RunPodSandbox(cfg, ""));
  auto sb = rt.RunPodSandbox(cfg, "");  // the script ran out
  REQUIRE(sb);
  CHECK(rt.sandbox_count() == 1);

  // The same metadata twice is refused, as containerd reserves the name.
  auto again = rt.RunPodSandbox(cfg, "");
  REQUIRE_FALSE(again);
  CHECK(code_of(again.error()) == Code::AlreadyExists);

  rt.fail_next("Status", Code::Unavailable, "connection refused");
  CHECK(is_unavailable(rt.RuntimeStatus(false).error()));
  auto ok = rt.RuntimeStatus(false);
  REQUIRE(ok);
  CHECK(ok->status().conditions_size() == 2);
}

TEST_CASE("fake: state rules", "[cri][fake]") {
  FakeRuntime rt;
  auto cfg = pod("p");
  auto sb = *rt.RunPodSandbox(cfg, "");
  // Missing image.
  auto missing = rt.CreateContainer(sb, ctr("a", "nothere:1"), cfg);
  REQUIRE_FALSE(missing);
  CHECK(is_not_found(missing.error()));
  rt.add_image("busybox");
  auto a = *rt.CreateContainer(sb, ctr("a"), cfg);
  // The same name and attempt twice in one sandbox.
  CHECK(code_of(rt.CreateContainer(sb, ctr("a"), cfg).error()) == Code::AlreadyExists);
  // Exec needs a running container.
  CHECK(code_of(rt.ExecSync(a, {"true"}, 1s).error()) == Code::FailedPrecondition);
  REQUIRE(rt.StartContainer(a));
  CHECK(code_of(rt.StartContainer(a).error()) == Code::FailedPrecondition);
  CHECK(is_not_found(rt.StartContainer("nope").error()));
  CHECK(is_not_found(rt.StopPodSandbox("nope").error()));
  CHECK(rt.RemoveContainer("nope"));
  // Metadata is required.
  v1::PodSandboxConfig empty;
  CHECK(code_of(rt.RunPodSandbox(empty, "").error()) == Code::InvalidArgument);
}

TEST_CASE("fake: exec handler, host network, images, runtime config", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  rt.set_exec_handler([](const std::string&, const std::vector<std::string>& cmd) {
    v1::ExecSyncResponse r;
    if (cmd.size() == 2 && cmd[0] == "echo") r.set_stdout(cmd[1] + "\n");
    else r.set_exit_code(127);
    return r;
  });
  auto cfg = pod("host");
  cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  auto sb = *rt.RunPodSandbox(cfg, "");
  CHECK(rt.PodSandboxStatus(sb, false)->status().network().ip().empty());
  auto a = *rt.CreateContainer(sb, ctr("a"), cfg);
  REQUIRE(rt.StartContainer(a));
  auto out = rt.ExecSync(a, {"echo", "hi"}, 5s);
  REQUIRE(out);
  CHECK(out->stdout() == "hi\n");
  CHECK(out->exit_code() == 0);
  CHECK(rt.ExecSync(a, {"false"}, 5s)->exit_code() == 127);

  v1::ImageSpec missing;
  missing.set_image("knode.local/none:1");
  auto st = rt.ImageStatus(missing, false);
  REQUIRE(st);
  CHECK_FALSE(st->has_image());
  rt.refuse_pull("knode.local/none:1", Code::Unknown, "failed to resolve reference");
  auto pulled = rt.PullImage(missing, nullptr, nullptr);
  REQUIRE_FALSE(pulled);
  CHECK(pulled.error().message().starts_with("PullImage \"knode.local/none:1\": rpc error"));
  rt.allow_pull("knode.local/none:1");
  auto ref = rt.PullImage(missing, nullptr, nullptr);
  REQUIRE(ref);
  CHECK(ref->starts_with("sha256:"));
  CHECK(rt.ImageStatus(missing, false)->image().id() == *ref);
  CHECK(rt.ListImages(nullptr)->size() == 2);
  REQUIRE(rt.RemoveImage(missing));
  CHECK(rt.image_names() == std::vector<std::string>{"busybox"});
  CHECK(rt.ImageFsInfo()->image_filesystems_size() == 1);

  REQUIRE(rt.UpdateRuntimeConfig("10.244.1.0/24"));
  CHECK(rt.pod_cidr() == "10.244.1.0/24");
  rt.set_condition("NetworkReady", false, "NetworkPluginNotReady", "cni config uninitialized");
  auto status = *rt.RuntimeStatus(false);
  bool network_ready = true;
  for (const auto& c : status.status().conditions()) {
    if (c.type() == "NetworkReady") network_ready = c.status();
  }
  CHECK_FALSE(network_ready);
  CHECK(rt.ListContainerStats(nullptr)->size() == 1);
  CHECK(rt.PodSandboxStats(sb)->linux().containers_size() == 1);
  CHECK(rt.Version()->runtime_api_version() == "v1");
}

TEST_CASE("fake: concurrent pod workers", "[cri][fake]") {
  FakeRuntime rt;
  rt.add_image("busybox");
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&rt, w] {
      for (int i = 0; i < 25; ++i) {
        auto cfg = pod("p" + std::to_string(w) + "-" + std::to_string(i));
        auto sb = rt.RunPodSandbox(cfg, "");
        if (!sb) continue;
        auto c = rt.CreateContainer(*sb, ctr("c"), cfg);
        if (c) (void)rt.StartContainer(*c);
        (void)rt.ListContainers(nullptr);
        (void)rt.StopPodSandbox(*sb);
        (void)rt.RemovePodSandbox(*sb);
      }
    });
  }
  for (auto& t : workers) t.join();
  CHECK(rt.sandbox_count() == 0);
  CHECK(rt.container_count() == 0);
  CHECK(rt.calls().size() == 8 * 25 * 6);
}
