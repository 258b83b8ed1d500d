// Helpers shared by the kubelet unit tests: pods from YAML, a settable clock.
#pragma once

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "agent/kube/pod.h"

namespace knode::kubelet::testing {

// A listening TCP socket on 127.0.0.1 on a port the kernel picks (stored in *port).
inline int listen_loopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  REQUIRE(listen(fd, 16) == 0);
  return fd;
}

inline kube::Pod pod_from_yaml(const std::string& yaml, const std::string& uid = "uid-1") {
  auto p = kube::decode_pod(yaml);
  REQUIRE(p.ok());
  kube::Pod pod = *p;
  kube::apply_defaults(pod);
  if (pod.metadata.uid.empty()) pod.metadata.uid = uid;
  if (pod.metadata.namespace_.empty()) pod.metadata.namespace_ = "default";
  return pod;
}

inline const char* kWebPod = R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
    command: [httpd, -f, -p, "80"]
)";

struct FakeClock {
  std::atomic<int64_t> ns{1'800'000'000LL * 1'000'000'000LL};
  int64_t operator()() const { return ns.load(); }
  void advance_s(int64_t s) { ns += s * 1'000'000'000LL; }
};

}  // namespace knode::kubelet::testing
