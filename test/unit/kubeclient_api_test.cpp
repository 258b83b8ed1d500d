#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <boost/json/parse.hpp>

#include "agent/kube/client/api_error.h"
#include "agent/kube/client/client.h"
#include "agent/kube/client/credentials.h"
#include "agent/kube/client/rest_client.h"
#include "agent/kube/client/rest_config.h"

using namespace knode;
using namespace knode::kube;
namespace json = boost::json;

TEST_CASE("Status bodies become typed errors", "[kubeclient][status]") {
  auto e = api_error_from_response(404, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
      "message":"pods \"web\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404})");
  CHECK(e.code() == 404);
  CHECK(e.is_not_found());
  CHECK_FALSE(e.is_conflict());
  CHECK(e.message() == "pods \"web\" not found");
  CHECK(e.to_string() == "code 404 NotFound: pods \"web\" not found");

  auto c = api_error_from_response(409, R"({"kind":"Status","reason":"Conflict","code":409,
      "message":"Operation cannot be fulfilled on pods \"web\": the object has been modified"})");
  CHECK(c.is_conflict());
  auto ae = api_error_from_response(409, R"({"kind":"Status","reason":"AlreadyExists","code":409,"message":"exists"})");
  CHECK(ae.is_already_exists());
  CHECK_FALSE(ae.is_conflict());

  auto g = api_error_from_response(410, R"J({"kind":"Status","reason":"Expired","code":410,"message":"too old resource version: 1 (50)"})J");
  CHECK(g.is_gone());
  auto t = api_error_from_response(429, R"({"kind":"Status","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}})");
  CHECK(t.is_too_many_requests());
  CHECK(t.retry_after_seconds() == 3);
}

TEST_CASE("a Status inside a watch ERROR event takes its code from the body", "[kubeclient][status]") {
  auto v = json::parse(R"J({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 5 (100)","reason":"Expired","code":410})J");
  auto e = api_error_from_status(0, v);
  CHECK(e.code() == 410);
  CHECK(e.is_gone());
}

TEST_CASE("non-Status error bodies are summarised, reason from the code", "[kubeclient][status]") {
  auto e = api_error_from_response(503, "upstream connect error or disconnect/reset before headers\n");
  CHECK(e.reason() == "ServiceUnavailable");
  CHECK(e.message() == "upstream connect error or disconnect/reset before headers");
  auto big = api_error_from_response(500, std::string(1000, 'x'));
  CHECK(big.message().size() == 259);
  auto tr = ApiError::transport("dial tcp 127.0.0.1:1: Connection refused");
  CHECK(tr.is_transport());
  CHECK(tr.to_string() == "transport: dial tcp 127.0.0.1:1: Connection refused");
  ApiResult<int> r = tr;
  auto rr = std::move(r).to_result();
  CHECK_FALSE(rr.ok());
}

TEST_CASE("retry_on_conflict retries conflicts only", "[kubeclient][status]") {
  int calls = 0;
  auto r = retry_on_conflict([&]() -> ApiResult<int> {
    if (++calls < 3) return ApiError(409, "Conflict", "modified");
    return 7;
  });
  CHECK(r.ok());
  CHECK(calls == 3);
  calls = 0;
  auto nf = retry_on_conflict([&]() -> ApiResult<int> {
    ++calls;
    return ApiError(404, "NotFound", "gone");
  });
  CHECK(calls == 1);
  CHECK(nf.error().is_not_found());
  calls = 0;
  auto always = retry_on_conflict([&]() -> ApiResult<int> {
    ++calls;
    return ApiError(409, "Conflict", "modified");
  });
  CHECK(calls == 5);
  CHECK(always.error().is_conflict());
}

