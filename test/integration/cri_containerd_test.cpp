// GrpcRuntime against a real containerd (root).
//
// Which containerd: $KNODE_TEST_CRI_ENDPOINT if set (e.g. unix:///run/knode-test/containerd/
// containerd.sock); otherwise the test starts the private test containerd with
// test/scripts/containerd-up.sh (idempotent, ~0.1 s when it already runs) and leaves it running
// for the next test; stop it with test/scripts/containerd-down.sh. The restart test runs a second,
// private containerd (state in /run/knode-test/containerd-restart) and stops it at the end, so
// these tests may run in parallel. Pods get addresses on the test bridge only (10.88.0.0/16, no
// default route); every sandbox made here is removed again.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "cri/errors.h"
#include "cri/grpc_runtime.h"
#include "cri/types.h"

using namespace knode;
using namespace knode::cri;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPause = "knode.local/pause:3.10";
constexpr const char* kBusybox = "knode.local/busybox:1.36";
const std::string kScripts = std::string(KNODE_SOURCE_DIR) + "/test/scripts";
const std::string kDefaultStateDir = "/run/knode-test/containerd";

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  INFO(cmd << " -> " << out);
  REQUIRE(rc == 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

const std::string& endpoint() {
  static const std::string ep = [] {
    if (const char* e = std::getenv("KNODE_TEST_CRI_ENDPOINT"); e && *e) {
      return std::string(e);
    }
    INFO("the CRI integration tests need root, or KNODE_TEST_CRI_ENDPOINT naming a running runtime");
    REQUIRE(geteuid() == 0);
    return "unix://" + run(kScripts + "/containerd-up.sh " + kDefaultStateDir);
  }();
  return ep;
}

std::unique_ptr<GrpcRuntime> connect() {
  auto rt = GrpcRuntime::Connect({.endpoint = endpoint(),
                                  .request_timeout = 60s,
                                  .pull_timeout = 60s,
                                  .connect_timeout = 20s,
                                  .reconnect_wait = 10s});
  INFO((rt ? std::string() : rt.error().message()));
  REQUIRE(rt);
  return std::move(rt).value();
}

std::string random_hex(int n) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
  return s;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/knode-cri-it-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

v1::PodSandboxConfig pod_config(const std::string& name, const fs::path& logs_root) {
  v1::PodSandboxConfig c;
  auto uid = random_hex(8) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(12);
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("knode-test");
  c.mutable_metadata()->set_uid(uid);
  c.set_hostname(name);
  c.set_log_directory((logs_root / ("knode-test_" + name + "_" + uid)).string());
  c.mutable_dns_config()->add_servers("10.88.0.1");
  c.mutable_dns_config()->add_searches("knode-test.svc.cluster.local");
  (*c.mutable_labels())["io.kubernetes.pod.name"] = name;
  (*c.mutable_labels())["io.kubernetes.pod.namespace"] = "knode-test";
  (*c.mutable_labels())["io.kubernetes.pod.uid"] = uid;
  (*c.mutable_labels())["knode-test"] = "cri-integration";
  (*c.mutable_annotations())["knode.test/annotation"] = "kept";
  return c;
}

v1::ContainerConfig container_config(const std::string& name, std::vector<std::string> command) {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_image()->set_image(kBusybox);
  for (auto& a : command) c.add_command(a);
  c.set_log_path(name + "/0.log");
  auto* env = c.add_envs();
  env->set_key("KNODE_TEST");
  env->set_value("1");
  (*c.mutable_labels())["io.kubernetes.container.name"] = name;
  (*c.mutable_labels())["knode-test"] = "cri-integration";
  return c;
}

// Stops and removes the sandbox when the test ends, whatever happened.
struct SandboxGuard {
  Runtime& rt;
  std::string id;
  ~SandboxGuard() {
    if (id.empty()) return;
    (void)rt.StopPodSandbox(id);
    (void)rt.RemovePodSandbox(id);
  }
};

v1::ContainerStatus wait_for_state(Runtime& rt, const std::string& id, v1::ContainerState want,
                                   std::chrono::milliseconds limit = 15s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto st = rt.ContainerStatus(id, false);
    REQUIRE(st);
    if (st->status().state() == want || std::chrono::steady_clock::now() > until) {
      return st->status();
    }
    std::this_thread::sleep_for(50ms);
  }
}

bool in_test_subnet(const std::string& ip) { return ip.starts_with("10.88."); }

}  // namespace

