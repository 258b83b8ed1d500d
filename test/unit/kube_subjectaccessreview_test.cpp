#include <catch2/catch.hpp>

#include "agent/kube/subjectaccessreview.h"

using namespace knode::kube;

TEST_CASE("SubjectAccessReview decodes a resource review answered by the API server", "[kube][subjectaccessreview]") {
  auto sar = decode_subject_access_review_json(R"({
    "kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
    "metadata": {"creationTimestamp": null},
    "spec": {"resourceAttributes": {"verb": "get", "version": "v1", "resource": "nodes", "subresource": "metrics",
                                    "name": "node1"},
             "user": "system:serviceaccount:monitoring:prometheus",
             "groups": ["system:serviceaccounts", "system:authenticated"],
             "extra": {"authentication.kubernetes.io/pod-name": ["prometheus-0"]},
             "uid": "2f5e0000-0000-4000-8000-000000000010"},
    "status": {"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding \"prometheus\" of ClusterRole \"prometheus\" to ServiceAccount \"prometheus/monitoring\""}
  })");
  REQUIRE(sar.ok());
  REQUIRE(sar->spec.resource_attributes);
  CHECK(sar->spec.resource_attributes->resource == "nodes");
  CHECK(sar->spec.resource_attributes->subresource == "metrics");
  CHECK(sar->spec.resource_attributes->name == "node1");
  CHECK_FALSE(sar->spec.non_resource_attributes.has_value());
  CHECK(sar->spec.user == "system:serviceaccount:monitoring:prometheus");
  CHECK(sar->spec.extra.at("authentication.kubernetes.io/pod-name")[0] == "prometheus-0");
  CHECK(sar->status.allowed);
  CHECK_FALSE(sar->status.denied);
  CHECK(sar->status.reason.find("RBAC") == 0);

  auto again = decode_subject_access_review_json(encode_subject_access_review_json(*sar));
  REQUIRE(again.ok());
  CHECK(*again == *sar);
}

TEST_CASE("SubjectAccessReview: a non-resource request, denied, and the encoded request", "[kube][subjectaccessreview]") {
  auto sar = decode_subject_access_review_json(R"({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
    "metadata": {}, "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}, "user": "anonymous"},
    "status": {"allowed": false, "denied": true, "evaluationError": "webhook: timeout"}})");
  REQUIRE(sar.ok());
  CHECK(sar->spec.non_resource_attributes->path == "/healthz");
  CHECK_FALSE(sar->status.allowed);
  CHECK(sar->status.denied);
  CHECK(sar->status.evaluation_error == "webhook: timeout");

  SubjectAccessReview req;
  req.spec.resource_attributes = ResourceAttributes{.verb = "get", .resource = "nodes", .subresource = "proxy", .name = "node1"};
  req.spec.user = "alice";
  req.spec.groups = {"system:authenticated"};
  // status.allowed is always written, as upstream does.
  CHECK(encode_subject_access_review_json(req) ==
        R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
        R"("spec":{"resourceAttributes":{"verb":"get","resource":"nodes","subresource":"proxy","name":"node1"},)"
        R"("user":"alice","groups":["system:authenticated"]},"status":{"allowed":false}})");
}

TEST_CASE("SubjectAccessReview decode errors name the field", "[kube][subjectaccessreview]") {
  auto bad = decode_subject_access_review_json(R"({"status": {"allowed": "true"}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "subjectaccessreview: status.allowed: expected boolean, got \"true\"");
  auto attr = decode_subject_access_review_json(
      R"({"metadata": {"name": "r"}, "spec": {"resourceAttributes": {"namespace": ["a"]}}})");
  REQUIRE_FALSE(attr.ok());
  CHECK(attr.error().message() == "subjectaccessreview \"r\": spec.resourceAttributes.namespace: expected string, got array");
}
