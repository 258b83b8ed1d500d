// Container probes (upstream's prober manager and workers): liveness, readiness and startup probes
// with exec (CRI ExecSync), httpGet (HTTP/1.1 GET to the pod IP, plain or HTTPS; 200-399 is success),
// tcpSocket (connect) and grpc (grpc.health.v1.Health/Check). One scheduler thread keeps a timer per probe and hands due probes to a few runner
// threads, so 110 pods cost a handful of threads. Results follow upstream's thresholds:
// readiness starts false, liveness starts true, startup starts false and holds the other two back.
// A result change wakes the pod's worker (on_change), which reads the results through
// ContainerHealth when it computes actions (liveness → restart) and status (readiness → Ready).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/kube/pod.h"
#include "agent/kubelet/pod_syncer.h"
#include "cri/runtime.h"

namespace knode::kubelet {

enum class ProbeType { Liveness, Readiness, Startup };

// One probe run. Returns success, and a message for the log on failure.
struct ProbeOutcome {
  bool success = false;
  std::string message;
};
// httpGet: scheme HTTP or HTTPS (TLS without certificate verification, as upstream).
ProbeOutcome run_http_probe(const std::string& host, int port, const std::string& path,
                            const std::vector<kube::HTTPHeader>& headers, std::chrono::milliseconds timeout,
                            const std::string& scheme = "HTTP");
// grpc: grpc.health.v1.Health/Check over plaintext; SERVING is success. The messages are upstream's.
ProbeOutcome run_grpc_probe(const std::string& host, int port, const std::string& service,
                            std::chrono::milliseconds timeout);
ProbeOutcome run_tcp_probe(const std::string& host, int port, std::chrono::milliseconds timeout);
// A named port resolved from the container's ports; 0 if unknown.
int resolve_port(const kube::IntOrString& port, const kube::Container& c);

class ProbeManager final : public ContainerHealth {
 public:
  ProbeManager(cri::Runtime& runtime, std::function<void(const std::string& uid)> on_change, int runners = 2);
  ~ProbeManager() override;
  void start();
  void stop();

  void results(const std::string& uid, StatusInputs& status, ActionInputs& actions) override;
  void update(const kube::Pod& pod, const PodRuntimeStatus& rs) override;
  void remove(const std::string& uid) override;

 private:
  struct Probe {
    std::string uid;
    std::string container;
    ProbeType type;
    kube::Probe spec;
    kube::Container container_spec;
    std::string container_id;  // the running container probed; "" when none
    std::string pod_ip;
    bool result = false;
    int successes = 0;
    int failures = 0;
    bool running = false;  // a runner holds it
    std::chrono::steady_clock::time_point due;
    uint64_t generation = 0;
  };
  using Key = std::string;  // uid/container/type
  void scheduler();
  void runner();
  ProbeOutcome execute(const Probe& p);
  bool started_locked(const std::string& uid, const std::string& container) const;

  cri::Runtime& rt_;
  std::function<void(const std::string&)> on_change_;
  int runner_count_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable work_cv_;
  std::map<Key, Probe> probes_;
  std::vector<Key> due_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace knode::kubelet