TEST_CASE("cri integration: Version and runtime status", "[cri][integration]") {
  auto rt = connect();
  CHECK(rt->runtime_name() == "containerd");
  CHECK(rt->runtime_api_version() == "v1");
  auto v = rt->Version();
  REQUIRE(v);
  CHECK_FALSE(v->runtime_version().empty());
  auto st = rt->RuntimeStatus(false);
  REQUIRE(st);
  std::map<std::string, bool> conditions;
  for (const auto& c : st->status().conditions()) conditions[c.type()] = c.status();
  CHECK(conditions["RuntimeReady"]);
  CHECK(conditions["NetworkReady"]);
}

TEST_CASE("cri integration: a pod from sandbox to removal", "[cri][integration]") {
  auto rt = connect();
  TempDir logs;
  auto cfg = pod_config("web-" + random_hex(6), logs.path);

  auto t0 = std::chrono::steady_clock::now();
  auto sb = rt->RunPodSandbox(cfg, "");
  INFO((sb ? std::string() : sb.error().message()));
  REQUIRE(sb);
  SandboxGuard guard{*rt, *sb};
  INFO("RunPodSandbox took "
       << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
       << " ms");

  auto sst = rt->PodSandboxStatus(*sb, false);
  REQUIRE(sst);
  CHECK(sst->status().state() == v1::SANDBOX_READY);
  CHECK(sst->status().metadata().name() == cfg.metadata().name());
  CHECK(in_test_subnet(sst->status().network().ip()));
  CHECK(sst->status().annotations().at("knode.test/annotation") == "kept");

  // A web server (busybox httpd).
  auto web_cfg = container_config("web", {"httpd", "-f", "-p", "8080", "-h", "/var/www"});
  auto web = rt->CreateContainer(*sb, web_cfg, cfg);
  INFO((web ? std::string() : web.error().message()));
  REQUIRE(web);
  CHECK(rt->ContainerStatus(*web, false)->status().state() == v1::CONTAINER_CREATED);
  REQUIRE(rt->StartContainer(*web));
  auto ws = rt->ContainerStatus(*web, false);
  REQUIRE(ws);
  CHECK(ws->status().state() == v1::CONTAINER_RUNNING);
  CHECK(ws->status().started_at() > 0);
  CHECK(ws->status().image().image().find("busybox") != std::string::npos);
  CHECK(ws->status().image_ref().starts_with("sha256:"));
  CHECK(ws->status().labels().at("io.kubernetes.container.name") == "web");
  CHECK(ws->status().log_path() == cfg.log_directory() + "/web/0.log");

  // Label filters find it, and only it.
  v1::ContainerFilter filter;
  (*filter.mutable_label_selector())["io.kubernetes.pod.uid"] = cfg.metadata().uid();
  auto none = rt->ListContainers(&filter);  // pod labels are not container labels
  REQUIRE(none);
  v1::ContainerFilter by_name;
  by_name.set_pod_sandbox_id(*sb);
  (*by_name.mutable_label_selector())["io.kubernetes.container.name"] = "web";
  auto found = rt->ListContainers(&by_name);
  REQUIRE(found);
  REQUIRE(found->size() == 1);
  CHECK((*found)[0].id() == *web);
  CHECK((*found)[0].state() == v1::CONTAINER_RUNNING);
  v1::PodSandboxFilter sb_filter;
  (*sb_filter.mutable_label_selector())["io.kubernetes.pod.uid"] = cfg.metadata().uid();
  auto sbs = rt->ListPodSandbox(&sb_filter);
  REQUIRE(sbs);
  REQUIRE(sbs->size() == 1);
  CHECK((*sbs)[0].id() == *sb);

  // Exec.
  auto hi = rt->ExecSync(*web, {"echo", "hi"}, 10s);
  REQUIRE(hi);
  CHECK(hi->stdout() == "hi\n");
  CHECK(hi->exit_code() == 0);
  auto three = rt->ExecSync(*web, {"sh", "-c", "echo oops >&2; exit 3"}, 10s);
  REQUIRE(three);
  CHECK(three->exit_code() == 3);
  CHECK(three->stderr() == "oops\n");
  auto env = rt->ExecSync(*web, {"sh", "-c", "echo $KNODE_TEST; hostname"}, 10s);
  REQUIRE(env);
  CHECK(env->stdout() == "1\n" + cfg.metadata().name() + "\n");
  // The server answers inside the pod's network namespace.
  std::string page;
  for (int i = 0; i < 50 && page.empty(); ++i) {
    auto got = rt->ExecSync(*web, {"wget", "-q", "-O", "-", "http://127.0.0.1:8080/"}, 10s);
    REQUIRE(got);
    if (got->exit_code() == 0) page = got->stdout();
    else std::this_thread::sleep_for(100ms);
  }
  CHECK(page == "knode test page\n");
  auto resolv = rt->ExecSync(*web, {"cat", "/etc/resolv.conf"}, 10s);
  REQUIRE(resolv);
  CHECK(resolv->stdout().find("nameserver 10.88.0.1") != std::string::npos);

  // Streaming endpoints come from containerd's stream server on 127.0.0.1.
  v1::ExecRequest ereq;
  ereq.set_container_id(*web);
  ereq.add_cmd("sh");
  ereq.set_stdout(true);
  auto url = rt->Exec(ereq);
  REQUIRE(url);
  CHECK(url->starts_with("http://127.0.0.1:"));
  v1::PortForwardRequest pf;
  pf.set_pod_sandbox_id(*sb);
  pf.add_port(8080);
  auto pf_url = rt->PortForward(pf);
  REQUIRE(pf_url);
  CHECK(pf_url->starts_with("http://127.0.0.1:"));
  CHECK(rt->ReopenContainerLog(*web));

  // Stats.
  auto stats = rt->ContainerStats(*web);
  REQUIRE(stats);
  CHECK(stats->attributes().id() == *web);
  auto all_stats = rt->ListContainerStats(nullptr);
  REQUIRE(all_stats);
  CHECK_FALSE(all_stats->empty());

  // A container that exits on its own, writing to its log.
  auto job = rt->CreateContainer(*sb, container_config("job", {"sh", "-c", "echo hello-log; exit 7"}),
                                 cfg);
  REQUIRE(job);
  REQUIRE(rt->StartContainer(*job));
  auto js = wait_for_state(*rt, *job, v1::CONTAINER_EXITED);
  CHECK(js.state() == v1::CONTAINER_EXITED);
  CHECK(js.exit_code() == 7);
  CHECK(js.reason() == "Error");
  // Note: for a process this quick, containerd 1.6 may report finished_at slightly *before*
  // started_at (the exit event's time vs. the time Start returned); consumers must not assume order.
  CHECK(js.finished_at() > 0);
  CHECK(js.started_at() > 0);
  std::ifstream log_file(cfg.log_directory() + "/job/0.log");
  REQUIRE(log_file.good());
  std::stringstream log_text;
  log_text << log_file.rdbuf();
  // CRI log format: <RFC3339Nano> stdout F hello-log
  CHECK(log_text.str().find(" stdout F hello-log") != std::string::npos);

  // Stop: httpd exits on SIGTERM at once...
  REQUIRE(rt->StopContainer(*web, 10s));
  ws = rt->ContainerStatus(*web, false);
  REQUIRE(ws);
  CHECK(ws->status().state() == v1::CONTAINER_EXITED);
  CHECK(ws->status().exit_code() == 143);
  // ...a process that ignores SIGTERM is killed when the grace period is over.
  auto stubborn = rt->CreateContainer(
      *sb, container_config("stubborn", {"sh", "-c", "trap '' TERM; sleep 3600 & wait"}), cfg);
  REQUIRE(stubborn);
  REQUIRE(rt->StartContainer(*stubborn));
  auto s0 = std::chrono::steady_clock::now();
  REQUIRE(rt->StopContainer(*stubborn, 2s));
  auto stop_took = std::chrono::steady_clock::now() - s0;
  auto ss = rt->ContainerStatus(*stubborn, false);
  REQUIRE(ss);
  CHECK(ss->status().state() == v1::CONTAINER_EXITED);
  CHECK(ss->status().exit_code() == 137);
  CHECK(stop_took >= 1500ms);
  CHECK(stop_took < 10s);
  CHECK(rt->StopContainer(*web, 2s));  // stopping again is fine

  REQUIRE(rt->RemoveContainer(*job));
  CHECK(is_not_found(rt->ContainerStatus(*job, false).error()));
  CHECK(rt->RemoveContainer(*job));  // idempotent

  REQUIRE(rt->StopPodSandbox(*sb));
  CHECK(rt->PodSandboxStatus(*sb, false)->status().state() == v1::SANDBOX_NOTREADY);
  REQUIRE(rt->RemovePodSandbox(*sb));
  guard.id.clear();
  CHECK(is_not_found(rt->PodSandboxStatus(*sb, false).error()));
  v1::ContainerFilter in_sb;
  in_sb.set_pod_sandbox_id(*sb);
  CHECK(rt->ListContainers(&in_sb)->empty());
  CHECK(rt->RemovePodSandbox(*sb));  // idempotent
}

