// Reflector and informer against the API server double (and a local server for garbage streams):
// 10 000 pods, a restart of the server mid-watch, history compaction (410), undecodable events.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <map>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "agent/kube/client/informer.h"
#include "agent/kube/client/rest_client.h"
#include "test/integration/kubeclient_double.h"

using namespace knode;
using namespace knode::kube;
using namespace knode::kube::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::value pod_manifest(const std::string& ns, const std::string& name, const std::string& node = "node1") {
  return json::value{{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", "bulk"}}}}},
                     {"spec", {{"nodeName", node}, {"containers", json::array{{{"name", "c"}, {"image", "busybox"}}}}}}};
}

std::shared_ptr<Client> client_for(const RestConfig& cfg) {
  auto c = make_rest_client(cfg);
  REQUIRE(c.ok());
  return *c;
}

// Creates pods with `parallel` requests in flight; returns the resourceVersions the server assigned.
std::vector<std::string> create_pods(Client& c, const std::string& ns, const std::string& prefix, int from, int to,
                                     int parallel = 16, const std::function<std::string(int)>& node = {},
                                     bool tolerate_failures = false) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0, failed = 0;
  std::vector<std::string> rvs;
  std::string last_error;
  for (int i = from; i < to; ++i) {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return in_flight < parallel; });
    ++in_flight;
    lk.unlock();
    auto body = json::serialize(pod_manifest(ns, prefix + std::to_string(i), node ? node(i) : "node1"));
    c.call_async({.method = "POST", .path = resource_path("v1", "pods", ns), .body = body},
                 [&](ApiResult<json::value> r) {
      std::lock_guard lk2(mu);
      --in_flight;
      if (r.ok()) rvs.emplace_back(r->at("metadata").at("resourceVersion").as_string());
      else {
        ++failed;
        last_error = r.error().to_string();
      }
      cv.notify_all();
    });
  }
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return in_flight == 0; });
  INFO(last_error);
  if (!tolerate_failures) CHECK(failed == 0);
  return rvs;
}

// Records every change handed to the handlers.
struct Recorder {
  std::mutex mu;
  std::map<std::string, int> adds;           // key -> times added
  std::map<std::string, std::string> view;   // key -> rv
  std::vector<uint64_t> event_rvs;           // rvs of changes after sync, in delivery order
  std::atomic<int> deletes{0}, updates{0}, resyncs{0};
  std::string errors;
  bool synced = false;
  EventHandler handler() {
    return {
        .on_add = [this](const ObjectPtr& o) {
          std::lock_guard lk(mu);
          auto k = object_key(*o);
          if (view.count(k)) errors += "add of present " + k + "; ";
          ++adds[k];
          view[k] = resource_version(*o);
          if (synced) event_rvs.push_back(std::stoull(resource_version(*o)));
        },
        .on_update = [this](const ObjectPtr& old, const ObjectPtr& o) {
          std::lock_guard lk(mu);
          auto k = object_key(*o);
          if (view[k] != resource_version(*old)) errors += "stale old for " + k + "; ";
          view[k] = resource_version(*o);
          ++updates;
          if (synced) event_rvs.push_back(std::stoull(resource_version(*o)));
        },
        .on_delete = [this](const ObjectPtr& o) {
          std::lock_guard lk(mu);
          auto k = object_key(*o);
          if (!view.erase(k)) errors += "delete of absent " + k + "; ";
          ++deletes;
        },
        .on_resync = [this] { ++resyncs; },
    };
  }
  size_t size() {
    std::lock_guard lk(mu);
    return view.size();
  }
};

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

// The server's current objects as key -> rv.
std::map<std::string, std::string> server_view(Client& c, const std::string& path, Query q = {}) {
  std::map<std::string, std::string> out;
  auto l = c.list(path, q);
  REQUIRE(l.ok());
  for (auto& i : l->at("items").as_array()) out[object_key(i)] = resource_version(i);
  return out;
}

std::map<std::string, std::string> store_view(const Store& s) {
  std::map<std::string, std::string> out;
  for (auto& o : s.list()) out[object_key(*o)] = resource_version(*o);
  return out;
}

#define NEED_DOUBLE()                                                                            \
  if (!double_available()) {                                                                     \
    WARN("skipped: test/apiserver/apiserver.py (the API server double) does not exist yet");     \
    return;                                                                                      \
  }

void control(Client& c, const std::string& method, const std::string& name, const std::string& body) {
  auto r = c.call({.method = method, .path = "/_control/" + name, .body = body});
  INFO(name << ": " << (r.ok() ? "" : r.error().to_string()));
  REQUIRE(r.ok());
}

}  // namespace

