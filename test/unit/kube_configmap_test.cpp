#include <catch2/catch.hpp>

#include "agent/kube/configmap.h"

using namespace knode::kube;

TEST_CASE("ConfigMap decodes data, binaryData and immutable", "[kube][configmap]") {
  auto c = decode_config_map_json(R"({
    "kind": "ConfigMap", "apiVersion": "v1",
    "metadata": {"name": "kube-root-ca.crt", "namespace": "default", "resourceVersion": "310",
                 "annotations": {"kubernetes.io/description": "Contains a CA bundle"}},
    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n", "empty": ""},
    "binaryData": {"blob": "AAEC/w==", "none": ""},
    "immutable": true
  })");
  REQUIRE(c.ok());
  CHECK(c->data.at("ca.crt").find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(c->data.at("empty").empty());
  CHECK(c->binary_data.at("blob").data == std::string("\x00\x01\x02\xff", 4));
  CHECK(c->binary_data.at("none").data.empty());
  CHECK(c->immutable == true);

  auto again = decode_config_map_json(encode_config_map_json(*c));
  REQUIRE(again.ok());
  CHECK(*again == *c);
}

TEST_CASE("ConfigMap encode sets apiVersion and kind and base64-encodes binaryData", "[kube][configmap]") {
  ConfigMap c;
  c.metadata.name = "cfg";
  c.metadata.namespace_ = "ns";
  c.data["k"] = "v";
  c.binary_data["b"] = Bytes{"hi!"};
  CHECK(encode_config_map_json(c) ==
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"ns"},)"
        R"("data":{"k":"v"},"binaryData":{"b":"aGkh"}})");
}

TEST_CASE("ConfigMap decode errors name the object, the field and the key", "[kube][configmap]") {
  auto bad = decode_config_map_json(R"({"metadata": {"name": "cfg", "namespace": "ns"}, "binaryData": {"blob": "a$b="}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "configmap \"ns/cfg\": binaryData.blob: illegal base64 data at input byte 1");
  auto data = decode_config_map_json(R"({"metadata": {"name": "cfg", "namespace": "ns"}, "data": {"port": 80}})");
  REQUIRE_FALSE(data.ok());
  CHECK(data.error().message() == "configmap \"ns/cfg\": data.port: expected string, got 80");
  auto imm = decode_config_map_json(R"({"metadata": {"name": "cfg", "namespace": "ns"}, "immutable": "true"})");
  REQUIRE_FALSE(imm.ok());
  CHECK(imm.error().message() == "configmap \"ns/cfg\": immutable: expected boolean, got \"true\"");
}
