// The API client against the API server double: CRUD, errors, auth sources, TLS, rate limits, metrics.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <prometheus/registry.h>

#include "agent/kube/client/client.h"
#include "agent/kube/client/rest_client.h"
#include "test/integration/kubeclient_double.h"

using namespace knode;
using namespace knode::kube;
using namespace knode::kube::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {
Double* shared_double() {
  static std::unique_ptr<Double> d;
  static bool tried = false;
  if (!tried) {
    tried = true;
    if (!double_available()) return nullptr;
    d = std::make_unique<Double>();
    std::string why;
    if (!d->start(&why)) FAIL("starting the API server double: " << why);
  }
  return d.get();
}
#define NEED_DOUBLE(d)                                                                          \
  Double* d = shared_double();                                                                  \
  if (!d) {                                                                                     \
    WARN("skipped: test/apiserver/apiserver.py (the API server double) does not exist yet");   \
    return;                                                                                     \
  }

json::value pod_manifest(const std::string& name, const std::string& node = "node1") {
  return json::value{{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "it"}}}}},
                     {"spec", {{"nodeName", node}, {"containers", json::array{{{"name", "c"}, {"image", "busybox"}}}}}}};
}
std::shared_ptr<Client> client_for(const RestConfig& cfg, prometheus::Registry* reg = nullptr) {
  auto c = make_rest_client(cfg, {.registry = reg});
  REQUIRE(c.ok());
  return *c;
}
}  // namespace

TEST_CASE("create, get, update with conflicts, patch, status and delete", "[kubeclient][integration]") {
  NEED_DOUBLE(d);
  auto c = client_for(d->admin_config());
  auto pods = resource_path("v1", "pods", "default");
  auto path = resource_path("v1", "pods", "default", "crud-1");
  (void)c->remove(path, {.grace_period_seconds = 0});

  auto created = c->create(pods, pod_manifest("crud-1"));
  REQUIRE(created.ok());
  std::string rv1 = std::string(created->at("metadata").at("resourceVersion").as_string());
  std::string uid = std::string(created->at("metadata").at("uid").as_string());

  auto dup = c->create(pods, pod_manifest("crud-1"));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().is_already_exists());
  CHECK(dup.error().code() == 409);

  auto got = c->get(path);
  REQUIRE(got.ok());
  CHECK(got->at("metadata").at("uid").as_string() == uid.c_str());

  // Update from the fresh copy succeeds; a second update from the same (now stale) copy conflicts.
  json::value v = *got;
  v.at("metadata").as_object()["labels"] = json::object{{"app", "it"}, {"step", "1"}};
  auto upd = c->update(path, v);
  REQUIRE(upd.ok());
  auto stale = c->update(path, v);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().is_conflict());
  CHECK_THAT(stale.error().message(), Catch::Contains("modified"));

  // retry_on_conflict: re-read and re-apply until it sticks.
  int attempts = 0;
  auto r = retry_on_conflict([&] {
    ++attempts;
    auto cur = c->get(path);
    if (!cur) return cur;
    json::value o = *cur;
    if (attempts == 1) (void)c->patch(path, PatchType::Merge, R"({"metadata":{"labels":{"racer":"x"}}})");
    o.at("metadata").as_object()["labels"].as_object()["step"] = "2";
    return c->update(path, o);
  });
  REQUIRE(r.ok());
  CHECK(attempts == 2);

  auto mp = c->patch(path, PatchType::Merge, R"({"metadata":{"labels":{"merge":"yes"}}})");
  REQUIRE(mp.ok());
  CHECK(mp->at("metadata").at("labels").at("merge") == "yes");
  auto sp = c->patch(path, PatchType::StrategicMerge, R"({"metadata":{"annotations":{"smp":"yes"}}})");
  REQUIRE(sp.ok());
  CHECK(sp->at("metadata").at("annotations").at("smp") == "yes");
  auto jp = c->patch(path, PatchType::Json, R"([{"op":"add","path":"/metadata/labels/jp","value":"yes"}])");
  REQUIRE(jp.ok());
  CHECK(jp->at("metadata").at("labels").at("jp") == "yes");
  auto bad = c->patch(path, PatchType::Json, R"([{"op":"test","path":"/metadata/labels/jp","value":"no"}])");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() >= 400);

  auto st = c->patch_status(path, PatchType::Merge, R"({"status":{"phase":"Running"}})");
  REQUIRE(st.ok());
  CHECK(st->at("status").at("phase") == "Running");
  auto cur = c->get(path);
  json::value withstatus = *cur;
  withstatus.at("status").as_object()["message"] = "from update_status";
  auto us = c->update_status(path, withstatus);
  REQUIRE(us.ok());
  CHECK(us->at("status").at("message") == "from update_status");

  auto wrong_uid = c->remove(path, {.grace_period_seconds = 0, .precondition_uid = "not-the-uid"});
  REQUIRE_FALSE(wrong_uid.ok());
  CHECK(wrong_uid.error().is_conflict());
  auto del = c->remove(path, {.grace_period_seconds = 0, .precondition_uid = uid});
  REQUIRE(del.ok());
  auto gone = c->get(path);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().is_not_found());
  CHECK(gone.error().reason() == "NotFound");
  auto again = c->remove(path);
  CHECK(again.error().is_not_found());
}

