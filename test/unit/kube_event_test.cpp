#include <catch2/catch.hpp>

#include "agent/kube/event.h"

using namespace knode::kube;

TEST_CASE("Event decodes a kubelet event as the API server returns it", "[kube][event]") {
  auto e = decode_event_json(R"({
    "kind": "Event", "apiVersion": "v1",
    "metadata": {"name": "web-7d9f.17c3a2b1d0e4f5a6", "namespace": "default", "uid": "0c2f7a61-4d55-4a51-a2f8-65e1d8c0b001",
                 "resourceVersion": "4711", "creationTimestamp": "2024-05-01T10:00:03Z"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-7d9f",
                       "uid": "9a1b2c3d-0000-4000-8000-00000000abcd", "apiVersion": "v1",
                       "resourceVersion": "4700", "fieldPath": "spec.containers{app}"},
    "reason": "Pulled", "message": "Container image \"nginx:1.25\" already present on machine",
    "source": {"component": "kubelet", "host": "node1"},
    "firstTimestamp": "2024-05-01T10:00:03Z", "lastTimestamp": "2024-05-01T10:02:03Z", "count": 3,
    "type": "Normal", "eventTime": null, "reportingComponent": "kubelet", "reportingInstance": "node1"
  })");
  REQUIRE(e.ok());
  CHECK(e->involved_object.kind == "Pod");
  CHECK(e->involved_object.field_path == "spec.containers{app}");
  CHECK(e->involved_object.resource_version == "4700");
  CHECK(e->reason == "Pulled");
  CHECK(e->source.component == "kubelet");
  CHECK(e->source.host == "node1");
  CHECK(e->count == 3);
  CHECK(e->type == kEventTypeNormal);
  CHECK(e->event_time.empty());
  CHECK(e->reporting_instance == "node1");

  auto again = decode_event_json(encode_event_json(*e));
  REQUIRE(again.ok());
  CHECK(*again == *e);
}

TEST_CASE("Event with the events.k8s.io-style fields: eventTime, series, action, related", "[kube][event]") {
  auto e = decode_event_json(R"({
    "apiVersion": "v1", "kind": "Event",
    "metadata": {"name": "node1.17c3", "namespace": "default"},
    "involvedObject": {"kind": "Node", "name": "node1", "uid": "node1"},
    "reason": "NodeNotReady", "message": "Node node1 status is now: NodeNotReady", "type": "Warning",
    "eventTime": "2024-05-01T10:00:03.512345Z",
    "series": {"count": 5, "lastObservedTime": "2024-05-01T10:04:03.000001Z"},
    "action": "Evaluate", "related": {"kind": "Pod", "namespace": "default", "name": "web"},
    "reportingComponent": "node-controller", "reportingInstance": "",
    "firstTimestamp": null, "lastTimestamp": null
  })");
  REQUIRE(e.ok());
  CHECK(e->event_time == "2024-05-01T10:00:03.512345Z");
  REQUIRE(e->series);
  CHECK(e->series->count == 5);
  CHECK(e->series->last_observed_time == "2024-05-01T10:04:03.000001Z");
  CHECK(e->related->name == "web");
  CHECK(e->action == "Evaluate");
  CHECK(e->first_timestamp.empty());
  auto again = decode_event_json(encode_event_json(*e));
  REQUIRE(again.ok());
  CHECK(*again == *e);
}

TEST_CASE("Event encode sets apiVersion and kind", "[kube][event]") {
  Event e;
  e.metadata.name = "web.1";
  e.metadata.namespace_ = "default";
  e.involved_object = {.kind = "Pod", .namespace_ = "default", .name = "web", .api_version = "v1"};
  e.reason = "Started";
  e.message = "Started container <app> & more";
  e.source = {.component = "kubelet", .host = "node1"};
  e.count = 1;
  e.type = "Normal";
  CHECK(encode_event_json(e) ==
        R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1","namespace":"default"},)"
        R"("involvedObject":{"kind":"Pod","namespace":"default","name":"web","apiVersion":"v1"},)"
        R"("reason":"Started","message":"Started container \u003capp\u003e \u0026 more",)"
        R"("source":{"component":"kubelet","host":"node1"},"count":1,"type":"Normal",)"
        R"("reportingComponent":"","reportingInstance":""})");
}

TEST_CASE("Event decode errors name the object and the field", "[kube][event]") {
  auto bad = decode_event_json(R"({"metadata": {"name": "web.1", "namespace": "default"}, "count": "2"})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "event \"default/web.1\": count: expected integer, got \"2\"");
  auto nested = decode_event_json(R"({"metadata": {"name": "web.1", "namespace": "default"},
                                      "series": {"count": 1, "lastObservedTime": 17}})");
  REQUIRE_FALSE(nested.ok());
  CHECK(nested.error().message() == "event \"default/web.1\": series.lastObservedTime: expected string, got 17");
  auto kind = decode_event_json(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}})");
  REQUIRE_FALSE(kind.ok());
  CHECK(kind.error().message() == "event \"x\": kind: expected \"Event\", got \"Pod\"");
}