TEST_CASE("paths, queries and options are encoded as upstream does", "[kubeclient][request]") {
  CHECK(resource_path("v1", "pods", "default", "web", "status") == "/api/v1/namespaces/default/pods/web/status");
  CHECK(resource_path("v1", "nodes", "", "n1") == "/api/v1/nodes/n1");
  CHECK(resource_path("coordination.k8s.io/v1", "leases", "kube-node-lease") ==
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases");
  CHECK(encode_query({{"fieldSelector", "spec.nodeName=node1"}, {"labelSelector", "app in (a,b)"}}) ==
        "fieldSelector=spec.nodeName%3Dnode1&labelSelector=app+in+%28a%2Cb%29");
  auto d = json::parse(to_json(DeleteOptions{.grace_period_seconds = 0, .precondition_uid = "u1",
                                             .precondition_resource_version = "42"}));
  CHECK(d.at("gracePeriodSeconds") == 0);
  CHECK(d.at("preconditions").at("uid") == "u1");
  CHECK(d.at("preconditions").at("resourceVersion") == "42");
  CHECK(content_type(PatchType::StrategicMerge) == "application/strategic-merge-patch+json");
  CHECK(content_type(PatchType::Json) == "application/json-patch+json");
  CHECK(content_type(PatchType::Merge) == "application/merge-patch+json");
}

TEST_CASE("server URLs are parsed with defaults and prefixes", "[kubeclient][request]") {
  auto u = parse_server_url("https://10.0.0.1:6443");
  REQUIRE(u.ok());
  CHECK(u->tls);
  CHECK(u->host == "10.0.0.1");
  CHECK(u->port == "6443");
  CHECK(u->prefix.empty());
  u = parse_server_url("http://localhost/k8s/clusters/c-1/");
  REQUIRE(u.ok());
  CHECK_FALSE(u->tls);
  CHECK(u->port == "80");
  CHECK(u->prefix == "/k8s/clusters/c-1");
  u = parse_server_url("https://[fd00::1]:6443");
  REQUIRE(u.ok());
  CHECK(u->host == "fd00::1");
  CHECK(u->host_port() == "[fd00::1]:6443");
  CHECK_FALSE(parse_server_url("ftp://x").ok());
  CHECK_FALSE(parse_server_url("https://x:abc").ok());
}

TEST_CASE("the user agent follows upstream's shape", "[kubeclient][request]") {
  CHECK(default_user_agent("kubelet") == "kubelet/v1.32.0 (linux/amd64) knode/0.1.0");
}

TEST_CASE("make_rest_client rejects bad TLS material with a clear message", "[kubeclient][request]") {
  auto c = make_rest_client(RestConfig{.server = "https://127.0.0.1:1", .ca_pem = "not a pem"});
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.error().message(), Catch::Contains("certificate authority"));
  auto d = make_rest_client(RestConfig{.server = "https://127.0.0.1:1", .client_cert_file = "/nonexistent/c.crt"});
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.error().message(), Catch::Contains("/nonexistent/c.crt"));
}

TEST_CASE("a connection refused is a transport error, not a hang", "[kubeclient][request]") {
  auto c = make_rest_client(RestConfig{.server = "http://127.0.0.1:1", .timeout = std::chrono::milliseconds(2000)});
  REQUIRE(c.ok());
  auto r = (*c)->get("/api/v1/pods");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().is_transport());
  CHECK_THAT(r.error().message(), Catch::Contains("127.0.0.1:1"));
}

// ---- credentials ----

namespace {
std::string temp_dir() {
  char tmpl[] = "/tmp/kubeclient-test-XXXXXX";
  return mkdtemp(tmpl);
}
void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}
}  // namespace

TEST_CASE("a token file is re-read when it changes", "[kubeclient][auth]") {
  auto dir = temp_dir();
  auto path = dir + "/token";
  write_file(path, "first\n");
  TokenFile tf(path);
  CHECK(*tf.token() == "first");
  // Replaced atomically (new inode), as kubelet's projected tokens are.
  write_file(dir + "/token.new", "second-token");
  REQUIRE(::rename((dir + "/token.new").c_str(), path.c_str()) == 0);
  CHECK(*tf.token() == "second-token");
  // Rewritten in place with a different size.
  write_file(path, "third-token-longer");
  CHECK(*tf.token() == "third-token-longer");
  // A missing file keeps the last good token.
  ::unlink(path.c_str());
  CHECK(*tf.token() == "third-token-longer");
  TokenFile missing(dir + "/nope");
  CHECK_FALSE(missing.token().ok());
}

