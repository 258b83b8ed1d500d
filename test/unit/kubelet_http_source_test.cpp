// staticPodURL: decoding a Pod or a PodList, and the source against a real HTTP server on 127.0.0.1.
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include "agent/kubelet/http_source.h"
#include "agent/kubelet/static_pods.h"
#include "loopback_http_server.h"

using namespace knode;
using namespace knode::kubelet;

namespace {

const char* kPodYaml = R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: app, image: knode.local/busybox:1.36}]
)";

const char* kListJson = R"({"apiVersion":"v1","kind":"PodList","items":[
 {"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"knode.local/busybox:1.36"}]}},
 {"metadata":{"name":"b","namespace":"kube-system"},"spec":{"containers":[{"name":"c","image":"knode.local/busybox:1.36"}]}}]})";

// Serves the pods document the test sets (status and body) on 127.0.0.1.
struct PodServer {
  std::mutex mu;
  int status = 200;
  std::string body;
  knode::testing::LoopbackHttpServer http{[this](const std::string&) {
    std::lock_guard lock(mu);
    return knode::testing::LoopbackHttpServer::reply(status, body);
  }};
  void set(int s, std::string b) {
    std::lock_guard lock(mu);
    status = s;
    body = std::move(b);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http.port()) + "/pods"; }
  std::string last_request() const { return http.requests().back(); }
  size_t hits() const { return http.requests().size(); }
};

struct Deliveries {
  std::mutex mu;
  std::vector<std::vector<kube::Pod>> sets;
  void add(std::vector<kube::Pod> p) {
    std::lock_guard lock(mu);
    sets.push_back(std::move(p));
  }
  size_t size() {
    std::lock_guard lock(mu);
    return sets.size();
  }
};

}  // namespace

TEST_CASE("http source: a Pod or a PodList, named and UIDed like static pods", "[kubelet][http_source]") {
  auto one = decode_http_pods(kPodYaml, "http://h/p", "Node-1", "t0");
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  const kube::Pod& p = one->front();
  CHECK(p.metadata.name == "web-node-1");
  CHECK(p.metadata.namespace_ == "default");
  CHECK(p.spec.node_name == "Node-1");
  CHECK(p.metadata.annotations.at("kubernetes.io/config.source") == "http");
  CHECK(p.metadata.annotations.at("kubernetes.io/config.hash") == p.metadata.uid);
  CHECK(p.metadata.uid.size() == 32);
  CHECK(p.spec.tolerations.empty());  // only file pods get the NoExecute toleration
  // The UID depends on the URL, and differs from the same manifest read from a file.
  auto other_url = decode_http_pods(kPodYaml, "http://h/q", "Node-1", "t0");
  CHECK(other_url->front().metadata.uid != p.metadata.uid);
  auto file = load_static_pod(kPodYaml, "http://h/p", "Node-1", "t0");
  CHECK(file->metadata.uid != p.metadata.uid);
  CHECK(decode_http_pods(kPodYaml, "http://h/p", "Node-1", "t1")->front().metadata.uid == p.metadata.uid);

  auto list = decode_http_pods(kListJson, "http://h/p", "n", "t0");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].metadata.name == "a-n");
  CHECK((*list)[1].metadata.namespace_ == "kube-system");
  CHECK((*list)[0].metadata.uid != (*list)[1].metadata.uid);

  auto empty_list = decode_http_pods("apiVersion: v1\nkind: PodList\nitems: []\n", "http://h/p", "n", "t0");
  REQUIRE(empty_list.ok());
  CHECK(empty_list->empty());
}

