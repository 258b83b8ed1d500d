#include <catch2/catch.hpp>

#include "agent/kube/tokenreview.h"

using namespace knode::kube;

TEST_CASE("TokenReview decodes an authenticated service account token", "[kube][tokenreview]") {
  auto tr = decode_token_review_json(R"({
    "kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
    "metadata": {"creationTimestamp": null},
    "spec": {"token": "eyJhbGciOi.x.y", "audiences": ["https://kubernetes.default.svc.cluster.local"]},
    "status": {"authenticated": true,
               "user": {"username": "system:serviceaccount:monitoring:prometheus",
                        "uid": "2f5e0000-0000-4000-8000-000000000010",
                        "groups": ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
                        "extra": {"authentication.kubernetes.io/pod-name": ["prometheus-0"],
                                  "authentication.kubernetes.io/pod-uid": ["0d7e2f4a-0000-4000-8000-000000000007"]}},
               "audiences": ["https://kubernetes.default.svc.cluster.local"]}
  })");
  REQUIRE(tr.ok());
  CHECK(tr->spec.token == "eyJhbGciOi.x.y");
  CHECK(tr->status.authenticated);
  CHECK(tr->status.user.username == "system:serviceaccount:monitoring:prometheus");
  CHECK(tr->status.user.groups.size() == 3);
  CHECK(tr->status.user.extra.at("authentication.kubernetes.io/pod-name") == std::vector<std::string>{"prometheus-0"});
  CHECK(tr->status.error.empty());

  auto again = decode_token_review_json(encode_token_review_json(*tr));
  REQUIRE(again.ok());
  CHECK(*again == *tr);
}

TEST_CASE("TokenReview: a rejected token, and the request the kubelet posts", "[kube][tokenreview]") {
  auto denied = decode_token_review_json(R"({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
    "metadata": {}, "spec": {"token": "bad"}, "status": {"user": {}, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"}})");
  REQUIRE(denied.ok());
  CHECK_FALSE(denied->status.authenticated);
  CHECK(denied->status.error.find("invalid bearer token") != std::string::npos);

  TokenReview req;
  req.spec.token = "abc";
  CHECK(encode_token_review_json(req) ==
        R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"abc"}})");
}

TEST_CASE("TokenReview decode errors name the field", "[kube][tokenreview]") {
  auto bad = decode_token_review_json(R"({"status": {"authenticated": "yes"}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "tokenreview: status.authenticated: expected boolean, got \"yes\"");
  auto grp = decode_token_review_json(R"({"metadata": {"name": "r"}, "status": {"user": {"groups": "system:masters"}}})");
  REQUIRE_FALSE(grp.ok());
  CHECK(grp.error().message() == "tokenreview \"r\": status.user.groups: expected array, got \"system:masters\"");
  auto kind = decode_token_review_json(R"({"apiVersion": "authentication.k8s.io/v1beta1", "kind": "TokenReview"})");
  REQUIRE_FALSE(kind.ok());
  CHECK(kind.error().message() ==
        "tokenreview: apiVersion: expected \"authentication.k8s.io/v1\", got \"authentication.k8s.io/v1beta1\"");
}
