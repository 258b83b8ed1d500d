#include <catch2/catch.hpp>

#include "agent/kube/secret.h"

using namespace knode::kube;

TEST_CASE("Secret decodes type and base64 data as the API server returns it", "[kube][secret]") {
  auto s = decode_secret_json(R"({
    "kind": "Secret", "apiVersion": "v1",
    "metadata": {"name": "regcred", "namespace": "apps", "uid": "1f0e2d3c-0000-4000-8000-00000000c0de",
                 "resourceVersion": "812", "creationTimestamp": "2024-05-01T09:00:00Z"},
    "data": {".dockerconfigjson": "eyJhdXRocyI6e319", "bin": "AP8QgA=="},
    "type": "kubernetes.io/dockerconfigjson"
  })");
  REQUIRE(s.ok());
  CHECK(s->type == kSecretTypeDockerConfigJson);
  CHECK(s->data.at(".dockerconfigjson").data == R"({"auths":{}})");
  CHECK(s->data.at("bin").data == std::string("\x00\xff\x10\x80", 4));
  CHECK_FALSE(s->immutable.has_value());

  auto again = decode_secret_json(encode_secret_json(*s));
  REQUIRE(again.ok());
  CHECK(*again == *s);
}

TEST_CASE("Secret stringData and immutable round trip; encode sets apiVersion and kind", "[kube][secret]") {
  Secret s;
  s.metadata.name = "tls";
  s.metadata.namespace_ = "ns";
  s.type = std::string(kSecretTypeTLS);
  s.immutable = true;
  s.data["tls.crt"] = Bytes{"PEM"};
  s.string_data["note"] = "plain";
  CHECK(encode_secret_json(s) ==
        R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"tls","namespace":"ns"},"immutable":true,)"
        R"("data":{"tls.crt":"UEVN"},"stringData":{"note":"plain"},"type":"kubernetes.io/tls"})");
  auto again = decode_secret_json(encode_secret_json(s));
  REQUIRE(again.ok());
  CHECK(again->api_version == "v1");
  CHECK(again->kind == "Secret");
  CHECK(again->string_data.at("note") == "plain");
  CHECK(again->data.at("tls.crt").data == "PEM");
}

TEST_CASE("Secret bad base64 names the object and the key", "[kube][secret]") {
  auto bad = decode_secret_json(R"({"metadata": {"name": "tls", "namespace": "ns"},
                                    "data": {"tls.crt": "UEVN", "tls.key": "not base64!"}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "secret \"ns/tls\": data.tls.key: illegal base64 data at input byte 3");
  auto type = decode_secret_json(R"({"metadata": {"name": "s", "namespace": "ns"}, "data": {"k": 1}})");
  REQUIRE_FALSE(type.ok());
  CHECK(type.error().message() == "secret \"ns/s\": data.k: expected base64 string, got 1");
  auto sd = decode_secret_json(R"({"metadata": {"name": "s", "namespace": "ns"}, "stringData": ["x"]})");
  REQUIRE_FALSE(sd.ok());
  CHECK(sd.error().message() == "secret \"ns/s\": stringData: expected object, got array");
}
