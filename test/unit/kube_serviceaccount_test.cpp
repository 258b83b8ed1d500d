#include <catch2/catch.hpp>

#include "agent/kube/serviceaccount.h"

using namespace knode::kube;

TEST_CASE("ServiceAccount decodes secrets, pull secrets and automount", "[kube][serviceaccount]") {
  auto sa = decode_service_account_json(R"({
    "kind": "ServiceAccount", "apiVersion": "v1",
    "metadata": {"name": "builder", "namespace": "ci", "uid": "77aa0000-0000-4000-8000-000000000001",
                 "resourceVersion": "900", "creationTimestamp": "2024-05-01T09:00:00Z"},
    "secrets": [{"name": "builder-token-x7k2p"}, {"kind": "Secret", "namespace": "ci", "name": "extra"}],
    "imagePullSecrets": [{"name": "regcred"}],
    "automountServiceAccountToken": false
  })");
  REQUIRE(sa.ok());
  REQUIRE(sa->secrets.size() == 2);
  CHECK(sa->secrets[0].name == "builder-token-x7k2p");
  CHECK(sa->secrets[1].kind == "Secret");
  REQUIRE(sa->image_pull_secrets.size() == 1);
  CHECK(sa->image_pull_secrets[0].name == "regcred");
  CHECK(sa->automount_service_account_token == false);

  auto again = decode_service_account_json(encode_service_account_json(*sa));
  REQUIRE(again.ok());
  CHECK(*again == *sa);
}

TEST_CASE("ServiceAccount encode sets apiVersion and kind", "[kube][serviceaccount]") {
  ServiceAccount sa;
  sa.metadata.name = "default";
  sa.metadata.namespace_ = "ns";
  CHECK(encode_service_account_json(sa) ==
        R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"ns"}})");
  sa.image_pull_secrets.push_back({.name = "r"});
  sa.automount_service_account_token = true;
  CHECK(encode_service_account_json(sa) ==
        R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"ns"},)"
        R"("imagePullSecrets":[{"name":"r"}],"automountServiceAccountToken":true})");
}

TEST_CASE("ServiceAccount decode errors name the object and the field", "[kube][serviceaccount]") {
  auto bad = decode_service_account_json(R"({"metadata": {"name": "default", "namespace": "ns"},
                                             "imagePullSecrets": ["regcred"]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "serviceaccount \"ns/default\": imagePullSecrets[0]: expected object, got \"regcred\"");
  auto am = decode_service_account_json(R"({"metadata": {"name": "default", "namespace": "ns"},
                                            "automountServiceAccountToken": "no"})");
  REQUIRE_FALSE(am.ok());
  CHECK(am.error().message() == "serviceaccount \"ns/default\": automountServiceAccountToken: expected boolean, got \"no\"");
}
