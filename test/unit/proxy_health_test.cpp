#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "agent/proxy/health.h"
#include "agent/proxy/http_server.h"
#include "agent/proxy/service_health.h"
#include "proxy_test_objects.h"

using namespace knode;
using namespace knode::proxy;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

std::string http_get(int port, const std::string& path, const char* ip = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

}  // namespace

TEST_CASE("healthz: healthy until a queued change is older than the timeout", "[proxy][health]") {
  FakeClock clock;
  ProxierHealth h(clock, 60s);
  // Starting up with nothing queued: healthy.
  CHECK(h.is_healthy());
  CHECK(h.healthz().status == 200);

  h.queued_update();
  clock.advance(59s);
  CHECK(h.healthz().status == 200);
  clock.advance(1s);
  CHECK_FALSE(h.is_healthy());
  auto r = h.healthz();
  CHECK(r.status == 503);
  CHECK(r.content_type == "application/json");
  // Unhealthy before any update: lastUpdated is the zero time.
  CHECK(contains(r.body, R"("lastUpdated": "0001-01-01 00:00:00 +0000 UTC")"));
  CHECK(contains(r.body, R"("nodeEligible": true)"));
  CHECK(h.livez().status == 503);

  // An update makes it healthy; a newer queue does not reset the oldest pending time.
  h.updated();
  CHECK(h.healthz().status == 200);
  h.queued_update();
  clock.advance(40s);
  h.queued_update();
  clock.advance(30s);
  CHECK(h.healthz().status == 503);
  CHECK(contains(h.healthz().body, R"("lastUpdated": "2026-01-01 00:01:00 +0000 UTC")"));
  CHECK(contains(h.healthz().body, R"("currentTime": "2026-01-01 00:02:10 +0000 UTC")"));
  h.updated();
  r = h.healthz();
  CHECK(r.status == 200);
  // Healthy: lastUpdated reads as now, as upstream.
  CHECK(contains(r.body, R"({"lastUpdated": "2026-01-01 00:02:10 +0000 UTC","currentTime": "2026-01-01 00:02:10 +0000 UTC", "nodeEligible": true})"));
}

TEST_CASE("healthz: a node being deleted is not eligible; livez ignores it", "[proxy][health]") {
  FakeClock clock;
  ProxierHealth h(clock, 60s);
  auto n = testing::make_node("n1", "192.168.1.10");
  h.sync_node(&n);
  CHECK(h.healthz().status == 200);
  n.spec.taints.push_back({.key = "ToBeDeletedByClusterAutoscaler", .effect = "NoSchedule"});
  h.sync_node(&n);
  CHECK(h.healthz().status == 503);
  CHECK(contains(h.healthz().body, R"("nodeEligible": false)"));
  CHECK(h.livez().status == 200);
  n.spec.taints.clear();
  n.metadata.deletion_timestamp = "2026-01-01T00:00:00Z";
  h.sync_node(&n);
  CHECK(h.healthz().status == 503);
  n.metadata.deletion_timestamp.reset();
  h.sync_node(&n);
  CHECK(h.healthz().status == 200);
}

TEST_CASE("go_time_string prints Go's time.Time form", "[proxy][health]") {
  WallTime t = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 20h + 38min + 23s + 120ms;
  CHECK(go_time_string(t) == "2026-11-27 20:38:23.12 +0000 UTC");
}

TEST_CASE("service health check JSON and status", "[proxy][health]") {
  auto r = service_health_response("default", "web", 2, true);
  CHECK(r.status == 200);
  CHECK(r.body ==
        "{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"web\"\n\t},\n\t\"localEndpoints\": 2,\n"
        "\t\"serviceProxyHealthy\": true\n}");
  CHECK(service_health_response("default", "web", 0, true).status == 503);
  auto unhealthy = service_health_response("default", "web", 3, false);
  CHECK(unhealthy.status == 503);
  CHECK(std::find(unhealthy.headers.begin(), unhealthy.headers.end(),
                  std::pair<std::string, std::string>{"X-Load-Balancing-Endpoint-Weight", "3"}) != unhealthy.headers.end());
}

// A port nothing listens on now (bound briefly on every address, then released).
int free_port() {
  HttpServer probe;
  auto id = probe.listen("0.0.0.0:0", [](const HttpRequest&) { return HttpResponse{}; });
  REQUIRE(id.ok());
  int port = probe.port(*id);
  probe.close(*id);
  return port;
}

