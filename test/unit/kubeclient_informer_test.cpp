#include <cstring>
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "agent/kube/client/informer.h"
#include "agent/kube/client/page_arena.h"
#include "agent/kube/client/reflector.h"
#include "agent/kube/client/store.h"
#include "test/unit/kubeclient_fake_client.h"

using namespace knode;
using namespace knode::kube;
using knode::kube::testing::FakeClient;
using knode::kube::testing::query_value;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {
json::value pod(const std::string& ns, const std::string& name, int rv, const std::string& node = "n1") {
  return json::value{{"kind", "Pod"},
                     {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", std::to_string(rv)}}},
                     {"spec", {{"nodeName", node}}}};
}
ObjectPtr ptr(json::value v) { return std::make_shared<const json::value>(std::move(v)); }
json::value list_of(std::vector<json::value> items, int rv, std::string cont = "") {
  json::object md{{"resourceVersion", std::to_string(rv)}};
  if (!cont.empty()) md["continue"] = cont;
  json::array a;
  for (auto& i : items) a.push_back(i);
  return json::value{{"kind", "PodList"}, {"metadata", md}, {"items", a}};
}
std::vector<json::value> N(int n, int rv0, const std::string& prefix = "p") {
  std::vector<json::value> v;
  for (int i = 0; i < n; ++i) v.push_back(pod("default", prefix + std::to_string(i), rv0 + i));
  return v;
}
}  // namespace

// ---------------------------------------------------------------- store

TEST_CASE("store keys, updates, deletes and ignores unchanged resourceVersions", "[kubeclient][store]") {
  Store s;
  std::vector<Delta> ds;
  s.set_observer([&](Delta&& d) { ds.push_back(std::move(d)); });
  s.apply(WatchEventType::Added, ptr(pod("default", "a", 1)));
  s.apply(WatchEventType::Added, ptr(json::value{{"kind", "Node"}, {"metadata", {{"name", "n1"}, {"resourceVersion", "2"}}}}));
  CHECK(s.get("default/a"));
  CHECK(s.get("n1"));
  s.apply(WatchEventType::Modified, ptr(pod("default", "a", 1)));  // same rv: no change
  CHECK(ds.size() == 2);
  s.apply(WatchEventType::Modified, ptr(pod("default", "a", 3)));
  REQUIRE(ds.size() == 3);
  CHECK(ds[2].type == Delta::Type::Updated);
  CHECK(resource_version(*ds[2].old) == "1");
  CHECK(resource_version(*ds[2].obj) == "3");
  s.apply(WatchEventType::Deleted, ptr(pod("default", "a", 4)));
  REQUIRE(ds.size() == 4);
  CHECK(ds[3].type == Delta::Type::Deleted);
  CHECK(resource_version(*ds[3].obj) == "4");
  CHECK_FALSE(s.get("default/a"));
  s.apply(WatchEventType::Deleted, ptr(pod("default", "a", 5)));  // unknown: nothing
  CHECK(ds.size() == 4);
}

TEST_CASE("store replace reports adds, updates and deletions of vanished objects", "[kubeclient][store]") {
  Store s;
  std::vector<Delta> ds;
  s.set_observer([&](Delta&& d) { ds.push_back(std::move(d)); });
  s.replace({ptr(pod("a", "x", 1)), ptr(pod("a", "y", 2)), ptr(pod("b", "z", 3))});
  CHECK(ds.size() == 3);
  ds.clear();
  s.replace({ptr(pod("a", "x", 1)), ptr(pod("a", "y", 5)), ptr(pod("c", "w", 6))});
  std::map<std::string, Delta::Type> by_key;
  for (auto& d : ds) by_key[d.key] = d.type;
  CHECK(by_key.size() == 3);
  CHECK(by_key["a/y"] == Delta::Type::Updated);
  CHECK(by_key["b/z"] == Delta::Type::Deleted);
  CHECK(by_key["c/w"] == Delta::Type::Added);
  CHECK(s.size() == 3);
}

TEST_CASE("a list in pages is applied page by page; the unlisted are deleted at its end", "[kubeclient][store]") {
  Store s;
  std::vector<std::pair<std::string, Delta::Type>> ds;
  s.set_observer([&](Delta&& d) { ds.emplace_back(d.key, d.type); });
  s.replace({ptr(pod("a", "x", 1)), ptr(pod("a", "y", 2)), ptr(pod("b", "z", 3))});
  ds.clear();
  s.replace_begin();
  s.replace_page({ptr(pod("a", "x", 1)), ptr(pod("a", "y", 5))});
  // The first page is in the store and reported before the next one arrives; nothing deleted yet.
  CHECK(ds == std::vector<std::pair<std::string, Delta::Type>>{{"a/y", Delta::Type::Updated}});
  CHECK(resource_version(*s.get("a/y")) == "5");
  CHECK(s.get("b/z"));
  s.replace_begin();  // started over (an expired continue token): the pages already applied stay
  s.replace_page({ptr(pod("a", "x", 1)), ptr(pod("a", "y", 5))});
  s.replace_page({ptr(pod("c", "w", 6))});
  s.replace_end();
  CHECK(ds == std::vector<std::pair<std::string, Delta::Type>>{
                  {"a/y", Delta::Type::Updated}, {"c/w", Delta::Type::Added}, {"b/z", Delta::Type::Deleted}});
  CHECK(s.size() == 3);
}

TEST_CASE("indexers follow adds, updates and deletes", "[kubeclient][store]") {
  Store s;
  s.add_indexer("namespace", namespace_index);
  s.add_indexer("node", [](const json::value& o) {
    return std::vector<std::string>{std::string(o.at("spec").at("nodeName").as_string())};
  });
  s.apply(WatchEventType::Added, ptr(pod("a", "x", 1, "n1")));
  s.apply(WatchEventType::Added, ptr(pod("a", "y", 2, "n2")));
  s.apply(WatchEventType::Added, ptr(pod("b", "z", 3, "n1")));
  CHECK(s.by_index("namespace", "a").size() == 2);
  CHECK(s.by_index("node", "n1").size() == 2);
  s.apply(WatchEventType::Modified, ptr(pod("a", "x", 4, "n2")));
  CHECK(s.by_index("node", "n1").size() == 1);
  CHECK(s.by_index("node", "n2").size() == 2);
  s.apply(WatchEventType::Deleted, ptr(pod("a", "y", 5, "n2")));
  CHECK(s.by_index("node", "n2").size() == 1);
  s.replace({});
  CHECK(s.by_index("namespace", "a").empty());
  CHECK(s.index_values("node").empty());
  CHECK(s.by_index("nope", "x").empty());
}

// ---------------------------------------------------------------- reflector

TEST_CASE("reflector lists in pages, then watches from the list's resourceVersion", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request& r) -> ApiResult<json::value> {
    auto cont = query_value(r, "continue");
    if (cont.empty()) return list_of(N(2, 1), 10, "page2");
    if (cont == "page2") return list_of(N(2, 3, "q"), 10, "page3");
    return list_of({pod("default", "last", 9)}, 10);
  };
  Store store;
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods", .label_selector = "app=web",
                                         .field_selector = "spec.nodeName=n1"});
  r->start();
  c->run();
  REQUIRE(c->calls.size() == 3);
  CHECK(query_value(c->calls[0], "limit") == "500");
  CHECK(query_value(c->calls[0], "resourceVersion") == "0");
  CHECK(query_value(c->calls[0], "fieldSelector") == "spec.nodeName=n1");
  CHECK(query_value(c->calls[1], "continue") == "page2");
  CHECK(query_value(c->calls[1], "resourceVersion").empty());
  CHECK(store.size() == 5);
  CHECK(r->synced());
  auto w = c->open_watch();
  REQUIRE(w);
  CHECK(query_value(w->req, "resourceVersion") == "10");
  CHECK(query_value(w->req, "allowWatchBookmarks") == "true");
  CHECK(query_value(w->req, "labelSelector") == "app=web");
  int timeout = std::stoi(query_value(w->req, "timeoutSeconds"));
  CHECK(timeout >= 300);
  CHECK(timeout < 600);
  r->stop();
}