TEST_CASE("list+watch of 10 000 pods through an informer", "[kubeclient][integration][informer]") {
  NEED_DOUBLE();
  Double d;
  std::string why;
  REQUIRE(d.start(&why));
  auto c = client_for(d.admin_config());
  // A watcher from the start sees all creations as events; selectors split the nodes.
  Informer live(c, {.reflector = {.name = "pods-live", .path = "/api/v1/namespaces/bulk/pods"}});
  Recorder live_rec;
  live.add_handler(live_rec.handler());
  Informer node2(c, {.reflector = {.name = "pods-node2", .path = "/api/v1/pods", .field_selector = "spec.nodeName=node2"}});
  Recorder node2_rec;
  node2.add_handler(node2_rec.handler());
  REQUIRE(c->create("/api/v1/namespaces", json::value{{"metadata", {{"name", "bulk"}}}}).ok());
  live.start();
  node2.start();
  REQUIRE(live.wait_for_sync(30s));
  REQUIRE(node2.wait_for_sync(30s));
  const int n = 10000;
  auto t0 = std::chrono::steady_clock::now();
  auto rvs = create_pods(*c, "bulk", "pod-", 0, n, 16, [](int i) { return i % 4 == 0 ? "node2" : "node1"; });
  double create_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(rvs.size() == n);
  REQUIRE(eventually([&] { return live_rec.size() == n; }, 120s));
  REQUIRE(eventually([&] { return node2_rec.size() == n / 4; }, 60s));
  WARN("created " << n << " pods in " << create_s << " s (" << n / create_s << "/s through the double)");
  CHECK(live_rec.errors.empty());
  CHECK(node2_rec.errors.empty());
  for (auto& [k, times] : live_rec.adds) REQUIRE(times == 1);
  CHECK(live.reflector().stats().lists == 1);

  // A fresh informer lists all 10 000 in pages of 500.
  Informer late(c, {.reflector = {.name = "pods-late", .path = "/api/v1/namespaces/bulk/pods"}});
  Recorder late_rec;
  late.add_handler(late_rec.handler());
  auto t1 = std::chrono::steady_clock::now();
  late.start();
  REQUIRE(late.wait_for_sync(120s));
  double list_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  WARN("initial list of " << n << " pods: " << list_s << " s, " << late.reflector().stats().list_pages << " pages");
  CHECK(late_rec.size() == n);
  CHECK(late.reflector().stats().list_pages == n / 500);  // 20 full pages
  CHECK(store_view(late.store()) == server_view(*c, "/api/v1/namespaces/bulk/pods"));
  CHECK(late.store().by_index("namespace", "bulk").empty());  // no indexer registered
  live.stop();
  node2.stop();
  late.stop();
}

