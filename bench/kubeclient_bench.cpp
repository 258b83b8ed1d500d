// API client benchmarks (prints numbers):
//   1. decoding a 10 000-pod list (~50 MB of JSON, generated here): parse MB/s, the store fill, peak RSS;
//   2. watch throughput through client → decoder → reflector → store → handler thread, against a
//      local HTTP server streaming pre-generated events.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "agent/kube/client/informer.h"
#include "agent/kube/client/rest_client.h"
#include "agent/kube/client/store.h"
#include "agent/kube/client/watch_decoder.h"
#include "test/integration/kubeclient_double.h"

using namespace knode;
using namespace knode::kube;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

long current_rss_kib() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

// A pod shaped like what a busy node sees: labels, annotations, two containers with env, probes,
// volumes, and a status with conditions (~5 KB of JSON).
std::string pod_json(int i, int rv) {
  std::string n = std::to_string(i);
  std::string env;
  for (int e = 0; e < 12; ++e)
    env += std::string(e ? "," : "") + R"({"name":"ENV_VAR_NUMBER_)" + std::to_string(e) + R"(","value":"some-configuration-value-)" + n + "-" + std::to_string(e) + R"("})";
  std::string container = R"({"name":"app","image":"registry.example.com/team/app:v1.2.3","command":["/bin/app","--config=/etc/app/config.yaml","--verbose"],)"
      R"("ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"name":"metrics","containerPort":9090,"protocol":"TCP"}],)"
      R"("env":[)" + env + R"(],"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"1","memory":"512Mi"}},)"
      R"("volumeMounts":[{"name":"config","mountPath":"/etc/app"},{"name":"kube-api-access-abcde","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],)"
      R"("livenessProbe":{"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"initialDelaySeconds":10,"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},)"
      R"("readinessProbe":{"httpGet":{"path":"/ready","port":8080,"scheme":"HTTP"},"periodSeconds":5,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},)"
      R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"})";
  std::string sidecar = container;
  sidecar.replace(sidecar.find("\"app\""), 5, "\"sidecar\"");
  return R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"app-)" + n + R"(-7d9f8b6c5d-x2k4z","generateName":"app-)" + n +
         R"(-7d9f8b6c5d-","namespace":"ns-)" + std::to_string(i % 50) + R"(","uid":"3f0c7a2e-5b1d-4c8e-9f6a-)" + std::to_string(100000000000 + i) +
         R"(","resourceVersion":")" + std::to_string(rv) + R"(","creationTimestamp":"2024-05-01T10:00:00Z",)"
         R"("labels":{"app":"app-)" + n + R"(","pod-template-hash":"7d9f8b6c5d","tier":"backend","team":"payments"},)"
         R"("annotations":{"kubectl.kubernetes.io/restartedAt":"2024-05-01T09:59:00Z","prometheus.io/scrape":"true","prometheus.io/port":"9090"},)"
         R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"app-)" + n + R"(-7d9f8b6c5d","uid":"8a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d","controller":true,"blockOwnerDeletion":true}]},)"
         R"("spec":{"volumes":[{"name":"config","configMap":{"name":"app-config","defaultMode":420}},{"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}],"defaultMode":420}}],)"
         R"("containers":[)" + container + "," + sidecar + R"(],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
         R"("serviceAccountName":"default","nodeName":"node-)" + std::to_string(i % 100) + R"(","securityContext":{},"schedulerName":"default-scheduler",)"
         R"("tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},)"
         R"("status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:01Z"},{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:05Z"},{"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:05Z"},{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:00Z"}],)"
         R"("hostIP":"10.0.)" + std::to_string(i % 100) + R"(.1","podIP":"10.244.)" + std::to_string(i % 250) + "." + std::to_string(i % 250) + R"(","podIPs":[{"ip":"10.244.0.1"}],"startTime":"2024-05-01T10:00:00Z",)"
         R"("containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2024-05-01T10:00:02Z"}},"lastState":{},"ready":true,"restartCount":0,"image":"registry.example.com/team/app:v1.2.3","imageID":"registry.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","containerID":"containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","started":true}],"qosClass":"Burstable"}})";
}

