#include <catch2/catch.hpp>

#include "agent/kube/endpointslice.h"

using namespace knode::kube;

TEST_CASE("EndpointSlice hostname and hints (kept behind a pointer) decode and encode as optional members",
          "[kube][endpointslice]") {
  auto s = decode_endpoint_slice_json(R"({
    "metadata": {"name": "e", "namespace": "ns"}, "addressType": "IPv4",
    "endpoints": [
      {"addresses": ["10.0.0.1"], "hostname": "web-0", "hints": {"forZones": [{"name": "a"}, {"name": "b"}]}},
      {"addresses": ["10.0.0.2"], "hostname": null},
      {"addresses": ["10.0.0.3"], "hostname": ""}
    ]})");
  REQUIRE(s.ok());
  REQUIRE(s->endpoints.size() == 3);
  REQUIRE(s->endpoints[0].hostname);
  CHECK(*s->endpoints[0].hostname == "web-0");
  REQUIRE(s->endpoints[0].hints);
  CHECK(s->endpoints[0].hints->for_zones.size() == 2);
  CHECK_FALSE(s->endpoints[1].hostname);  // null is absent
  CHECK_FALSE(s->endpoints[1].hints);
  REQUIRE(s->endpoints[2].hostname);  // "" is present
  CHECK(s->endpoints[2].hostname->empty());

  const std::string text = encode_endpoint_slice_json(*s);
  CHECK(text.find(R"("hostname":"web-0")") != std::string::npos);
  CHECK(text.find(R"("forZones":[{"name":"a"},{"name":"b"}])") != std::string::npos);
  auto again = decode_endpoint_slice_json(text);
  REQUIRE(again.ok());
  CHECK(*again == *s);

  // Copies are deep; comparison is by value.
  EndpointSlice copy = *s;
  copy.endpoints[0].hints->for_zones[0].name = "c";
  CHECK(s->endpoints[0].hints->for_zones[0].name == "a");
  CHECK_FALSE(copy == *s);
  copy.endpoints[0].hints = EndpointHints{{{"a"}, {"b"}}};
  CHECK(copy == *s);
  copy.endpoints[0].hints.reset();
  CHECK_FALSE(copy == *s);

  auto bad = decode_endpoint_slice_json(R"({"metadata": {"name": "e", "namespace": "ns"}, "addressType": "IPv4",
    "endpoints": [{"addresses": ["10.0.0.1"], "hints": {"forZones": [{"name": 5}]}}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "endpointslice \"ns/e\": endpoints[0].hints.forZones[0].name: expected string, got 5");
}

TEST_CASE("EndpointSlice targetRef (kept as one string) decodes and encodes unchanged", "[kube][endpointslice]") {
  auto s = decode_endpoint_slice_json(R"({
    "metadata": {"name": "e", "namespace": "ns"}, "addressType": "IPv4",
    "endpoints": [
      {"addresses": ["10.0.0.1"], "targetRef": {"kind": "Pod", "namespace": "ns", "name": "web-7d9f8c6b5-x2kq7",
                                                "uid": "0c1e4b5a-7c1e-4b5a-9f3d-000000000001"}},
      {"addresses": ["10.0.0.2"], "targetRef": {"name": "only-a-name"}},
      {"addresses": ["10.0.0.3"]}
    ]})");
  REQUIRE(s.ok());
  REQUIRE(s->endpoints[0].target_ref);
  const auto& r = *s->endpoints[0].target_ref;
  CHECK(r.kind() == "Pod");
  CHECK(r.namespace_() == "ns");
  CHECK(r.name() == "web-7d9f8c6b5-x2kq7");
  CHECK(r.uid() == "0c1e4b5a-7c1e-4b5a-9f3d-000000000001");
  REQUIRE(s->endpoints[1].target_ref);
  CHECK(s->endpoints[1].target_ref->kind().empty());
  CHECK(s->endpoints[1].target_ref->name() == "only-a-name");
  CHECK(s->endpoints[1].target_ref->uid().empty());
  CHECK_FALSE(s->endpoints[2].target_ref);
  CHECK_FALSE(ObjectReferenceLite("Pod", "ns", "ab", "") == ObjectReferenceLite("Pod", "nsa", "b", ""));

  const std::string text = encode_endpoint_slice_json(*s);
  CHECK(text.find(R"("targetRef":{"kind":"Pod","namespace":"ns","name":"web-7d9f8c6b5-x2kq7","uid":"0c1e4b5a-7c1e-4b5a-9f3d-000000000001"})") !=
        std::string::npos);
  CHECK(text.find(R"("targetRef":{"name":"only-a-name"})") != std::string::npos);
  auto again = decode_endpoint_slice_json(text);
  REQUIRE(again.ok());
  CHECK(*again == *s);

  auto bad = decode_endpoint_slice_json(R"({"metadata": {"name": "e", "namespace": "ns"}, "addressType": "IPv4",
    "endpoints": [{"addresses": ["10.0.0.1"], "targetRef": {"uid": 7}}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "endpointslice \"ns/e\": endpoints[0].targetRef.uid: expected string, got 7");
}
