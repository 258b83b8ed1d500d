// GrpcRuntime against an in-process CRI server on a unix socket: what goes on the wire, how
// errors read, deadlines, and reconnecting after the server restarts. No root, no containerd.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "api.grpc.pb.h"
#include "cri/errors.h"
#include "cri/grpc_runtime.h"
#include "cri/types.h"

using namespace knode;
using namespace knode::cri;
using namespace std::chrono_literals;

namespace {

class ScriptedRuntime final : public v1::RuntimeService::Service {
 public:
  std::string api_version = "v1";
  std::atomic<int> version_calls{0};
  std::mutex mu;
  v1::ListPodSandboxRequest last_list;
  v1::RunPodSandboxRequest last_run;

  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest* req,
                       v1::VersionResponse* resp) override {
    ++version_calls;
    resp->set_version("0.1.0");
    resp->set_runtime_name("scripted");
    resp->set_runtime_version("1.0");
    resp->set_runtime_api_version(api_version);
    return grpc::Status::OK;
  }
  grpc::Status RunPodSandbox(grpc::ServerContext*, const v1::RunPodSandboxRequest* req,
                             v1::RunPodSandboxResponse* resp) override {
    std::lock_guard lock(mu);
    last_run = *req;
    if (req->config().metadata().name() == "broken") {
      return {grpc::StatusCode::UNKNOWN, "failed to setup network for sandbox: plugin failed"};
    }
    resp->set_pod_sandbox_id("sb-" + req->config().metadata().name());
    return grpc::Status::OK;
  }
  grpc::Status StartContainer(grpc::ServerContext* ctx, const v1::StartContainerRequest* req,
                              v1::StartContainerResponse*) override {
    // "slow" never answers in time.
    if (req->container_id() == "slow") {
      for (int i = 0; i < 100 && !ctx->IsCancelled(); ++i) std::this_thread::sleep_for(20ms);
    }
    return grpc::Status::OK;
  }
  grpc::Status ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest* req,
                               v1::ContainerStatusResponse* resp) override {
    if (req->container_id() == "gone") {
      return {grpc::StatusCode::NOT_FOUND, "an error occurred when try to find container \"gone\": not found"};
    }
    auto* s = resp->mutable_status();
    s->set_id(req->container_id());
    s->set_state(v1::CONTAINER_EXITED);
    s->set_exit_code(3);
    return grpc::Status::OK;
  }
  grpc::Status ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest* req,
                              v1::ListPodSandboxResponse* resp) override {
    {
      std::lock_guard lock(mu);
      last_list = *req;
    }
    for (int i = 0; i < 3; ++i) resp->add_items()->set_id("sb" + std::to_string(i));
    return grpc::Status::OK;
  }
  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                        v1::ExecSyncResponse* resp) override {
    std::string out;
    for (const auto& a : req->cmd()) out += a + " ";
    resp->set_stdout(out);
    resp->set_exit_code(static_cast<int>(req->timeout()));
    return grpc::Status::OK;
  }
};

class ScriptedImages final : public v1::ImageService::Service {
 public:
  grpc::Status ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest* req,
                           v1::ImageStatusResponse* resp) override {
    if (req->image().image() == "present") resp->mutable_image()->set_id("sha256:1");
    return grpc::Status::OK;
  }
  grpc::Status PullImage(grpc::ServerContext*, const v1::PullImageRequest* req,
                         v1::PullImageResponse*) override {
    return {grpc::StatusCode::UNKNOWN, "failed to pull and unpack image \"" + req->image().image() +
                                           "\": dial tcp 127.0.0.1:1: connect: connection refused"};
  }
};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/knode-cri-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

struct Server {
  ScriptedRuntime runtime;
  ScriptedImages images;
  std::unique_ptr<grpc::Server> server;
  Server(const std::string& socket, bool with_runtime = true) {
    grpc::ServerBuilder b;
    b.AddListeningPort("unix://" + socket, grpc::InsecureServerCredentials());
    if (with_runtime) b.RegisterService(&runtime);
    b.RegisterService(&images);
    server = b.BuildAndStart();
    REQUIRE(server != nullptr);
  }
  ~Server() { stop(); }
  void stop() {
    if (server) server->Shutdown(std::chrono::system_clock::now() + 1s);
    server.reset();
  }
};