TEST_CASE("HttpServer answers GET requests on an ephemeral port", "[proxy][http]") {
  HttpServer s;
  auto id = s.listen("127.0.0.1:0", [](const HttpRequest& r) {
    return HttpResponse{r.path == "/ok" ? 200 : 404, "text/plain", "path=" + r.path + " q=" + r.query, {{"X-A", "b"}}};
  });
  REQUIRE(id.ok());
  int port = s.port(*id);
  REQUIRE(port > 0);
  s.start();
  auto resp = http_get(port, "/ok?x=1");
  CHECK(resp.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(contains(resp, "X-A: b\r\n"));
  CHECK(contains(resp, "path=/ok q=x=1"));
  CHECK(contains(http_get(port, "/nope"), "404"));
  s.close(*id);
  CHECK(http_get(port, "/ok").empty());
  s.stop();
}

TEST_CASE("ServiceHealthServer opens, answers and closes health check ports", "[proxy][health]") {
  FakeClock clock;
  ProxierHealth h(clock, 60s);
  ServiceHealthServer shs(h, [] { return Result<std::optional<std::vector<std::string>>>(std::vector<std::string>{"127.0.0.1"}); });
  int port = free_port();

  NamespacedName nsn{"default", "web"};
  shs.sync_services({{nsn, port}});
  auto resp = http_get(port, "/");
  CHECK(contains(resp, "503"));
  CHECK(contains(resp, "\"localEndpoints\": 0"));
  shs.sync_endpoints({{nsn, 2}});
  resp = http_get(port, "/");
  CHECK(contains(resp, "HTTP/1.1 200"));
  CHECK(contains(resp, "\"localEndpoints\": 2"));
  CHECK(contains(resp, "\"serviceProxyHealthy\": true"));
  shs.sync_services({});
  CHECK(http_get(port, "/").empty());
}

TEST_CASE("ServiceHealthServer listens on the nodePortAddresses IPs only, or everywhere", "[proxy][health]") {
  FakeClock clock;
  ProxierHealth h(clock, 60s);
  NamespacedName nsn{"default", "web"};
  using Addresses = Result<std::optional<std::vector<std::string>>>;

  SECTION("unset: one wildcard listener answers on every local address") {
    ServiceHealthServer shs(h);
    int port = free_port();
    shs.sync_services({{nsn, port}});
    CHECK(shs.listening(nsn) == std::vector<std::string>{":" + std::to_string(port)});
    CHECK(contains(http_get(port, "/", "127.0.0.1"), "\"localEndpoints\": 0"));
    CHECK(contains(http_get(port, "/", "127.0.0.2"), "\"localEndpoints\": 0"));
  }
  SECTION("set: one listener per matching IP, other local addresses refuse") {
    ServiceHealthServer shs(h, [] { return Addresses(std::vector<std::string>{"127.0.0.2", "127.0.0.3"}); });
    int port = free_port();
    shs.sync_services({{nsn, port}});
    auto p = std::to_string(port);
    CHECK(shs.listening(nsn) == std::vector<std::string>{"127.0.0.2:" + p, "127.0.0.3:" + p});
    CHECK(contains(http_get(port, "/", "127.0.0.2"), "HTTP/1.1 503"));
    CHECK(contains(http_get(port, "/", "127.0.0.3"), "HTTP/1.1 503"));
    CHECK(http_get(port, "/", "127.0.0.1").empty());
    shs.sync_services({});
    CHECK(http_get(port, "/", "127.0.0.2").empty());
    CHECK(http_get(port, "/", "127.0.0.3").empty());
  }
  SECTION("set but nothing matches: no listener at all") {
    ServiceHealthServer shs(h, [] { return Addresses(std::vector<std::string>{}); });
    int port = free_port();
    shs.sync_services({{nsn, port}});
    CHECK(shs.listening(nsn).empty());
    CHECK(http_get(port, "/", "127.0.0.1").empty());
  }
  SECTION("a port taken on one address: none stay open, retried on the next sync") {
    int port = free_port();
    HttpServer other;
    auto taken = other.listen("127.0.0.3:" + std::to_string(port), [](const HttpRequest&) { return HttpResponse{}; });
    REQUIRE(taken.ok());
    std::vector<std::string> failures;  // what the proxy turns into FailedToStartServiceHealthcheck events
    ServiceHealthServer shs(
        h, [] { return Addresses(std::vector<std::string>{"127.0.0.2", "127.0.0.3"}); },
        [&failures](const NamespacedName& n, int p, const std::string& error) {
          failures.push_back(n.str() + " " + std::to_string(p) + " " + error);
        });
    shs.sync_services({{nsn, port}});
    CHECK(shs.listening(nsn).empty());
    CHECK(http_get(port, "/", "127.0.0.2").empty());  // the first address was closed again
    REQUIRE(failures.size() == 1);
    CHECK(contains(failures[0], "default/web " + std::to_string(port) + " "));
    CHECK(contains(failures[0], "127.0.0.3"));
    other.close(*taken);
    shs.sync_endpoints({{nsn, 1}});
    CHECK(shs.listening(nsn).size() == 2);
    CHECK(contains(http_get(port, "/", "127.0.0.2"), "HTTP/1.1 200"));
  }
  SECTION("addresses not known yet: opened by a later sync") {
    bool known = false;
    ServiceHealthServer shs(h, [&known]() -> Addresses {
      if (!known) return Error("nodePortAddresses primary: this node has no IP of this family yet");
      return std::optional<std::vector<std::string>>(std::vector<std::string>{"127.0.0.2"});
    });
    int port = free_port();
    shs.sync_services({{nsn, port}});
    CHECK(shs.listening(nsn).empty());
    known = true;
    shs.sync_endpoints({});
    CHECK(shs.listening(nsn) == std::vector<std::string>{"127.0.0.2:" + std::to_string(port)});
  }
}

TEST_CASE("join_host_port brackets IPv6", "[proxy][http]") {
  CHECK(join_host_port("10.0.0.1", 80) == "10.0.0.1:80");
  CHECK(join_host_port("fd00::1", 10256) == "[fd00::1]:10256");
  CHECK(join_host_port("", 30000) == ":30000");
  auto back = split_host_port(join_host_port("fd00::1", 10256));
  REQUIRE(back.ok());
  CHECK(back->first == "fd00::1");
  CHECK(back->second == 10256);
}