TEST_CASE("reflector resumes from the last event or bookmark after a disconnect", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return list_of(N(1, 1), 5); };
  Store store;
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods"});
  r->start();
  c->run();
  auto w = c->open_watch();
  REQUIRE(w);
  c->emit(w, {WatchEventType::Added, pod("default", "n", 7)});
  c->emit(w, {WatchEventType::Bookmark, json::value{{"kind", "Pod"}, {"metadata", {{"resourceVersion", "12"}}}}});
  CHECK(r->last_sync_resource_version() == "12");
  // A clean end after a while: an immediate new watch from rv 12, no relist.
  c->now += 5s;
  c->end(w, std::nullopt);
  auto w2 = c->open_watch();
  REQUIRE(w2 != w);
  CHECK(query_value(w2->req, "resourceVersion") == "12");
  // A transport error: back off, then watch again from the same place.
  c->end(w2, ApiError::transport("connection reset"));
  CHECK_FALSE(c->open_watch());
  CHECK(c->pending_timers() == 1);
  c->advance(2s);
  auto w3 = c->open_watch();
  REQUIRE(w3);
  CHECK(query_value(w3->req, "resourceVersion") == "12");
  CHECK(c->calls.size() == 1);  // never relisted
  CHECK(store.size() == 2);
  r->stop();
}

