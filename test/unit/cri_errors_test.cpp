#include <catch2/catch.hpp>

#include "cri/errors.h"
#include "cri/grpc_runtime.h"

using namespace knode;
using namespace knode::cri;

TEST_CASE("runtime errors read like the kubelet's", "[cri][errors]") {
  Error e = rpc_error(for_pod("RunPodSandbox", "default", "web"), Code::Unknown,
                      "failed to setup network for sandbox");
  CHECK(e.message() ==
        "RunPodSandbox for pod \"default/web\": rpc error: code = Unknown desc = failed to setup "
        "network for sandbox");
  CHECK(rpc_error(on("StopContainer", "abc"), Code::DeadlineExceeded, "Deadline Exceeded").message() ==
        "StopContainer \"abc\": rpc error: code = DeadlineExceeded desc = Deadline Exceeded");
  CHECK(rpc_error("", Code::NotFound, "gone").message() == "rpc error: code = NotFound desc = gone");
}

TEST_CASE("the code survives wrapping and quoted inner errors", "[cri][errors]") {
  Error e = rpc_error(on("ContainerStatus", "abc"), Code::NotFound,
                      "an error occurred: rpc error: code = Unknown desc = inner");
  CHECK(code_of(e) == Code::NotFound);
  CHECK(is_not_found(e));
  CHECK(code_of(e.wrap("syncing pod \"a/b\"")) == Code::NotFound);
  CHECK(code_of(Error("no rpc here")) == Code::Unknown);
  CHECK(is_unavailable(rpc_error("x", Code::Unavailable, "connection refused")));
  CHECK(is_deadline_exceeded(rpc_error("x", Code::DeadlineExceeded, "late")));
  for (int i = 0; i <= 16; ++i) {
    INFO(i);
    CHECK(code_of(rpc_error("op", static_cast<Code>(i), "m")) == static_cast<Code>(i));
  }
}

TEST_CASE("code names follow gRPC's", "[cri][errors]") {
  CHECK(code_name(Code::Ok) == "OK");
  CHECK(code_name(Code::FailedPrecondition) == "FailedPrecondition");
  CHECK(code_name(Code::Unauthenticated) == "Unauthenticated");
  CHECK(code_name(static_cast<Code>(42)) == "Code(42)");
}

TEST_CASE("CRI endpoints name a unix socket", "[cri][errors]") {
  CHECK(*socket_path_from_endpoint("unix:///run/containerd/containerd.sock") ==
        "/run/containerd/containerd.sock");
  CHECK(*socket_path_from_endpoint("/run/knode-test/containerd.sock") ==
        "/run/knode-test/containerd.sock");
  auto tcp = socket_path_from_endpoint("tcp://127.0.0.1:1234");
  REQUIRE_FALSE(tcp);
  CHECK(tcp.error().message().find("only unix://") != std::string::npos);
  CHECK_FALSE(socket_path_from_endpoint("unix://relative.sock"));
  CHECK_FALSE(socket_path_from_endpoint(""));
}
