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