TEST_CASE("cri integration: a stopped sandbox takes its containers down", "[cri][integration]") {
  auto rt = connect();
  TempDir logs;
  auto cfg = pod_config("stop-" + random_hex(6), logs.path);
  auto sb = rt->RunPodSandbox(cfg, "");
  REQUIRE(sb);
  SandboxGuard guard{*rt, *sb};
  auto c = rt->CreateContainer(*sb, container_config("sleeper", {"sleep", "3600"}), cfg);
  REQUIRE(c);
  REQUIRE(rt->StartContainer(*c));
  REQUIRE(rt->StopPodSandbox(*sb));
  auto st = rt->ContainerStatus(*c, false);
  REQUIRE(st);
  CHECK(st->status().state() == v1::CONTAINER_EXITED);
  // No new containers in a stopped sandbox.
  auto late = rt->CreateContainer(*sb, container_config("late", {"sleep", "1"}), cfg);
  CHECK_FALSE(late);
}

TEST_CASE("cri integration: images", "[cri][integration]") {
  auto rt = connect();
  v1::ImageSpec missing;
  missing.set_image("knode.local/does-not-exist:0");
  auto st = rt->ImageStatus(missing, false);
  REQUIRE(st);
  CHECK_FALSE(st->has_image());

  v1::ImageSpec busybox;
  busybox.set_image(kBusybox);
  auto bb = rt->ImageStatus(busybox, false);
  REQUIRE(bb);
  REQUIRE(bb->has_image());
  CHECK(bb->image().id().starts_with("sha256:"));
  CHECK(bb->image().size() > 0);
  auto list = rt->ListImages(nullptr);
  REQUIRE(list);
  bool has_pause = false;
  for (const auto& img : *list) {
    for (const auto& tag : img.repo_tags()) has_pause |= tag == kPause;
  }
  CHECK(has_pause);
  auto fsinfo = rt->ImageFsInfo();
  REQUIRE(fsinfo);
  CHECK(fsinfo->image_filesystems_size() >= 1);

  // A registry that is not there (127.0.0.1:1: nothing leaves the machine) fails fast and says so.
  v1::ImageSpec unreachable;
  unreachable.set_image("127.0.0.1:1/knode/unreachable:1");
  auto t0 = std::chrono::steady_clock::now();
  auto pull = rt->PullImage(unreachable, nullptr, nullptr);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(pull);
  INFO(pull.error().message());
  CHECK(pull.error().message().starts_with(
      "PullImage \"127.0.0.1:1/knode/unreachable:1\": rpc error: code = "));
  CHECK(pull.error().message().find("127.0.0.1:1") != std::string::npos);
  CHECK(took < 30s);
}

