// Helpers shared by the kubelet unit tests: pods from YAML, a settable clock.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>

#include "agent/kube/pod.h"

namespace knode::kubelet::testing {

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
