#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/proxy/health.h"
#include "agent/proxy/http_server.h"
#include "agent/proxy/service_health.h"
#include "proxy_test_objects.h"

using namespace knode;
using namespace knode::proxy;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

std::string http_get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
  CHECK(service_health_response("default", "web", 3, false).status == 503);
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
  ServiceHealthServer shs(h, "127.0.0.1");
  // Find a free port by binding one briefly.
  HttpServer probe;
  auto pid = probe.listen("127.0.0.1:0", [](const HttpRequest&) { return HttpResponse{}; });
  REQUIRE(pid.ok());
  int port = probe.port(*pid);
  probe.close(*pid);

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
