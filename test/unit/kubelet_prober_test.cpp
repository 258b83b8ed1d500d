#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent/kubelet/prober.h"
#include "cri/fake_runtime.h"
#include "cri/types.h"
#include "kubelet_test_util.h"

using namespace knode;
using namespace knode::kubelet;

namespace {

// A one-shot-per-connection HTTP server on 127.0.0.1 answering with a fixed status line.
struct TinyServer {
  int fd = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::string status_line;
  std::thread t;
  explicit TinyServer(std::string status) : status_line(std::move(status)) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    listen(fd, 8);
    t = std::thread([this] {
      for (;;) {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0 || stop) { if (c >= 0) close(c); return; }
        char buf[2048];
        (void)!read(c, buf, sizeof buf);
        std::string resp = status_line + "\r\nContent-Length: 0\r\n\r\n";
        (void)!write(c, resp.data(), resp.size());
        close(c);
      }
    });
  }
  ~TinyServer() {
    stop = true;
    shutdown(fd, SHUT_RDWR);
    close(fd);
    t.join();
  }
};

}  // namespace

TEST_CASE("prober: httpGet success and failure by status code", "[kubelet][probe]") {
  TinyServer ok("HTTP/1.1 200 OK");
  CHECK(run_http_probe("127.0.0.1", ok.port, "/healthz", {}, std::chrono::seconds(1)).success);
  TinyServer bad("HTTP/1.1 503 Service Unavailable");
  auto r = run_http_probe("127.0.0.1", bad.port, "/", {}, std::chrono::seconds(1));
  CHECK_FALSE(r.success);
  CHECK(r.message == "HTTP probe failed with statuscode: 503");
}

TEST_CASE("prober: tcpSocket connects or fails", "[kubelet][probe]") {
  TinyServer s("HTTP/1.1 200 OK");
  CHECK(run_tcp_probe("127.0.0.1", s.port, std::chrono::seconds(1)).success);
  int closed_port = s.port;
  {
    TinyServer other("HTTP/1.1 200 OK");
    closed_port = other.port;
  }
  CHECK_FALSE(run_tcp_probe("127.0.0.1", closed_port, std::chrono::seconds(1)).success);
}

TEST_CASE("prober: named ports resolve from the container", "[kubelet][probe]") {
  kube::Container c;
  c.ports.push_back({.name = "http", .container_port = 8080});
  CHECK(resolve_port(kube::IntOrString::of("http"), c) == 8080);
  CHECK(resolve_port(kube::IntOrString::of(81), c) == 81);
}

TEST_CASE("prober: exec readiness turns the container ready; liveness failure is reported", "[kubelet][probe]") {
  cri::FakeRuntime rt;
  std::atomic<int> exit_code{0};
  rt.set_exec_handler([&](const std::string&, const std::vector<std::string>&) {
    cri::v1::ExecSyncResponse r;
    r.set_exit_code(exit_code);
    return r;
  });
  std::atomic<int> changes{0};
  ProbeManager pm(rt, [&](const std::string&) { ++changes; }, 1);
  pm.start();
  auto pod = testing::pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: img
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1, initialDelaySeconds: 1}
    livenessProbe: {exec: {command: ["true"]}, periodSeconds: 1, failureThreshold: 1}
)");
  // A real (fake) running container for ExecSync.
  rt.add_image("img");
  cri::v1::PodSandboxConfig sbc;
  sbc.mutable_metadata()->set_name("p");
  sbc.mutable_metadata()->set_uid("uid-1");
  sbc.mutable_metadata()->set_namespace_("default");
  auto sb = rt.RunPodSandbox(sbc, "");
  REQUIRE(sb.ok());
  cri::v1::ContainerConfig cc;
  cc.mutable_metadata()->set_name("app");
  cc.mutable_image()->set_image("img");
  auto cid = rt.CreateContainer(*sb, cc, sbc);
  REQUIRE(cid.ok());
  REQUIRE(rt.StartContainer(*cid).ok());
  PodRuntimeStatus rs;
  rs.sandboxes.push_back({.id = *sb, .ready = true, .ip = "10.88.0.9"});
  rs.containers.push_back({.id = *cid, .name = "app", .state = ContainerState::Running});
  pm.update(pod, rs);
  StatusInputs si;
  ActionInputs ai;
  pm.results(pod.metadata.uid, si, ai);
  CHECK(si.ready.at("app") == false);  // readiness starts false
  CHECK(ai.liveness_failed.empty());   // liveness starts true
  for (int i = 0; i < 80 && changes == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  si = {};
  pm.results(pod.metadata.uid, si, ai);
  CHECK(si.ready.at("app") == true);
  exit_code = 1;
  for (int i = 0; i < 60; ++i) {
    ai = {};
    pm.results(pod.metadata.uid, si, ai);
    if (!ai.liveness_failed.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(ai.liveness_failed.count("app") == 1);
  pm.remove(pod.metadata.uid);
  ai = {};
  si = {};
  pm.results(pod.metadata.uid, si, ai);
  CHECK(si.ready.empty());
  pm.stop();
}
