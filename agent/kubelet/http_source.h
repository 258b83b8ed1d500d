// The staticPodURL source (upstream's pkg/kubelet/config/http.go): every httpCheckFrequency the
// kubelet GETs the URL (with staticPodURLHeader) and runs what it describes: one Pod or a PodList,
// YAML or JSON. Pods are named and UIDed as file static pods ("<name>-<node>", md5 of the pod and
// "url:<url>"), annotated kubernetes.io/config.source=http.
//
//   HttpPodSource src({.url = "http://10.0.0.1/pods.yaml", .node_name = "node-1"},
//                     [&](std::vector<kube::Pod> pods) { merger.update("http", std::move(pods)); });
//   src.start();   // the first fetch happens at once, on the source's thread
//
// Every delivery is the complete set. A fetch error (connection, status other than 200) or a body
// that is not a valid Pod/PodList is logged with the URL and the reason and delivers nothing, so the
// last good pods keep running; an empty body delivers an empty set (as upstream). An unchanged body
// delivers nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"

namespace knode::kubelet {

// Decodes a body (a Pod, or a PodList whose every item must be valid) and applies the http
// source's defaults.
Result<std::vector<kube::Pod>> decode_http_pods(std::string_view body, std::string_view url,
                                                std::string_view node_name, std::string_view seen);

struct HttpPodSourceOptions {
  std::string url;                                                 // staticPodURL / --manifest-url
  std::map<std::string, std::vector<std::string>> headers;         // staticPodURLHeader
  std::string node_name;
  std::chrono::milliseconds check_period = std::chrono::seconds(20);  // httpCheckFrequency
  std::chrono::milliseconds timeout = std::chrono::seconds(10);       // upstream's client timeout
};

class HttpPodSource {
 public:
  using Handler = std::function<void(std::vector<kube::Pod>)>;
  HttpPodSource(HttpPodSourceOptions options, Handler on_update);
  ~HttpPodSource();
  HttpPodSource(const HttpPodSource&) = delete;
  HttpPodSource& operator=(const HttpPodSource&) = delete;

  void start();
  void stop();
  // One fetch now: delivers a changed set, or returns why nothing was delivered. Exposed for tests.
  Status fetch();

 private:
  void run();

  HttpPodSourceOptions opts_;
  Handler on_update_;
  std::mutex fetch_mu_;
  std::string last_body_;
  bool delivered_ = false;
  int failures_ = 0;
  std::map<std::string, std::string> seen_;  // uid -> first-seen time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace knode::kubelet