TEST_CASE("list with selectors and pagination", "[kubeclient][integration]") {
  NEED_DOUBLE(d);
  auto c = client_for(d->admin_config());
  auto pods = resource_path("v1", "pods", "default");
  for (int i = 0; i < 7; ++i) {
    auto r = c->create(pods, pod_manifest("sel-" + std::to_string(i), i % 2 ? "node2" : "node1"));
    REQUIRE((r.ok() || r.error().is_already_exists()));
  }
  auto l = c->list(pods, {{"fieldSelector", "spec.nodeName=node2"}, {"labelSelector", "app=it"}});
  REQUIRE(l.ok());
  size_t node2 = 0;
  for (auto& p : l->at("items").as_array()) {
    CHECK(p.at("spec").at("nodeName") == "node2");
    ++node2;
  }
  CHECK(node2 >= 3);
  auto page = c->list(pods, {{"limit", "2"}});
  REQUIRE(page.ok());
  CHECK(page->at("items").as_array().size() == 2);
  CHECK_FALSE(page->at("metadata").at("continue").as_string().empty());
}

TEST_CASE("a replaced token file is used by the next request", "[kubeclient][integration][auth]") {
  NEED_DOUBLE(d);
  auto token = d->proxy_token();
  REQUIRE_FALSE(token.empty());
  auto tf = d->dir() + "/token";
  write_text(tf, "not-a-valid-token\n");
  RestConfig cfg{.server = d->server(), .ca_file = d->state_dir() + "/ca.crt", .bearer_token_file = tf};
  auto c = client_for(cfg);
  auto r1 = c->get("/api/v1/namespaces/default/pods");
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.error().is_unauthorized());
  write_text(tf + ".new", token + "\n");
  REQUIRE(::rename((tf + ".new").c_str(), tf.c_str()) == 0);
  auto r2 = c->get("/api/v1/namespaces/default/pods");
  CHECK(r2.ok());
  // And back: a revoked token is noticed at once too.
  write_text(tf, "revoked");
  CHECK(c->get("/api/v1/namespaces/default/pods").error().is_unauthorized());
}

TEST_CASE("a static bearer token authenticates", "[kubeclient][integration][auth]") {
  NEED_DOUBLE(d);
  auto c = client_for({.server = d->server(), .ca_file = d->state_dir() + "/ca.crt", .bearer_token = d->proxy_token()});
  CHECK(c->get("/api/v1/namespaces/default/pods").ok());
  auto anon = client_for({.server = d->server(), .ca_file = d->state_dir() + "/ca.crt"});
  auto r = anon->get("/api/v1/namespaces/default/pods");
  REQUIRE_FALSE(r.ok());
  CHECK((r.error().is_forbidden() || r.error().is_unauthorized()));
}

TEST_CASE("an exec plugin's token is used, cached, and refreshed after a 401", "[kubeclient][integration][auth]") {
  NEED_DOUBLE(d);
  auto dir = d->dir();
  write_text(dir + "/good-token", d->proxy_token());
  auto runs = dir + "/plugin-runs";
  ::unlink(runs.c_str());
  // The first run hands out a bad token; later runs the real one.
  write_text(dir + "/plugin.sh",
             "#!/bin/sh\n"
             "echo x >> " + runs + "\n"
             "n=$(wc -l < " + runs + ")\n"
             "if [ \"$n\" -eq 1 ]; then tok=bad; else tok=$(cat " + dir + "/good-token); fi\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$tok\"\n");
  ::chmod((dir + "/plugin.sh").c_str(), 0755);
  RestConfig cfg{.server = d->server(), .ca_file = d->state_dir() + "/ca.crt", .has_exec = true,
                 .exec = {.command = dir + "/plugin.sh"}};
  auto c = client_for(cfg);
  REQUIRE(c->get("/api/v1/namespaces/default/pods").ok());
  REQUIRE(c->get("/api/v1/namespaces/default/pods").ok());
  auto lines = read_text(runs);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 2);
}