TEST_CASE("the API server restarts mid-watch: no event missed or duplicated", "[kubeclient][integration][informer]") {
  NEED_DOUBLE();
  Double d;
  std::string why;
  REQUIRE(d.start(&why));
  auto c = client_for(d.admin_config());
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/namespaces/default/pods",
                                 .backoff = {.initial = 200ms, .cap = 2000ms}}});
  Recorder rec;
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  {
    std::lock_guard lk(rec.mu);
    rec.synced = true;
  }

  // Writers create pods for the whole test (four in parallel, so creates are in flight when the
  // double is stopped) and retry each create until the server answers: a create refused or cut off
  // by the restart is sent again, and AlreadyExists means an earlier attempt was stored (its reply
  // was lost).
  const int n = 600, writers = 4;
  std::atomic<int> written{0}, retries{0}, already{0};
  std::atomic<bool> give_up{false};
  std::mutex wmu;
  std::string writer_error;
  std::vector<std::string> acked_rvs;  // rvs from successful creates
  auto write = [&](int first) {
    for (int i = first; i < n && !give_up; i += writers) {
      auto body = pod_manifest("default", "pod-" + std::to_string(i));
      while (!give_up) {
        auto r = c->create(resource_path("v1", "pods", "default"), body);
        if (r.ok()) {
          std::lock_guard lk(wmu);
          acked_rvs.emplace_back(r->at("metadata").at("resourceVersion").as_string());
          break;
        }
        if (r.error().is_already_exists()) {
          ++already;
          break;
        }
        if (r.error().code() != 0 && r.error().code() != 503 && r.error().code() != 500) {
          std::lock_guard lk(wmu);
          writer_error = r.error().to_string();
          give_up = true;
          break;
        }
        ++retries;
        std::this_thread::sleep_for(20ms);
      }
      ++written;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) threads.emplace_back(write, t);
  struct JoinOnExit {  // a failed REQUIRE below must not leave the writers running
    std::vector<std::thread>& threads;
    std::atomic<bool>& stop;
    void join() {
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
    ~JoinOnExit() {
      stop = true;
      join();
    }
  } join_on_exit{threads, give_up};
  auto wait_written = [&](int k) { return eventually([&] { return written >= k || give_up; }, 120s); };

  // Kill (SIGTERM) and restart the double on the same state dir three times while writes stream in.
  const int restarts = 3;
  for (int r = 1; r <= restarts; ++r) {
    REQUIRE(wait_written(r * n / (restarts + 1)));
    d.stop(SIGTERM);
    std::this_thread::sleep_for(300ms);  // writes fail meanwhile; the writers and the watch retry
    bool started = d.start(&why);
    if (!started) give_up = true;
    INFO("restart " << r << ": " << why);
    REQUIRE(started);
  }
  join_on_exit.join();
  INFO("writer: " << writer_error);
  REQUIRE_FALSE(give_up);
  REQUIRE(written == n);
  WARN(restarts << " restarts under load: " << retries.load() << " create attempts retried, " << already.load()
                << " found already stored");

  auto expected = server_view(*c, "/api/v1/namespaces/default/pods");
  // Every acknowledged create is on the restarted server: nothing it streamed or answered was lost.
  REQUIRE(expected.size() == static_cast<size_t>(n));
  bool converged = eventually([&] { return store_view(inf.store()) == expected; }, 60s);
  {
    auto st = inf.reflector().stats();
    INFO("store " << inf.store().size() << " server " << expected.size() << " lists " << st.lists << " watches "
                  << st.watches << " events " << st.events << " gone " << st.gone << " errors " << st.watch_errors
                  << " last error " << st.last_error << " rv " << inf.reflector().last_sync_resource_version());
    std::string missing;
    auto have = store_view(inf.store());
    for (auto& [k, rv] : expected)
      if (!have.count(k) || have[k] != rv) missing += k + "@" + rv + " ";
    INFO("missing or stale: " << missing);
    std::string extra;
    for (auto& [k, rv] : have)
      if (!expected.count(k)) extra += k + "@" + rv + " ";
    INFO("extra (seen by the watch, unknown to the restarted server): " << extra);
    REQUIRE(converged);
  }
  REQUIRE(eventually([&] { std::lock_guard lk(rec.mu); return rec.view == expected; }, 30s));
  std::lock_guard lk(rec.mu);
  CHECK(rec.errors.empty());
  CHECK(rec.adds.size() == static_cast<size_t>(n));
  for (auto& [k, times] : rec.adds) CHECK(times == 1);
  CHECK(rec.updates == 0);
  CHECK(rec.deletes == 0);
  // Every creation arrived as one watch event, exactly once, in increasing resourceVersion order.
  std::set<uint64_t> uniq(rec.event_rvs.begin(), rec.event_rvs.end());
  CHECK(uniq.size() == rec.event_rvs.size());
  CHECK(rec.event_rvs.size() == expected.size());
  CHECK(std::is_sorted(rec.event_rvs.begin(), rec.event_rvs.end()));
  for (auto& [k, rv] : expected) CHECK(uniq.count(std::stoull(rv)) == 1);
  for (auto& rv : acked_rvs) CHECK(uniq.count(std::stoull(rv)) == 1);
  auto stats = inf.reflector().stats();
  CHECK(stats.lists == 1);  // resumed from the last resourceVersion each time, no relist
  CHECK(stats.watch_errors >= restarts);
  inf.stop();
}

TEST_CASE("history compaction while disconnected: 410, relist, deletions delivered", "[kubeclient][integration][informer]") {
  NEED_DOUBLE();
  Double d;
  std::string why;
  REQUIRE(d.start(&why));
  auto c = client_for(d.admin_config());
  REQUIRE(c->create("/api/v1/namespaces", json::value{{"metadata", {{"name", "hist"}}}}).ok());
  create_pods(*c, "hist", "p-", 0, 20, 4);
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/namespaces/hist/pods",
                                 .backoff = {.initial = 1500ms, .cap = 3000ms, .jitter = 0}}});
  Recorder rec;
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  REQUIRE(rec.size() == 20);
  // The next watch attempt fails, so the reflector is away while the history is compacted.
  control(*c, "POST", "faults", R"({"pathPrefix":"/api/v1/namespaces/hist/pods","watch":true,"code":500,"count":1})");
  control(*c, "POST", "drop-watches", R"({"hard":false})");
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 5; ++i) REQUIRE(c->remove(resource_path("v1", "pods", "hist", "p-" + std::to_string(i)), {.grace_period_seconds = 0}).ok());
  REQUIRE(c->patch(resource_path("v1", "pods", "hist", "p-10"), PatchType::Merge, R"({"metadata":{"labels":{"changed":"yes"}}})").ok());
  create_pods(*c, "hist", "new-", 0, 3, 1);
  control(*c, "POST", "history", R"({"window":0})");
  auto expected = server_view(*c, "/api/v1/namespaces/hist/pods");
  REQUIRE(expected.size() == 18);
  REQUIRE(eventually([&] { std::lock_guard lk(rec.mu); return rec.view == expected; }, 30s));
  CHECK(rec.deletes == 5);
  CHECK(rec.errors.empty());
  auto stats = inf.reflector().stats();
  CHECK(stats.gone >= 1);
  CHECK(stats.lists >= 2);
  CHECK(store_view(inf.store()) == expected);
  inf.stop();
}

