#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "agent/kube/client/watch_decoder.h"

using namespace knode;
using namespace knode::kube;

namespace {
std::string pod_event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":")" + name +
         R"(","namespace":"default","resourceVersion":")" + rv + R"("},"spec":{"nodeName":"n1"}}})" + "\n";
}

struct Collect {
  std::vector<WatchEvent> events;
  WatchDecoder::Sink sink() {
    return [this](WatchEvent&& e) { events.push_back(std::move(e)); };
  }
};
}  // namespace

TEST_CASE("decodes whole lines of several events in one chunk", "[kubeclient][watch]") {
  WatchDecoder d;
  Collect c;
  std::string data = pod_event("ADDED", "a", "1") + pod_event("MODIFIED", "a", "2") + pod_event("DELETED", "a", "3") +
                     R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"9"}}})" "\n";
  REQUIRE(d.feed(data, c.sink()).ok());
  REQUIRE(c.events.size() == 4);
  CHECK(c.events[0].type == WatchEventType::Added);
  CHECK(c.events[1].type == WatchEventType::Modified);
  CHECK(c.events[2].type == WatchEventType::Deleted);
  CHECK(c.events[3].type == WatchEventType::Bookmark);
  CHECK(c.events[1].object.at("metadata").at("resourceVersion") == "2");
  CHECK(d.buffered() == 0);
}

TEST_CASE("events split across chunks at every byte boundary decode the same", "[kubeclient][watch]") {
  std::string data = pod_event("ADDED", "a", "1") + "\r\n" + pod_event("MODIFIED", "b", "2");
  for (size_t step = 1; step <= 17; ++step) {
    WatchDecoder d;
    Collect c;
    for (size_t i = 0; i < data.size(); i += step) REQUIRE(d.feed(std::string_view(data).substr(i, step), c.sink()).ok());
    REQUIRE(d.finish(c.sink()).ok());
    REQUIRE(c.events.size() == 2);
    CHECK(c.events[1].object.at("metadata").at("name") == "b");
  }
}

TEST_CASE("an unterminated last event is decoded at the end of the stream", "[kubeclient][watch]") {
  WatchDecoder d;
  Collect c;
  std::string e = pod_event("ADDED", "a", "1");
  e.pop_back();
  REQUIRE(d.feed(e, c.sink()).ok());
  CHECK(c.events.empty());
  REQUIRE(d.finish(c.sink()).ok());
  CHECK(c.events.size() == 1);
}

TEST_CASE("garbage yields an error naming the object, and events before it are kept", "[kubeclient][watch]") {
  WatchDecoder d;
  Collect c;
  std::string bad = R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"web-1","namespace":"prod","resourceVersion":"5"},"spec":{"containers":[}})";
  auto st = d.feed(pod_event("ADDED", "a", "1") + bad + "\n" + pod_event("ADDED", "b", "6"), c.sink());
  REQUIRE_FALSE(st.ok());
  CHECK(c.events.size() == 1);
  CHECK_THAT(st.message(), Catch::Contains("Pod prod/web-1"));
  CHECK_THAT(st.message(), Catch::Contains("invalid JSON"));
  CHECK(d.failed());
  CHECK_FALSE(d.feed(pod_event("ADDED", "c", "7"), c.sink()).ok());
  CHECK(c.events.size() == 1);
}

TEST_CASE("structurally wrong events are errors that say what is wrong", "[kubeclient][watch]") {
  WatchDecoder d;
  auto r = d.decode_line(R"({"type":"EXPLODED","object":{"kind":"Service","metadata":{"name":"s","namespace":"ns"}}})");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("unknown event type \"EXPLODED\""));
  CHECK_THAT(r.error().message(), Catch::Contains("Service ns/s"));

  r = d.decode_line(R"({"object":{"kind":"Node","metadata":{"name":"n1"}}})");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("missing \"type\""));
  CHECK_THAT(r.error().message(), Catch::Contains("Node n1"));

  r = d.decode_line(R"({"type":"ADDED","object":"nope"})");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("not an object"));

  r = d.decode_line(R"({"type":"ADDED","object":{"kind":"Pod"}})");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("no metadata"));

  r = d.decode_line("\x01\x02 total garbage");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("invalid JSON"));

  r = d.decode_line(R"([1,2,3])");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("not a JSON object"));

  // An ERROR event carries a Status, which has no metadata requirement.
  r = d.decode_line(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  REQUIRE(r.ok());
  CHECK(r->type == WatchEventType::Error);
}

TEST_CASE("describes truncated object text best-effort", "[kubeclient][watch]") {
  CHECK(describe_object_text(R"({"kind":"Pod","metadata":{"name":"x","namespace":"y","ownerReferences":[{"name":"rs"}])") == "Pod y/x");
  CHECK(describe_object_text(R"({"kind": "Node", "metadata": {"name": "n1")") == "Node n1");
  CHECK(describe_object_text("garbage").empty());
}

TEST_CASE("an oversized line fails instead of growing without bound", "[kubeclient][watch]") {
  WatchDecoder d(1024);
  Collect c;
  std::string big = R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"big","namespace":"d"},"data":")" +
                    std::string(2000, 'x');
  auto st = d.feed(big, c.sink());
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("ConfigMap d/big"));
}