TEST_CASE("410 Gone relists consistently and delivers deletions of vanished objects", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  int lists = 0;
  c->responder = [&](const Request& r) -> ApiResult<json::value> {
    ++lists;
    if (lists == 1) return list_of(N(3, 1), 3);  // p0 p1 p2
    CHECK(query_value(r, "resourceVersion").empty());  // consistent relist
    return list_of({pod("default", "p0", 1), pod("default", "p2", 40), pod("default", "new", 41)}, 50);
  };
  Store store;
  std::vector<Delta> ds;
  store.set_observer([&](Delta&& d) { ds.push_back(std::move(d)); });
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods"});
  r->start();
  c->run();
  ds.clear();
  auto w = c->open_watch();
  SECTION("as an ERROR event") {
    c->emit(w, {WatchEventType::Error, json::parse(R"J({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 3 (30)"})J")});
    CHECK(w->cancelled);
  }
  SECTION("as an HTTP 410") {
    c->end(w, ApiError(410, "Gone", "too old resource version: 3 (30)"));
  }
  REQUIRE(lists == 2);
  std::map<std::string, Delta::Type> by_key;
  for (auto& d : ds) by_key[d.key] = d.type;
  CHECK(by_key.size() == 3);
  CHECK(by_key["default/p1"] == Delta::Type::Deleted);
  CHECK(by_key["default/p2"] == Delta::Type::Updated);
  CHECK(by_key["default/new"] == Delta::Type::Added);
  CHECK(r->stats().gone == 1);
  auto w2 = c->open_watch();
  REQUIRE(w2);
  CHECK(query_value(w2->req, "resourceVersion") == "50");
  r->stop();
}

TEST_CASE("an expired continue token falls back to one full list", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [&](const Request& r) -> ApiResult<json::value> {
    if (query_value(r, "continue") == "t") return ApiError(410, "Expired", "The provided continue parameter is too old");
    if (query_value(r, "limit").empty()) return list_of(N(4, 1), 20);
    return list_of(N(2, 1), 10, "t");
  };
  Store store;
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods"});
  r->start();
  c->run();
  REQUIRE(c->calls.size() == 3);
  CHECK(store.size() == 4);
  CHECK(r->last_sync_resource_version() == "20");
  r->stop();
}

TEST_CASE("list failures back off exponentially and recover", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  int fails = 3;
  c->responder = [&](const Request&) -> ApiResult<json::value> {
    if (fails-- > 0) return ApiError(500, "InternalError", "etcd down");
    return list_of(N(1, 1), 2);
  };
  Store store;
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods",
                                         .backoff = {.initial = 100ms, .cap = 1000ms, .jitter = 0}});
  r->start();
  c->run();
  CHECK(c->calls.size() == 1);
  c->advance(99ms);
  CHECK(c->calls.size() == 1);
  c->advance(1ms);
  CHECK(c->calls.size() == 2);
  c->advance(200ms);
  CHECK(c->calls.size() == 3);
  c->advance(400ms);
  CHECK(c->calls.size() == 4);
  CHECK(r->synced());
  CHECK_THAT(r->stats().last_error, Catch::Contains("etcd down"));
  r->stop();
}