TEST_CASE("ExecCredential output is parsed and validated", "[kubeclient][auth]") {
  auto c = parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
      "status":{"token":"abc","expirationTimestamp":"2030-01-02T03:04:05Z"}})", "client.authentication.k8s.io/v1");
  REQUIRE(c.ok());
  CHECK(c->token == "abc");
  REQUIRE(c->expiration);
  CHECK(std::chrono::system_clock::to_time_t(*c->expiration) == 1893553445);
  auto wrong = parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}})",
                                     "client.authentication.k8s.io/v1");
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.error().message(), Catch::Contains("v1beta1"));
  CHECK_FALSE(parse_exec_credential(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})",
                                    "client.authentication.k8s.io/v1").ok());
  CHECK_FALSE(parse_exec_credential("not json", "client.authentication.k8s.io/v1").ok());
  auto t = parse_rfc3339("2030-01-02T05:04:05.5+02:00");
  REQUIRE(t.ok());
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count() == 1893553445500);
}

TEST_CASE("exec plugins run with KUBERNETES_EXEC_INFO and are cached until expiry", "[kubeclient][auth]") {
  auto dir = temp_dir();
  auto script = dir + "/plugin.sh";
  auto counter = dir + "/runs";
  write_file(script, "#!/bin/sh\necho run >> " + counter + "\n"
             "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 3;; esac\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
             "\"status\":{\"token\":\"%s-%s\",\"expirationTimestamp\":\"%s\"}}' \"$PREFIX\" \"$1\" \"$EXP\"\n");
  ::chmod(script.c_str(), 0755);
  ExecConfig ex{.command = script, .args = {"arg1"}, .env = {{"PREFIX", "tok"}, {"EXP", "2099-01-01T00:00:00Z"}}};
  ExecCredentialProvider p(ex, exec_info_json(ex, "https://x", "", "", false));
  auto c1 = p.get();
  REQUIRE(c1.ok());
  CHECK(c1->token == "tok-arg1");
  auto c2 = p.get();
  CHECK(p.runs() == 1);
  p.invalidate();
  REQUIRE(p.get().ok());
  CHECK(p.runs() == 2);
  // An expired credential is fetched again.
  ExecConfig ex2 = ex;
  ex2.env = {{"PREFIX", "t"}, {"EXP", "2000-01-01T00:00:00Z"}};
  ExecCredentialProvider p2(ex2, exec_info_json(ex2, "https://x", "", "", false));
  REQUIRE(p2.get().ok());
  REQUIRE(p2.get().ok());
  CHECK(p2.runs() == 2);
}

TEST_CASE("a failing or hanging exec plugin is an error naming the command", "[kubeclient][auth]") {
  auto r = run_exec_plugin(ExecConfig{.command = "/bin/false"}, "{}");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("/bin/false") && Catch::Contains("exit status 1"));
  auto slow = run_exec_plugin(ExecConfig{.command = "/bin/sleep", .args = {"5"}, .timeout = std::chrono::milliseconds(200)}, "{}");
  REQUIRE_FALSE(slow.ok());
  CHECK_THAT(slow.error().message(), Catch::Contains("timed out"));
  auto missing = run_exec_plugin(ExecConfig{.command = "/nonexistent/plugin"}, "{}");
  REQUIRE_FALSE(missing.ok());
  auto info = json::parse(exec_info_json(ExecConfig{.provide_cluster_info = true}, "https://h:6443", "PEM", "", false));
  CHECK(info.at("spec").at("cluster").at("server") == "https://h:6443");
  CHECK(info.at("spec").at("cluster").at("certificate-authority-data") == "UEVN");
}
