#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "agent/kube/client/event_recorder.h"
#include "test/unit/kubeclient_fake_client.h"

using namespace knode::kube;
using knode::kube::testing::FakeClient;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// 2026-11-27T20:41:00.123456Z plus the fake client's clock.
constexpr int64_t kEpochNs = 1795812060123456789LL;

struct Fixture {
  FakeClient client;
  std::vector<ApiResult<json::value>> answers;  // consumed front to back; then 201 {}
  EventRecorder recorder;

  static EventRecorderOptions options(FakeClient& c) {
    EventRecorderOptions o;
    o.reporting_controller = "kube-proxy";
    o.reporting_instance = "kube-proxy-node-a";
    o.now_ns = [&c] { return kEpochNs + std::chrono::duration_cast<std::chrono::nanoseconds>(c.now).count(); };
    return o;
  }
  Fixture() : recorder(client, options(client)) {
    client.responder = [this](const Request&) -> ApiResult<json::value> {
      if (answers.empty()) return json::value(json::object{});
      auto a = answers.front();
      answers.erase(answers.begin());
      return a;
    };
  }
  void starting() {
    recorder.record(node_reference("node-a"), nullptr, "Normal", "Starting", "StartKubeProxy", "");
  }
  json::object body(std::size_t i) { return json::parse(client.calls.at(i).body).as_object(); }
};

}  // namespace