TEST_CASE("an undecodable watch event restarts the watch from the last good event", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return list_of({}, 5); };
  Store store;
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods", .backoff = {.jitter = 0}});
  r->start();
  c->run();
  auto w = c->open_watch();
  c->emit(w, {WatchEventType::Added, pod("default", "ok", 6)});
  c->end(w, ApiError::transport("cannot decode watch event for Pod default/bad: invalid JSON"));
  CHECK(r->stats().watch_errors == 1);
  CHECK_THAT(r->stats().last_error, Catch::Contains("Pod default/bad"));
  c->advance(800ms);
  auto w2 = c->open_watch();
  REQUIRE(w2);
  CHECK(query_value(w2->req, "resourceVersion") == "6");
  // An event whose object has no name is refused the same way.
  c->emit(w2, {WatchEventType::Added, json::value{{"kind", "Pod"}, {"metadata", {{"resourceVersion", "7"}}}}});
  CHECK(w2->cancelled);
  CHECK(r->stats().watch_errors == 2);
  r->stop();
  c->advance(10s);
  CHECK_FALSE(c->open_watch());
}

TEST_CASE("a watch that ends at once without events backs off", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return list_of({}, 5); };
  Store store;
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods"});
  r->start();
  c->run();
  c->end(c->open_watch(), std::nullopt);
  CHECK_FALSE(c->open_watch());
  CHECK(c->pending_timers() == 1);
  r->stop();
}

TEST_CASE("a transform trims listed and watched objects before they are cached", "[kubeclient][reflector]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return list_of(N(2, 1), 5); };
  Store store;
  auto strip = [](json::value&& v) {
    v.as_object().erase("spec");
    return std::move(v);
  };
  auto r = Reflector::create(c, &store, {.name = "pods", .path = "/api/v1/pods", .transform = strip});
  r->start();
  c->run();
  c->emit(c->open_watch(), {WatchEventType::Added, pod("default", "w", 6)});
  REQUIRE(store.size() == 3);
  for (auto& o : store.list()) CHECK_FALSE(o->as_object().contains("spec"));
  r->stop();
}

// ---------------------------------------------------------------- informer

namespace {
// Mirrors what the handlers were told.
struct Mirror {
  std::mutex mu;
  std::map<std::string, std::string> objs;  // key -> rv
  std::atomic<int> adds{0}, updates{0}, deletes{0}, resyncs{0};
  std::string error;
  EventHandler handler(std::function<void()> gate = {}) {
    return EventHandler{
        .on_add = [this, gate](const ObjectPtr& o) {
          if (gate) gate();
          std::lock_guard lk(mu);
          auto k = object_key(*o);
          if (objs.count(k)) error += "add of known " + k + ";";
          objs[k] = resource_version(*o);
          ++adds;
        },
        .on_update = [this, gate](const ObjectPtr& old, const ObjectPtr& o) {
          if (gate) gate();
          std::lock_guard lk(mu);
          auto k = object_key(*o);
          if (!objs.count(k) || objs[k] != resource_version(*old)) error += "update with wrong old " + k + ";";
          objs[k] = resource_version(*o);
          ++updates;
        },
        .on_delete = [this, gate](const ObjectPtr& o) {
          if (gate) gate();
          std::lock_guard lk(mu);
          auto k = object_key(*o);
          if (!objs.erase(k)) error += "delete of unknown " + k + ";";
          ++deletes;
        },
        .on_resync = [this] { ++resyncs; },
    };
  }
};

// Holds handlers until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard lk(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return f();
}
}  // namespace