TEST_CASE("garbage in a watch stream: error names the object, the watch restarts", "[kubeclient][integration][informer]") {
  // The double cannot corrupt its own streams; a local server plays the API server.
  std::atomic<int> watches{0};
  auto ev = [](const std::string& type, const std::string& name, int rv) {
    return R"({"type":")" + type + R"(","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":")" + name +
           R"(","namespace":"default","resourceVersion":")" + std::to_string(rv) + R"("}}})" "\n";
  };
  LocalHttpServer srv([&](const std::string&, const std::string& target, LocalHttpServer::Responder& r) {
    if (target.find("watch=true") == std::string::npos) {
      r.json(200, R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[)"
                  R"({"metadata":{"name":"a","namespace":"default","resourceVersion":"9"}}]})");
      return;
    }
    int n = ++watches;
    r.start_chunked();
    if (n == 1) {
      r.chunk(ev("ADDED", "b", 11));
      // Half an event, then a broken one: the decoder sees `{"type":"MODIFIED","object":{"kind":"Pod",...` cut.
      r.chunk(R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"broken","namespace":"default","resourceV)");
      r.chunk("ersion\":\"12\"},\"spec\":{]}}\n");
      r.chunk(ev("ADDED", "never", 13));
      r.hold();
      return;
    }
    r.chunk(ev("MODIFIED", "broken-fixed", 12));
    r.chunk(ev("ADDED", "c", 14));
    r.hold();
  });
  auto c = client_for({.server = srv.url(), .qps = -1});
  std::vector<std::string> logged;
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods", .backoff = {.initial = 100ms}}});
  Recorder rec;
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(inf.wait_for_sync(10s));
  REQUIRE(eventually([&] { return inf.store().get("default/c") != nullptr; }, 10s));
  auto stats = inf.reflector().stats();
  CHECK(stats.watch_errors == 1);
  CHECK_THAT(stats.last_error, Catch::Contains("cannot decode watch event for Pod default/broken"));
  CHECK(inf.store().get("default/b"));
  CHECK_FALSE(inf.store().get("default/never"));  // it came after the garbage on the dropped stream
  // The second watch resumed from the last good event.
  auto targets = srv.targets();
  REQUIRE(targets.size() >= 3);
  CHECK_THAT(targets[2], Catch::Contains("resourceVersion=11"));
  CHECK_THAT(targets[1], Catch::Contains("allowWatchBookmarks=true"));
  CHECK(stats.lists == 1);
  inf.stop();
}

TEST_CASE("an HTTP error on the watch and a server that vanishes are survived", "[kubeclient][integration][informer]") {
  std::atomic<int> watches{0};
  LocalHttpServer srv([&](const std::string&, const std::string& target, LocalHttpServer::Responder& r) {
    if (target.find("watch=true") == std::string::npos) {
      r.json(200, R"({"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[]})");
      return;
    }
    int n = ++watches;
    if (n == 1) {
      r.json(500, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"boom","reason":"InternalError","code":500})");
      return;
    }
    if (n == 2) {
      // Dies mid-chunk.
      r.start_chunked();
      r.send("40\r\n{\"type\":\"ADD");
      ::shutdown(r.fd, SHUT_RDWR);
      return;
    }
    r.start_chunked();
    r.chunk(R"({"type":"ADDED","object":{"metadata":{"name":"x","namespace":"d","resourceVersion":"6"}}})" "\n");
    r.hold();
  });
  auto c = client_for({.server = srv.url(), .qps = -1});
  Informer inf(c, {.reflector = {.name = "pods", .path = "/api/v1/pods", .backoff = {.initial = 50ms, .jitter = 0}}});
  inf.start();
  REQUIRE(eventually([&] { return inf.store().get("d/x") != nullptr; }, 10s));
  auto stats = inf.reflector().stats();
  CHECK(stats.watch_errors == 2);
  CHECK(stats.lists == 1);
  inf.stop();
}