TEST_CASE("micro_time is RFC 3339 in UTC with six fractional digits") {
  CHECK(micro_time(kEpochNs) == "2026-11-27T20:41:00.123456Z");
  CHECK(micro_time(1'000'000'000LL) == "1970-01-01T00:00:01.000000Z");
}

TEST_CASE("the first event is created as events.k8s.io/v1 in the regarding object's namespace") {
  Fixture f;
  f.starting();
  f.client.run();
  REQUIRE(f.client.calls.size() == 1);
  const Request& r = f.client.calls[0];
  CHECK(r.method == "POST");
  CHECK(r.path == "/apis/events.k8s.io/v1/namespaces/default/events");
  auto b = f.body(0);
  CHECK(b.at("apiVersion") == "events.k8s.io/v1");
  CHECK(b.at("kind") == "Event");
  CHECK(b.at("metadata").at("namespace") == "default");
  CHECK(b.at("metadata").at("name") == "node-a.18ec018dd7056515");  // name.<unix ns in hex>
  CHECK(b.at("eventTime") == "2026-11-27T20:41:00.123456Z");
  CHECK(b.at("reason") == "Starting");
  CHECK(b.at("action") == "StartKubeProxy");
  CHECK(b.at("type") == "Normal");
  CHECK(b.at("reportingController") == "kube-proxy");
  CHECK(b.at("reportingInstance") == "kube-proxy-node-a");
  CHECK(b.at("regarding") == json::parse(R"({"kind":"Node","name":"node-a","uid":"node-a"})"));
  CHECK_FALSE(b.contains("note"));
  CHECK_FALSE(b.contains("series"));
  CHECK(f.recorder.counts().created == 1);
}

TEST_CASE("a namespaced object's event goes to its namespace, with the related object and note") {
  Fixture f;
  ObjectReference svc{.kind = "Service", .namespace_ = "web", .name = "front"};
  ObjectReference node = node_reference("node-a");
  f.recorder.record(svc, &node, "Warning", "FailedToStartServiceHealthcheck", "Listen", "port in use");
  f.client.run();
  REQUIRE(f.client.calls.size() == 1);
  CHECK(f.client.calls[0].path == "/apis/events.k8s.io/v1/namespaces/web/events");
  auto b = f.body(0);
  CHECK(b.at("note") == "port in use");
  CHECK(b.at("related").at("name") == "node-a");
  CHECK(b.at("type") == "Warning");
}

TEST_CASE("repeats form a series: the second patches count 2 at once, later ones at the refresh") {
  Fixture f;
  f.starting();
  f.client.run();
  f.client.now += 1s;
  f.starting();
  f.client.run();
  REQUIRE(f.client.calls.size() == 2);
  const Request& p = f.client.calls[1];
  CHECK(p.method == "PATCH");
  CHECK(p.path == "/apis/events.k8s.io/v1/namespaces/default/events/node-a.18ec018dd7056515");
  CHECK(p.content_type == "application/strategic-merge-patch+json");
  auto patch = f.body(1);
  CHECK(patch.at("series").at("count") == 2);
  CHECK(patch.at("series").at("lastObservedTime") == "2026-11-27T20:41:01.123456Z");

  // Seen every 5 minutes: counted, not written, until the 30-minute refresh writes the grown count.
  for (int i = 0; i < 5; ++i) {
    f.client.advance(5min);
    f.starting();
    f.client.run();
  }
  CHECK(f.client.calls.size() == 2);
  f.client.advance(5min);
  REQUIRE(f.client.calls.size() == 3);
  CHECK(f.client.calls[2].method == "PATCH");
  CHECK(f.body(2).at("series").at("count") == 7);
  CHECK(f.recorder.counts().patched == 2);
  CHECK(f.recorder.counts().created == 1);
}

TEST_CASE("a different note is a different event") {
  Fixture f;
  f.recorder.record(node_reference("n"), nullptr, "Warning", "R", "A", "one");
  f.recorder.record(node_reference("n"), nullptr, "Warning", "R", "A", "two");
  f.client.run();
  REQUIRE(f.client.calls.size() == 2);
  CHECK(f.client.calls[0].method == "POST");
  CHECK(f.client.calls[1].method == "POST");
}

TEST_CASE("transport failures are retried after the delay; a rejection is not") {
  Fixture f;
  f.answers.push_back(ApiError::transport("connection refused"));
  f.starting();
  f.client.run();
  CHECK(f.client.calls.size() == 1);
  f.client.advance(9s);
  CHECK(f.client.calls.size() == 1);
  f.client.advance(1s);
  REQUIRE(f.client.calls.size() == 2);
  CHECK(f.client.calls[1].method == "POST");
  CHECK(f.body(1).at("metadata") == f.body(0).at("metadata"));
  CHECK(f.recorder.counts().created == 1);

  Fixture g;
  g.answers.push_back(ApiError(422, "Invalid", "events.events.k8s.io \"x\" is invalid"));
  g.starting();
  g.client.run();
  g.client.advance(1min);
  CHECK(g.client.calls.size() == 1);
  CHECK(g.recorder.counts().dropped == 1);
  // Forgotten after the rejection: the next occurrence is a fresh create, not a series patch.
  g.starting();
  g.client.run();
  REQUIRE(g.client.calls.size() == 2);
  CHECK(g.client.calls[1].method == "POST");
}

TEST_CASE("a series patch that finds no Event re-creates it with the series") {
  Fixture f;
  f.starting();
  f.client.run();
  f.answers.push_back(ApiError(404, "NotFound", "not found"));
  f.starting();
  f.client.run();
  REQUIRE(f.client.calls.size() == 3);
  CHECK(f.client.calls[1].method == "PATCH");
  CHECK(f.client.calls[2].method == "POST");
  CHECK(f.body(2).at("series").at("count") == 2);
}

TEST_CASE("events not seen for the finish time are forgotten, writing a series' last count first") {
  Fixture f;
  f.starting();
  f.client.run();
  f.starting();
  f.client.run();
  f.starting();  // count 3, written 2
  f.client.run();
  REQUIRE(f.client.calls.size() == 2);
  f.client.advance(6min);  // last seen exactly 6 min ago: still open
  CHECK(f.client.calls.size() == 2);
  f.client.advance(6min);  // now longer: the final count is written, then the event is forgotten
  REQUIRE(f.client.calls.size() == 3);
  CHECK(f.body(2).at("series").at("count") == 3);
  f.starting();
  f.client.run();
  REQUIRE(f.client.calls.size() == 4);
  CHECK(f.client.calls[3].method == "POST");
}

TEST_CASE("a stopped recorder writes nothing more") {
  Fixture f;
  f.recorder.stop();
  f.starting();
  f.client.run();
  f.client.advance(1h);
  CHECK(f.client.calls.empty());
}