TEST_CASE("informer hands {old,new} to handlers on their own thread and reports sync", "[kubeclient][informer]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return list_of(N(3, 1), 3); };
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods"}});
  Mirror m;
  std::thread::id handler_thread;
  inf.add_handler({.on_add = [&](const ObjectPtr&) { handler_thread = std::this_thread::get_id(); }});
  inf.add_handler(m.handler());
  inf.add_indexer("namespace", namespace_index);
  CHECK_FALSE(inf.has_synced());
  inf.start();
  c->run();
  REQUIRE(inf.wait_for_sync(5s));
  CHECK(m.adds == 3);
  CHECK(handler_thread != std::this_thread::get_id());
  auto w = c->open_watch();
  c->emit(w, {WatchEventType::Modified, pod("default", "p1", 10)});
  c->emit(w, {WatchEventType::Deleted, pod("default", "p2", 11)});
  REQUIRE(eventually([&] { return m.deletes == 1 && m.updates == 1; }));
  CHECK(m.error.empty());
  CHECK(inf.store().by_index("namespace", "default").size() == 2);
  inf.stop();
}

TEST_CASE("a paged list fetches its next page only once the handlers have caught up", "[kubeclient][informer]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request& r) -> ApiResult<json::value> {
    auto cont = query_value(r, "continue");
    if (cont.empty()) return list_of(N(4, 1, "a"), 20, "2");
    if (cont == "2") return list_of(N(4, 5, "b"), 20, "3");
    return list_of(N(4, 9, "c"), 20);
  };
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods"}, .list_backlog = 2});
  Mirror m;
  Gate gate;
  inf.add_handler(m.handler([&] { gate.wait(); }));
  inf.start();
  c->run();
  // Four changes wait for the held handlers (more than the backlog of 2): no second page yet.
  CHECK(c->calls.size() == 1);
  CHECK(inf.store().size() == 4);
  gate.open();
  // The handler thread resumes the list once at most one change waits; the test drives the loop.
  REQUIRE(eventually([&] {
    c->run();
    return inf.has_synced();
  }));
  CHECK(c->calls.size() == 3);
  CHECK(m.adds == 12);
  CHECK(m.error.empty());
  inf.stop();
}

TEST_CASE("queue overflow drops queued changes and resyncs handlers to the cache", "[kubeclient][informer]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return list_of(N(20, 1), 20); };
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods"}, .queue_capacity = 8});
  Mirror m;
  // The handlers stall until the test has pushed far more changes than the queue holds.
  Gate gate;
  inf.add_handler(m.handler([&gate] { gate.wait(); }));
  inf.start();
  c->run();  // 20 adds: the queue (8) overflows already
  auto w = c->open_watch();
  int rv = 100;
  for (int i = 0; i < 20; i += 2) c->emit(w, {WatchEventType::Modified, pod("default", "p" + std::to_string(i), ++rv)});
  for (int i = 1; i < 20; i += 4) c->emit(w, {WatchEventType::Deleted, pod("default", "p" + std::to_string(i), ++rv)});
  for (int i = 0; i < 5; ++i) c->emit(w, {WatchEventType::Added, pod("other", "n" + std::to_string(i), ++rv)});
  gate.open();
  REQUIRE(inf.wait_for_sync(5s));
  // After the resync the handlers' view equals the cache, with consistent {old,new} along the way.
  auto same = [&] {
    std::lock_guard lk(m.mu);
    auto snap = inf.store().snapshot();
    if (snap.size() != m.objs.size()) return false;
    for (auto& [k, o] : snap)
      if (!m.objs.count(k) || m.objs[k] != resource_version(*o)) return false;
    return true;
  };
  REQUIRE(eventually(same));
  CHECK(m.error.empty());
  CHECK(inf.stats().overflows >= 1);
  CHECK(m.resyncs >= 1);
  CHECK(inf.store().size() == 20);
  // Later changes flow normally again.
  c->emit(w, {WatchEventType::Deleted, pod("other", "n0", ++rv)});
  REQUIRE(eventually([&] { std::lock_guard lk(m.mu); return m.objs.count("other/n0") == 0; }));
  CHECK(m.error.empty());
  inf.stop();
}