TEST_CASE("cri integration: the client reconnects after containerd restarts", "[cri][integration]") {
  // Its own containerd (same bridge, same images), so restarting it disturbs no other test.
  if (geteuid() != 0) {
    WARN("not root: cannot start a containerd of its own to restart");
    return;
  }
  const std::string state = "/run/knode-test/containerd-restart";
  const std::string up = kScripts + "/containerd-up.sh " + state;
  struct Down {
    std::string cmd;
    ~Down() { std::system(cmd.c_str()); }
  } down{kScripts + "/containerd-down.sh " + state + " 2>/dev/null"};
  const std::string sock = run(up);
  auto connected = GrpcRuntime::Connect({.endpoint = "unix://" + sock,
                                         .request_timeout = 60s,
                                         .connect_timeout = 20s,
                                         .reconnect_wait = 10s});
  REQUIRE(connected);
  auto rt = std::move(connected).value();

  TempDir logs;
  auto cfg = pod_config("restart-" + random_hex(6), logs.path);
  auto sb = rt->RunPodSandbox(cfg, "");
  INFO((sb ? std::string() : sb.error().message()));
  REQUIRE(sb);
  SandboxGuard guard{*rt, *sb};

  // Kill containerd hard (its shims and the pod keep running)...
  const std::string pid = run("cat " + state + "/containerd.pid");
  run("kill -KILL " + pid);
  for (int i = 0; i < 100 && fs::exists("/proc/" + pid); ++i) std::this_thread::sleep_for(50ms);
  auto down_call = rt->Version();
  CHECK_FALSE(down_call);
  if (!down_call) CHECK(is_unavailable(down_call.error()));

  // ...start it again: the same client works, and the pod survived.
  run(up + " >/dev/null");
  auto again = rt->Version();
  INFO((again ? std::string() : again.error().message()));
  REQUIRE(again);
  auto st = rt->PodSandboxStatus(*sb, false);
  REQUIRE(st);
  CHECK(st->status().state() == v1::SANDBOX_READY);
}
