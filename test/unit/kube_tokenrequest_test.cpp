#include <catch2/catch.hpp>

#include "agent/kube/tokenrequest.h"

using namespace knode::kube;

TEST_CASE("TokenRequest decodes the API server's answer", "[kube][tokenrequest]") {
  auto tr = decode_token_request_json(R"({
    "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
    "metadata": {"name": "default", "namespace": "apps", "creationTimestamp": null},
    "spec": {"audiences": ["https://kubernetes.default.svc.cluster.local"], "expirationSeconds": 3607,
             "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web-0",
                                "uid": "0d7e2f4a-0000-4000-8000-000000000007"}},
    "status": {"token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln",
               "expirationTimestamp": "2024-05-01T11:00:07Z"}
  })");
  REQUIRE(tr.ok());
  CHECK(tr->metadata.creation_timestamp.empty());
  CHECK(tr->spec.audiences == std::vector<std::string>{"https://kubernetes.default.svc.cluster.local"});
  CHECK(tr->spec.expiration_seconds == 3607);
  REQUIRE(tr->spec.bound_object_ref);
  CHECK(tr->spec.bound_object_ref->kind == "Pod");
  CHECK(tr->spec.bound_object_ref->name == "web-0");
  CHECK(tr->status.token.rfind("eyJ", 0) == 0);
  CHECK(tr->status.expiration_timestamp == "2024-05-01T11:00:07Z");

  auto again = decode_token_request_json(encode_token_request_json(*tr));
  REQUIRE(again.ok());
  CHECK(*again == *tr);
}

TEST_CASE("TokenRequest encode: what the kubelet posts for a projected token", "[kube][tokenrequest]") {
  TokenRequest tr;
  tr.spec.audiences = {"vault"};
  tr.spec.expiration_seconds = 600;
  tr.spec.bound_object_ref = BoundObjectReference{.kind = "Pod", .api_version = "v1", .name = "web-0", .uid = "u1"};
  // No expirationTimestamp is written while it is unknown: "" is not a valid time.
  CHECK(encode_token_request_json(tr) ==
        R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",)"
        R"("spec":{"audiences":["vault"],"expirationSeconds":600,)"
        R"("boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0","uid":"u1"}},"status":{"token":""}})");
  // Audiences are always written (the API server defaults an empty list to its own audiences).
  TokenRequest empty;
  CHECK(encode_token_request_json(empty).find(R"("spec":{"audiences":[]})") != std::string::npos);
}

TEST_CASE("TokenRequest decode errors name the object and the field", "[kube][tokenrequest]") {
  auto bad = decode_token_request_json(R"({"metadata": {"name": "default", "namespace": "apps"},
                                           "spec": {"expirationSeconds": "1h"}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "tokenrequest \"apps/default\": spec.expirationSeconds: expected integer, got \"1h\"");
  auto ref = decode_token_request_json(R"({"metadata": {"name": "default", "namespace": "apps"},
                                           "spec": {"boundObjectRef": {"uid": 7}}})");
  REQUIRE_FALSE(ref.ok());
  CHECK(ref.error().message() == "tokenrequest \"apps/default\": spec.boundObjectRef.uid: expected string, got 7");
}
