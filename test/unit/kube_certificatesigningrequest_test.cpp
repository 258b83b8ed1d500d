#include <catch2/catch.hpp>

#include "agent/kube/certificatesigningrequest.h"

using namespace knode::kube;

namespace {
const std::string kPemRequest =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIH7MIGiAgEAMEAxFTATBgNVBAoTDHN5c3RlbTpub2Rlcw==\n-----END CERTIFICATE REQUEST-----\n";
const std::string kPemCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
}  // namespace

TEST_CASE("CertificateSigningRequest decodes an approved kubelet client CSR", "[kube][csr]") {
  std::string json = R"({
    "kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
    "metadata": {"name": "csr-8xk2p", "generateName": "csr-", "uid": "4d3c2b1a-0000-4000-8000-000000000042",
                 "resourceVersion": "5210", "creationTimestamp": "2024-05-01T10:00:00Z"},
    "spec": {"request": ")" + base64_encode(kPemRequest) + R"(",
             "signerName": "kubernetes.io/kube-apiserver-client-kubelet", "expirationSeconds": 86400,
             "usages": ["digital signature", "client auth"],
             "username": "system:bootstrap:abcdef", "uid": "",
             "groups": ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"],
             "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=ab12"]}},
    "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved",
                               "message": "Auto approving kubelet client certificate after SubjectAccessReview.",
                               "lastUpdateTime": "2024-05-01T10:00:00Z", "lastTransitionTime": "2024-05-01T10:00:00Z"}],
               "certificate": ")" + base64_encode(kPemCert) + R"("}
  })";
  auto csr = decode_certificate_signing_request_json(json);
  REQUIRE(csr.ok());
  CHECK(csr->spec.request.data == kPemRequest);
  CHECK(csr->spec.signer_name == kKubeAPIServerClientKubeletSigner);
  CHECK(csr->spec.expiration_seconds == 86400);
  CHECK(csr->spec.usages == std::vector<std::string>{"digital signature", "client auth"});
  CHECK(csr->spec.groups.size() == 3);
  CHECK(csr->spec.extra.at("authentication.kubernetes.io/credential-id")[0] == "X509SHA256=ab12");
  REQUIRE(csr->status.conditions.size() == 1);
  CHECK(csr->status.conditions[0].reason == "AutoApproved");
  CHECK(csr->has_condition("Approved"));
  CHECK_FALSE(csr->has_condition("Denied"));
  CHECK(csr->status.certificate.data == kPemCert);

  auto again = decode_certificate_signing_request_json(encode_certificate_signing_request_json(*csr));
  REQUIRE(again.ok());
  CHECK(*again == *csr);
}

TEST_CASE("CertificateSigningRequest encode: what the kubelet posts", "[kube][csr]") {
  CertificateSigningRequest csr;
  csr.metadata.generate_name = "csr-";
  csr.spec.request = Bytes{"PEM"};
  csr.spec.signer_name = std::string(kKubeletServingSigner);
  csr.spec.usages = {"digital signature", "server auth"};
  CHECK(encode_certificate_signing_request_json(csr) ==
        R"({"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"generateName":"csr-"},)"
        R"("spec":{"request":"UEVN","signerName":"kubernetes.io/kubelet-serving","usages":["digital signature","server auth"]}})");
}

TEST_CASE("CertificateSigningRequest decode errors name the object and the field", "[kube][csr]") {
  auto req = decode_certificate_signing_request_json(R"({"metadata": {"name": "csr-1"}, "spec": {"request": "LS0t*"}})");
  REQUIRE_FALSE(req.ok());
  CHECK(req.error().message() == "certificatesigningrequest \"csr-1\": spec.request: illegal base64 data at input byte 4");
  auto cond = decode_certificate_signing_request_json(
      R"({"metadata": {"name": "csr-1"}, "status": {"conditions": [{"type": "Denied", "status": false}]}})");
  REQUIRE_FALSE(cond.ok());
  CHECK(cond.error().message() ==
        "certificatesigningrequest \"csr-1\": status.conditions[0].status: expected string, got false");
  auto cert = decode_certificate_signing_request_json(R"({"metadata": {"name": "csr-1"}, "status": {"certificate": "QQ="}})");
  REQUIRE_FALSE(cert.ok());
  CHECK(cert.error().message() == "certificatesigningrequest \"csr-1\": status.certificate: illegal base64 data at input byte 3");
  auto extra = decode_certificate_signing_request_json(
      R"({"metadata": {"name": "csr-1"}, "spec": {"request": "", "extra": {"k": "v"}}})");
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.error().message() == "certificatesigningrequest \"csr-1\": spec.extra.k: expected array, got \"v\"");
}
