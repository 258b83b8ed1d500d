#include <catch2/catch.hpp>

#include "agent/kube/lease.h"

using namespace knode::kube;

TEST_CASE("Lease decodes a node lease as the API server returns it", "[kube][lease]") {
  auto l = decode_lease_json(R"({
    "kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
    "metadata": {"name": "node1", "namespace": "kube-node-lease", "uid": "5b0d2c1e-1f7a-4b8e-9d43-0a7c2f4c1a11",
                 "resourceVersion": "1234", "creationTimestamp": "2024-05-01T10:00:00Z",
                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "node1",
                                      "uid": "8c1d2e3f-0000-4000-8000-000000000001"}],
                 "managedFields": [{"manager": "kubelet", "operation": "Update", "apiVersion": "coordination.k8s.io/v1"}]},
    "spec": {"holderIdentity": "node1", "leaseDurationSeconds": 40,
             "acquireTime": "2024-05-01T10:00:00.000000Z", "renewTime": "2024-05-01T10:05:10.123456Z",
             "leaseTransitions": 2}
  })");
  REQUIRE(l.ok());
  CHECK(l->metadata.namespace_ == kNodeLeaseNamespace);
  CHECK(l->metadata.owner_references[0].kind == "Node");
  CHECK(l->spec.holder_identity == "node1");
  CHECK(l->spec.lease_duration_seconds == 40);
  CHECK(l->spec.acquire_time == "2024-05-01T10:00:00.000000Z");
  CHECK(l->spec.renew_time == "2024-05-01T10:05:10.123456Z");
  CHECK(l->spec.lease_transitions == 2);
  CHECK_FALSE(l->spec.strategy.has_value());

  auto again = decode_lease_json(encode_lease_json(*l));
  REQUIRE(again.ok());
  CHECK(*again == *l);
}

TEST_CASE("Lease encode sets apiVersion and kind and omits unset fields", "[kube][lease]") {
  Lease l;
  l.metadata.name = "node1";
  l.metadata.namespace_ = "kube-node-lease";
  l.spec.holder_identity = "node1";
  l.spec.lease_duration_seconds = 40;
  l.spec.renew_time = "2024-05-01T10:05:10.123456Z";
  CHECK(encode_lease_json(l) ==
        R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node1","namespace":"kube-node-lease"},)"
        R"("spec":{"holderIdentity":"node1","leaseDurationSeconds":40,"renewTime":"2024-05-01T10:05:10.123456Z"}})");
  // A zero transition count is still said (it is a pointer upstream).
  l.spec.lease_transitions = 0;
  CHECK(encode_lease_json(l).find(R"("leaseTransitions":0)") != std::string::npos);
  // Coordinated leader election fields.
  l.spec.strategy = "OldestEmulationVersion";
  l.spec.preferred_holder = "node2";
  auto again = decode_lease_json(encode_lease_json(l));
  REQUIRE(again.ok());
  CHECK(again->spec.strategy == "OldestEmulationVersion");
  CHECK(again->spec.preferred_holder == "node2");
}

TEST_CASE("Lease decode errors name the object and the field", "[kube][lease]") {
  auto bad = decode_lease_json(R"({"metadata": {"name": "node1", "namespace": "kube-node-lease"},
                                   "spec": {"leaseDurationSeconds": "40"}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() ==
        "lease \"kube-node-lease/node1\": spec.leaseDurationSeconds: expected integer, got \"40\"");
  auto av = decode_lease_json(R"({"apiVersion": "coordination.k8s.io/v1beta2", "kind": "Lease", "metadata": {"name": "x"}})");
  REQUIRE_FALSE(av.ok());
  CHECK(av.error().message().find("apiVersion") != std::string::npos);
  auto notjson = decode_lease_json("{");
  REQUIRE_FALSE(notjson.ok());
  CHECK(notjson.error().message().rfind("lease: ", 0) == 0);
}