void bench_list_decode(int n) {
  std::string list = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"99999"},"items":[)";
  for (int i = 0; i < n; ++i) {
    if (i) list += ',';
    list += pod_json(i, 1000 + i);
  }
  list += "]}";
  double mb = static_cast<double>(list.size()) / 1e6;
  long rss0 = current_rss_kib();
  auto t0 = Clock::now();
  json::value v = json::parse(list);
  auto t1 = Clock::now();
  long rss_parsed = current_rss_kib();
  std::vector<ObjectPtr> items;
  for (auto& item : v.at("items").as_array()) items.push_back(std::make_shared<const json::value>(std::move(item)));
  Store store;
  store.add_indexer("namespace", namespace_index);
  store.replace(std::move(items));
  auto t2 = Clock::now();
  v = nullptr;
  std::string().swap(list);
  double parse_s = std::chrono::duration<double>(t1 - t0).count();
  double fill_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("list decode: %d pods, %.1f MB JSON: parse %.3f s = %.0f MB/s (%.0f pods/s); store fill+index %.3f s\n", n, mb,
              parse_s, mb / parse_s, n / parse_s, fill_s);
  std::printf("list decode: RSS before parse %.1f MiB, after parse %.1f MiB (+%.1f MiB for the parsed list), store alone %.1f MiB, peak %.1f MiB\n",
              rss0 / 1024.0, rss_parsed / 1024.0, (rss_parsed - rss0) / 1024.0, current_rss_kib() / 1024.0, peak_rss_kib() / 1024.0);
  // The same bytes through the watch decoder, as ADDED events.
  std::string stream;
  for (int i = 0; i < n; ++i) stream += R"({"type":"ADDED","object":)" + pod_json(i, 1000 + i) + "}\n";
  WatchDecoder dec;
  size_t events = 0;
  auto t3 = Clock::now();
  for (size_t off = 0; off < stream.size(); off += 65536)
    (void)dec.feed(std::string_view(stream).substr(off, 65536), [&](WatchEvent&&) { ++events; });
  auto t4 = Clock::now();
  double ds = std::chrono::duration<double>(t4 - t3).count();
  std::printf("watch decode: %zu events, %.1f MB in 64 KiB chunks: %.3f s = %.0f MB/s, %.0f events/s\n", events,
              stream.size() / 1e6, ds, stream.size() / 1e6 / ds, events / ds);
}

void bench_watch_throughput(int n) {
  // Pre-generate the stream: smaller pods (~1 KB) as a busy endpoint/pod churn would send.
  std::string body;
  for (int i = 0; i < n; ++i) {
    body += R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p-)" + std::to_string(i) +
            R"(","namespace":"default","resourceVersion":")" + std::to_string(10 + i) +
            R"(","labels":{"app":"web","tier":"frontend"}},"spec":{"nodeName":"node1","containers":[{"name":"c","image":"busybox"}]},"status":{"phase":"Running","podIP":"10.0.0.1"}}})"
            "\n";
  }
  std::atomic<bool> served{false};
  knode::kube::testing::LocalHttpServer srv([&](const std::string&, const std::string& target,
                                                knode::kube::testing::LocalHttpServer::Responder& r) {
    if (target.find("watch=true") == std::string::npos) {
      r.json(200, R"({"kind":"PodList","metadata":{"resourceVersion":"9"},"items":[]})");
      return;
    }
    if (served.exchange(true)) {
      r.start_chunked();
      r.hold();
      return;
    }
    r.start_chunked();
    for (size_t off = 0; off < body.size(); off += 32768) r.chunk(body.substr(off, 32768));
    r.hold();
  });
  auto c = make_rest_client(RestConfig{.server = srv.url(), .qps = -1});
  if (!c) {
    std::printf("watch: %s\n", c.error().message().c_str());
    return;
  }
  std::atomic<int> handled{0};
  Informer inf(*c, {.reflector = {.name = "bench", .path = "/api/v1/pods"}, .queue_capacity = static_cast<size_t>(n) + 1});
  inf.add_handler({.on_add = [&](const ObjectPtr&) { ++handled; }});
  auto t0 = Clock::now();
  inf.start();
  while (handled.load() < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("watch throughput: %d events (%.1f MB) server → client → decoder → reflector → store → handler thread: %.3f s = %.0f events/s, %.0f MB/s\n",
              n, body.size() / 1e6, s, n / s, body.size() / 1e6 / s);
  inf.stop();
}

}  // namespace

int main(int argc, char** argv) {
  int pods = argc > 1 ? std::atoi(argv[1]) : 10000;
  int events = argc > 2 ? std::atoi(argv[2]) : 200000;
  bench_list_decode(pods);
  bench_watch_throughput(events);
  return 0;
}