TEST_CASE("stopping an informer before sync returns and wait_for_sync gives up", "[kubeclient][informer]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> { return ApiError(503, "ServiceUnavailable", "down"); };
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods"}});
  inf.start();
  c->run();
  CHECK_FALSE(inf.wait_for_sync(50ms));
  inf.stop();
  CHECK_FALSE(inf.has_synced());
}

// ---------------------------------------------------------------- page arena

TEST_CASE("a page arena holds a parsed page in its own mapped blocks", "[kubeclient][arena]") {
  PageArena arena;
  CHECK(arena.mapped() == 0);
  std::string text = R"({"items":[)";
  for (int i = 0; i < 2000; ++i)
    text += (i ? "," : "") + json::serialize(pod("default", "p" + std::to_string(i), i));
  text += "]}";
  json::value page = json::parse(text, json::storage_ptr(&arena));
  CHECK(arena.mapped() >= 256 * 1024);  // grew past its first block
  auto& items = page.at("items").as_array();
  REQUIRE(items.size() == 2000);
  CHECK(items[1999].at("metadata").at("name") == "p1999");
  // An object taken out of the page stays in the arena; a copy made elsewhere does not.
  auto kept = std::make_shared<const json::value>(std::move(items[7]));
  CHECK(kept->storage().get() == &arena);
  json::value copy(*kept, json::storage_ptr());
  CHECK(copy.storage().get() != &arena);
  CHECK(copy == *kept);
  // Alignment is honoured and a request larger than a block gets its own.
  void* a = arena.allocate(3, 1);
  void* b = arena.allocate(64, 64);
  CHECK(reinterpret_cast<uintptr_t>(b) % 64 == 0);
  CHECK(a != b);
  const size_t before = arena.mapped();
  void* big = arena.allocate(8u << 20, 16);
  std::memset(big, 1, 8u << 20);
  CHECK(arena.mapped() >= before + (8u << 20));
  kept.reset();
  page = nullptr;
  // What the reflector uses: reference-counted, so the last value of a page releases it.
  json::storage_ptr sp = make_page_arena();
  CHECK(sp.is_shared());
  json::value v = json::parse(R"({"a":[1,2,3]})", sp);
  sp = {};
  CHECK(v.at("a").as_array().size() == 3);
}

// ---------------------------------------------------------------- retain

namespace {
json::value labelled_pod(const std::string& name, int rv, const std::string& node = "n1") {
  auto p = pod("default", name, rv, node);
  auto& md = p.at("metadata").as_object();
  md["uid"] = "uid-" + name;
  md["labels"] = {{"app", "web"}, {"tier", "front"}};
  md["annotations"] = {{"note", std::string(200, 'x')}};
  return p;
}
}  // namespace