GrpcRuntimeOptions options_for(const std::string& socket) {
  return {.endpoint = "unix://" + socket,
          .request_timeout = 2s,
          .connect_timeout = 2s,
          .reconnect_wait = 3s};
}

std::unique_ptr<GrpcRuntime> connect(const GrpcRuntimeOptions& opts) {
  auto rt = GrpcRuntime::Connect(opts);
  INFO((rt ? std::string() : rt.error().message()));
  REQUIRE(rt);
  return std::move(rt).value();
}

v1::PodSandboxConfig pod(const std::string& name) {
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_namespace_("default");
  c.mutable_metadata()->set_uid("u");
  return c;
}

}  // namespace

TEST_CASE("grpc client: connect checks Version", "[cri][grpc]") {
  TempDir dir;
  const std::string sock = dir.path / "cri.sock";
  Server server(sock);
  auto rt = GrpcRuntime::Connect(options_for(sock));
  REQUIRE(rt);
  CHECK((*rt)->runtime_name() == "scripted");
  CHECK((*rt)->runtime_api_version() == "v1");
  // Bare paths work too.
  auto bare = GrpcRuntime::Connect({.endpoint = sock, .connect_timeout = 2s});
  REQUIRE(bare);
  CHECK((*bare)->Version()->runtime_version() == "1.0");
}

TEST_CASE("grpc client: connect refuses what is not a CRI v1 runtime", "[cri][grpc]") {
  TempDir dir;
  const std::string sock = dir.path / "cri.sock";
  SECTION("no socket") {
    auto opts = options_for(sock);
    opts.connect_timeout = 200ms;
    auto t0 = std::chrono::steady_clock::now();
    auto rt = GrpcRuntime::Connect(opts);
    REQUIRE_FALSE(rt);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK(rt.error().message().starts_with("connecting to the container runtime at unix://"));
    CHECK(code_of(rt.error()) == Code::DeadlineExceeded);
  }
  SECTION("no runtime.v1 service") {
    Server server(sock, /*with_runtime=*/false);
    auto rt = GrpcRuntime::Connect(options_for(sock));
    REQUIRE_FALSE(rt);
    CHECK(rt.error().message().find("does not serve CRI v1") != std::string::npos);
    CHECK(code_of(rt.error()) == Code::Unimplemented);
  }
  SECTION("another API version") {
    Server server(sock);
    server.runtime.api_version = "v1alpha2";
    auto rt = GrpcRuntime::Connect(options_for(sock));
    REQUIRE_FALSE(rt);
    CHECK(rt.error().message().find("\"v1alpha2\"") != std::string::npos);
  }
}