TEST_CASE("http source: bodies that are not a valid Pod or PodList are refused whole", "[kubelet][http_source]") {
  auto bad = [](const std::string& body) {
    auto r = decode_http_pods(body, "http://h/p", "n", "t0");
    REQUIRE_FALSE(r.ok());
    return r.error().message();
  };
  CHECK(bad("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n") ==
        "couldn't parse as pod or pod list: kind \"Service\" (want Pod or PodList)");
  CHECK(bad("{not json").find("couldn't parse as pod or pod list") == 0);
  CHECK(bad("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n").find("invalid pod: ") == 0);
  // One bad item spoils the list (upstream keeps the previous pods).
  std::string list = R"({"apiVersion":"v1","kind":"PodList","items":[
    {"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}]}},
    {"metadata":{"name":"b"},"spec":{"containers":[{"name":"c"}]}}]})";
  CHECK(bad(list).find("invalid pod: ") == 0);
  std::string dup = R"({"apiVersion":"v1","kind":"PodList","items":[
    {"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}]}},
    {"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"j"}]}}]})";
  CHECK(bad(dup) == "invalid pod list: pod default/a-n appears twice");
}

TEST_CASE("http source: fetches, sends the headers, keeps the last good pods on errors", "[kubelet][http_source]") {
  PodServer server;
  server.set(200, kPodYaml);
  Deliveries got;
  HttpPodSource src({.url = server.url(), .headers = {{"X-Token", {"abc"}}, {"X-Multi", {"1", "2"}}}, .node_name = "n"},
                    [&](std::vector<kube::Pod> p) { got.add(std::move(p)); });
  REQUIRE(src.fetch().ok());
  REQUIRE(got.size() == 1);
  CHECK(got.sets[0].size() == 1);
  std::string seen = got.sets[0][0].metadata.annotations.at("kubernetes.io/config.seen");
  std::string request = server.last_request();
  CHECK(request.rfind("GET /pods HTTP/1.1\r\n", 0) == 0);
  CHECK(request.find("\r\nX-Token: abc\r\n") != std::string::npos);
  CHECK(request.find("\r\nX-Multi: 1\r\nX-Multi: 2\r\n") != std::string::npos);
  // Unchanged body: nothing delivered.
  REQUIRE(src.fetch().ok());
  CHECK(got.size() == 1);

  // Errors keep the last good pods (no delivery) and say what went wrong, with the URL.
  server.set(500, "boom");
  Status st = src.fetch();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == server.url() + ": HTTP status 500");
  server.set(200, "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n");
  st = src.fetch();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().rfind(server.url() + ": invalid pod: ", 0) == 0);
  CHECK(got.size() == 1);

  // A PodList replaces the set; the pod that stays keeps its first-seen time.
  server.set(200, std::string(R"({"apiVersion":"v1","kind":"PodList","items":[)") +
                      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"app","image":"knode.local/busybox:1.36"}]}},)" +
                      R"({"metadata":{"name":"two"},"spec":{"containers":[{"name":"c","image":"knode.local/busybox:1.36"}]}}]})");
  REQUIRE(src.fetch().ok());
  REQUIRE(got.size() == 2);
  REQUIRE(got.sets[1].size() == 2);
  CHECK(got.sets[1][0].metadata.uid == got.sets[0][0].metadata.uid);
  CHECK(got.sets[1][0].metadata.annotations.at("kubernetes.io/config.seen") == seen);

  // An empty body is an empty set (and reported).
  server.set(200, "");
  st = src.fetch();
  CHECK(st.message() == "zero-length data received from " + server.url());
  REQUIRE(got.size() == 3);
  CHECK(got.sets[2].empty());
}

TEST_CASE("http source: refetches every httpCheckFrequency; a server that is down is an error", "[kubelet][http_source]") {
  int closed_port;
  {
    PodServer gone;
    closed_port = gone.http.port();
  }
  std::string down_url = "http://127.0.0.1:" + std::to_string(closed_port) + "/x";
  HttpPodSource down({.url = down_url, .node_name = "n"}, [](std::vector<kube::Pod>) { FAIL("delivered"); });
  Status st = down.fetch();
  CHECK(st.message() == "Get \"" + down_url + "\": dial tcp 127.0.0.1:" + std::to_string(closed_port) +
                            ": connect: connection refused");
  HttpPodSource bad_url({.url = "ftp://x/y", .node_name = "n"}, [](std::vector<kube::Pod>) {});
  CHECK(bad_url.fetch().message() == "staticPodURL \"ftp://x/y\": unsupported protocol scheme \"ftp\"");

  PodServer server;
  server.set(200, kPodYaml);
  Deliveries got;
  HttpPodSource src({.url = server.url(), .node_name = "n", .check_period = std::chrono::milliseconds(100)},
                    [&](std::vector<kube::Pod> p) { got.add(std::move(p)); });
  src.start();
  for (int i = 0; i < 50 && got.size() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(got.size() == 1);
  server.set(200, kListJson);
  for (int i = 0; i < 50 && got.size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  src.stop();
  REQUIRE(got.size() == 2);
  CHECK(got.sets[1].size() == 2);
  CHECK(server.hits() >= 2);
}