TEST_CASE("retain_metadata keeps name, namespace, resourceVersion, the named labels and fields", "[kubeclient][store]") {
  auto keep = retain_metadata({"app", "missing"}, {"spec", "absent"});
  auto kept = keep(labelled_pod("a", 7));
  CHECK(json::serialize(kept) ==
        R"({"metadata":{"name":"a","namespace":"default","resourceVersion":"7","labels":{"app":"web"}},)"
        R"("spec":{"nodeName":"n1"}})");
  CHECK(json::serialize(retain_metadata({})(labelled_pod("a", 7))) ==
        R"({"metadata":{"name":"a","namespace":"default","resourceVersion":"7"}})");
  CHECK(json::serialize(keep(json::value("not an object"))) == "{}");  // never throws
}

TEST_CASE("a store with a retain function caches part of each object; deltas carry the whole new one",
          "[kubeclient][store]") {
  Store s;
  s.set_retain(retain_metadata({"app"}));
  s.add_indexer("namespace", namespace_index);  // indexers read the kept part
  std::vector<Delta> ds;
  s.set_observer([&](Delta&& d) { ds.push_back(std::move(d)); });
  s.apply(WatchEventType::Added, ptr(labelled_pod("a", 1)));
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].obj->at("spec").at("nodeName") == "n1");  // the whole object
  CHECK(ds[0].kept.is_text());  // compact text, not a tree
  CHECK_FALSE(ds[0].kept.object()->as_object().contains("spec"));
  CHECK(*s.get("default/a") == *ds[0].kept.object());
  CHECK(s.by_index("namespace", "default").size() == 1);
  s.apply(WatchEventType::Modified, ptr(labelled_pod("a", 1, "n2")));  // same resourceVersion: ignored
  CHECK(ds.size() == 1);
  s.apply(WatchEventType::Modified, ptr(labelled_pod("a", 2, "n2")));
  REQUIRE(ds.size() == 2);
  CHECK(*ds[1].old == *ds[0].kept.object());  // the previous kept part
  CHECK(ds[1].obj->at("spec").at("nodeName") == "n2");
  CHECK(resource_version(*s.get("default/a")) == "2");
  // A deletion found by a relist reports the kept part as the last state.
  s.replace({ptr(labelled_pod("b", 3))});
  std::map<std::string, const Delta*> by_key;
  for (auto& d : ds) by_key[d.key] = &d;
  REQUIRE(by_key["default/a"]->type == Delta::Type::Deleted);
  CHECK(*by_key["default/a"]->obj == *ds[1].kept.object());
  CHECK(object_key(*by_key["default/a"]->obj) == "default/a");
  CHECK(by_key["default/b"]->type == Delta::Type::Added);
  CHECK(s.size() == 1);
}

TEST_CASE("an informer with retain hands whole new objects to handlers and the kept part as old",
          "[kubeclient][informer]") {
  auto c = std::make_shared<FakeClient>();
  int lists = 0;
  c->responder = [&](const Request&) -> ApiResult<json::value> {
    if (++lists == 1) return list_of({labelled_pod("p0", 1), labelled_pod("p1", 2)}, 2);
    return list_of({labelled_pod("p0", 10, "n2")}, 50);  // after 410: p1 is gone
  };
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods"}, .retain = retain_metadata({"app"})});
  Mirror m;
  std::mutex mu;
  std::vector<std::string> seen;  // "<op> <key> old-spec=<bool> new-spec=<bool>"
  auto has_spec = [](const ObjectPtr& o) { return o && o->as_object().contains("spec"); };
  inf.add_handler(m.handler());
  inf.add_handler({
      .on_add = [&](const ObjectPtr& o) {
        std::lock_guard lk(mu);
        seen.push_back("add " + object_key(*o) + " new-spec=" + std::to_string(has_spec(o)));
      },
      .on_update = [&](const ObjectPtr& old, const ObjectPtr& o) {
        std::lock_guard lk(mu);
        seen.push_back("update " + object_key(*o) + " old-spec=" + std::to_string(has_spec(old)) +
                       " new-spec=" + std::to_string(has_spec(o)) + " old-label=" +
                       std::string(old->at("metadata").at("labels").at("app").as_string()));
      },
      .on_delete = [&](const ObjectPtr& o) {
        std::lock_guard lk(mu);
        seen.push_back("delete " + object_key(*o) + " rv=" + resource_version(*o));
      },
  });
  inf.start();
  c->run();
  REQUIRE(inf.wait_for_sync(5s));
  auto w = c->open_watch();
  c->emit(w, {WatchEventType::Modified, labelled_pod("p0", 10, "n2")});
  c->end(w, ApiError(410, "Gone", "too old resource version: 10 (30)"));
  REQUIRE(lists == 2);
  REQUIRE(eventually([&] { return m.deletes == 1 && m.updates == 1; }));
  CHECK(m.error.empty());
  std::lock_guard lk(mu);
  CHECK(seen == std::vector<std::string>{"add default/p0 new-spec=1", "add default/p1 new-spec=1",
                                         "update default/p0 old-spec=0 new-spec=1 old-label=web",
                                         "delete default/p1 rv=2"});
  CHECK_FALSE(inf.store().get("default/p0")->as_object().contains("spec"));
  inf.stop();
}