TEST_CASE("grpc client: requests, responses and errors", "[cri][grpc]") {
  TempDir dir;
  const std::string sock = dir.path / "cri.sock";
  Server server(sock);
  auto rt = connect(options_for(sock));

  auto id = rt->RunPodSandbox(pod("web"), "runc");
  REQUIRE(id);
  CHECK(*id == "sb-web");
  CHECK(server.runtime.last_run.runtime_handler() == "runc");
  CHECK(server.runtime.last_run.config().metadata().namespace_() == "default");

  auto broken = rt->RunPodSandbox(pod("broken"), "");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message() ==
        "RunPodSandbox for pod \"default/broken\": rpc error: code = Unknown desc = failed to "
        "setup network for sandbox: plugin failed");

  auto gone = rt->ContainerStatus("gone", false);
  REQUIRE_FALSE(gone);
  CHECK(is_not_found(gone.error()));
  CHECK(gone.error().message().starts_with("ContainerStatus \"gone\": rpc error: code = NotFound"));
  auto st = rt->ContainerStatus("c1", false);
  REQUIRE(st);
  CHECK(st->status().exit_code() == 3);

  v1::PodSandboxFilter f;
  (*f.mutable_label_selector())["app"] = "web";
  auto list = rt->ListPodSandbox(&f);
  REQUIRE(list);
  CHECK(list->size() == 3);
  CHECK(server.runtime.last_list.filter().label_selector().at("app") == "web");
  REQUIRE(rt->ListPodSandbox(nullptr));
  CHECK_FALSE(server.runtime.last_list.has_filter());

  auto exec = rt->ExecSync("c1", {"echo", "hi"}, 7s);
  REQUIRE(exec);
  CHECK(exec->stdout() == "echo hi ");
  CHECK(exec->exit_code() == 7);  // the server echoes the timeout it was sent

  // Methods the server does not implement report Unimplemented with context.
  auto stats = rt->ContainerStats("c1");
  REQUIRE_FALSE(stats);
  CHECK(stats.error().message().starts_with("ContainerStats \"c1\": rpc error: code = Unimplemented"));

  v1::ImageSpec missing;
  missing.set_image("absent");
  auto img = rt->ImageStatus(missing, false);
  REQUIRE(img);
  CHECK_FALSE(img->has_image());
  v1::ImageSpec present;
  present.set_image("present");
  CHECK(rt->ImageStatus(present, false)->image().id() == "sha256:1");
  v1::ImageSpec unreachable;
  unreachable.set_image("127.0.0.1:1/x:1");
  auto pull = rt->PullImage(unreachable, nullptr, nullptr);
  REQUIRE_FALSE(pull);
  CHECK(pull.error().message().starts_with("PullImage \"127.0.0.1:1/x:1\": rpc error: code = Unknown"));
}

TEST_CASE("grpc client: every call has a deadline", "[cri][grpc]") {
  TempDir dir;
  const std::string sock = dir.path / "cri.sock";
  Server server(sock);
  auto opts = options_for(sock);
  opts.request_timeout = 300ms;
  auto rt = connect(opts);
  auto t0 = std::chrono::steady_clock::now();
  auto r = rt->StartContainer("slow");
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(is_deadline_exceeded(r.error()));
  CHECK(took >= 250ms);
  CHECK(took < 1500ms);
  CHECK(rt->StartContainer("fast"));
}

TEST_CASE("grpc client: reconnects after the runtime restarts", "[cri][grpc]") {
  TempDir dir;
  const std::string sock = dir.path / "cri.sock";
  auto server = std::make_unique<Server>(sock);
  auto opts = options_for(sock);
  opts.reconnect_wait = 500ms;
  auto rt = connect(opts);
  REQUIRE(rt->Version());

  server->stop();
  std::filesystem::remove(sock);
  // Down: the call fails as Unavailable after waiting at most reconnect_wait.
  auto t0 = std::chrono::steady_clock::now();
  auto down = rt->Version();
  REQUIRE_FALSE(down);
  CHECK(is_unavailable(down.error()));
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);

  // Back: the same client works again (a restart between calls, like containerd's).
  server = std::make_unique<Server>(sock);
  std::this_thread::sleep_for(100ms);
  auto up = rt->Version();
  INFO((up ? std::string("ok") : up.error().message()));
  REQUIRE(up);

  // Restart while the client is idle, then call at once: the one retry covers the gap.
  server->stop();
  std::filesystem::remove(sock);
  std::thread restarter([&] {
    std::this_thread::sleep_for(200ms);
    server = std::make_unique<Server>(sock);
  });
  auto during = [&] {
    std::this_thread::sleep_for(50ms);
    return rt->Version();
  }();
  restarter.join();
  INFO((during ? std::string("ok") : during.error().message()));
  CHECK(during);
}

TEST_CASE("grpc client: one client serves concurrent workers", "[cri][grpc]") {
  TempDir dir;
  const std::string sock = dir.path / "cri.sock";
  Server server(sock);
  auto rt = connect(options_for(sock));
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        if (rt->RunPodSandbox(pod("p" + std::to_string(w)), "") && rt->ListPodSandbox(nullptr)) ++ok;
      }
    });
  }
  for (auto& t : workers) t.join();
  CHECK(ok == 400);
}