TEST_CASE("TLS: wrong CA and wrong server name fail with a clear verification error", "[kubeclient][integration][tls]") {
  NEED_DOUBLE(d);
  auto dir = d->dir();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca -keyout " + dir +
                    "/other.key -out " + dir + "/other-ca.crt >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto cfg = d->admin_config();
  cfg.ca_file = dir + "/other-ca.crt";
  auto r = client_for(cfg)->get("/api/v1/namespaces/default/pods");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().is_transport());
  CHECK_THAT(r.error().message(), Catch::Contains("certificate verify failed") &&
                                        (Catch::Contains("unable to get local issuer certificate") || Catch::Contains("self-signed certificate in certificate chain")));

  auto named = d->admin_config();
  named.tls_server_name = "wrong.example.com";
  auto r2 = client_for(named)->get("/api/v1/namespaces/default/pods");
  REQUIRE_FALSE(r2.ok());
  CHECK_THAT(r2.error().message(), Catch::Contains("hostname mismatch") && Catch::Contains("wrong.example.com"));

  auto good_name = d->admin_config();
  good_name.tls_server_name = "kubernetes.default";
  CHECK(client_for(good_name)->get("/api/v1/namespaces/default/pods").ok());

  auto insecure = d->admin_config();
  insecure.ca_file = dir + "/other-ca.crt";
  insecure.insecure_skip_tls_verify = true;
  CHECK(client_for(insecure)->get("/api/v1/namespaces/default/pods").ok());
}

TEST_CASE("QPS/burst limiting spaces requests out", "[kubeclient][integration][ratelimit]") {
  NEED_DOUBLE(d);
  auto cfg = d->admin_config();
  cfg.qps = 20;
  cfg.burst = 5;
  auto c = client_for(cfg);
  const int n = 25;
  auto start = std::chrono::steady_clock::now();
  std::atomic<int> done{0}, ok{0};
  for (int i = 0; i < n; ++i)
    c->call_async({.path = "/api/v1/namespaces/default/pods", .query = {{"limit", "1"}}}, [&](ApiResult<json::value> r) {
      ok += r.ok();
      ++done;
    });
  while (done < n) std::this_thread::sleep_for(1ms);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(ok == n);
  INFO("elapsed " << secs << " s");
  CHECK(secs >= (n - 5) / 20.0 - 0.01);
  CHECK(secs < 3.0);
}

TEST_CASE("rest_client metrics count requests by code, method and host", "[kubeclient][integration][metrics]") {
  NEED_DOUBLE(d);
  prometheus::Registry reg;
  auto c = client_for(d->admin_config(), &reg);
  REQUIRE(c->get("/api/v1/namespaces/default/pods").ok());
  REQUIRE_FALSE(c->get("/api/v1/namespaces/default/pods/does-not-exist").ok());
  double ok200 = 0, nf404 = 0;
  uint64_t observed = 0;
  for (auto& fam : reg.Collect()) {
    for (auto& m : fam.metric) {
      std::map<std::string, std::string> labels;
      for (auto& l : m.label) labels[l.name] = l.value;
      if (fam.name == "rest_client_requests_total") {
        CHECK(labels["host"] == "127.0.0.1:" + std::to_string(d->port()));
        CHECK(labels["method"] == "GET");
        if (labels["code"] == "200") ok200 = m.counter.value;
        if (labels["code"] == "404") nf404 = m.counter.value;
      }
      if (fam.name == "rest_client_request_duration_seconds" && labels["verb"] == "GET")
        observed = m.histogram.sample_count;
    }
  }
  CHECK(ok200 == 1);
  CHECK(nf404 == 1);
  CHECK(observed == 2);
}

TEST_CASE("many sequential requests over keep-alive, and sync calls from another thread", "[kubeclient][integration]") {
  NEED_DOUBLE(d);
  auto c = client_for(d->admin_config());
  for (int i = 0; i < 50; ++i) REQUIRE(c->get("/api/v1/namespaces/default/pods", {{"limit", "1"}}).ok());
  // The user agent and the sync wrapper from another thread.
  std::thread t([&] { CHECK(c->get("/version").ok()); });
  t.join();
}