TEST_CASE("with retain, a queue overflow resyncs handlers to each changed object's whole latest state",
          "[kubeclient][informer]") {
  auto c = std::make_shared<FakeClient>();
  c->responder = [](const Request&) -> ApiResult<json::value> {
    std::vector<json::value> items;
    for (int i = 0; i < 20; ++i) items.push_back(labelled_pod("p" + std::to_string(i), i + 1));
    return list_of(items, 20);
  };
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods"}, .queue_capacity = 4,
                   .retain = retain_metadata({})});
  Mirror m;
  Gate gate;
  std::mutex mu;
  std::map<std::string, std::string> nodes;  // what the handlers were told of spec.nodeName
  bool stub_seen = false;
  auto record = [&](const ObjectPtr& o) {
    std::lock_guard lk(mu);
    if (!o->as_object().contains("spec")) stub_seen = true;
    else nodes[object_key(*o)] = std::string(o->at("spec").at("nodeName").as_string());
  };
  inf.add_handler(m.handler([&gate] { gate.wait(); }));
  inf.add_handler({.on_add = record,
                   .on_update = [&](const ObjectPtr&, const ObjectPtr& o) { record(o); },
                   .on_delete = [&](const ObjectPtr& o) { std::lock_guard lk(mu); nodes.erase(object_key(*o)); }});
  inf.start();
  c->run();  // 20 adds overflow the queue of 4
  auto w = c->open_watch();
  int rv = 100;
  for (int i = 0; i < 20; i += 2) c->emit(w, {WatchEventType::Modified, labelled_pod("p" + std::to_string(i), ++rv, "n2")});
  for (int i = 1; i < 20; i += 4) c->emit(w, {WatchEventType::Deleted, labelled_pod("p" + std::to_string(i), ++rv)});
  c->emit(w, {WatchEventType::Modified, labelled_pod("p0", ++rv, "n3")});
  gate.open();
  REQUIRE(inf.wait_for_sync(5s));
  REQUIRE(eventually([&] { std::lock_guard lk(m.mu); return m.objs.size() == 15; }));
  CHECK(m.error.empty());
  CHECK(inf.stats().overflows >= 1);
  CHECK(m.resyncs >= 1);
  std::lock_guard lk(mu);
  CHECK_FALSE(stub_seen);
  REQUIRE(nodes.size() == 15);
  CHECK(nodes["default/p0"] == "n3");
  CHECK(nodes["default/p2"] == "n2");
  CHECK(nodes["default/p3"] == "n1");
  CHECK_FALSE(nodes.count("default/p1"));
  // The handlers' view matches the cache's resourceVersions.
  for (auto& [k, o] : inf.store().snapshot()) CHECK(m.objs[k] == resource_version(*o));
  inf.stop();
}
