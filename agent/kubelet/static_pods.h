// The file source of static pods (upstream's pkg/kubelet/config/file.go + common.go): the manifests
// under staticPodPath (a directory, or one file), one Pod per file, YAML or JSON, dotfiles ignored.
//
//   StaticPodSource src({.path = "/etc/kubernetes/manifests", .node_name = "node-1"},
//                       [&](std::vector<kube::Pod> pods) { workers.set_pods(std::move(pods)); });
//   src.start();   // inotify + a rescan every check_period; the first scan is delivered at once
//
// Every delivery is the complete set (upstream's SET semantics): a pod missing from it is gone.
// A file that cannot be read, decoded or validated is logged once (file and reason) until it
// changes, and contributes no pod; the others are unaffected.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"

namespace knode::kubelet {

inline constexpr std::string_view kConfigSourceAnnotation = "kubernetes.io/config.source";
inline constexpr std::string_view kConfigHashAnnotation = "kubernetes.io/config.hash";
inline constexpr std::string_view kConfigSeenAnnotation = "kubernetes.io/config.seen";

// md5 hex of the decoded, defaulted pod (before renaming) followed by "host:<node>" and
// "file:<path>", as upstream's applyDefaults hashes it: stable across restarts, different per node
// and per file, and a changed manifest gives a new UID (so a change replaces the pod).
std::string static_pod_uid(const kube::Pod& decoded, std::string_view node_name, std::string_view file);

// The same for a pod from staticPodURL: md5 of the decoded, defaulted pod followed by "url:<url>".
std::string http_pod_uid(const kube::Pod& decoded, std::string_view url);

enum class PodOrigin { File, Http };
// What upstream's file and http sources apply to a decoded pod (applyDefaults): API defaults, UID
// (unless set) from the origin's hash, name "<name>-<node>", namespace "default", spec.nodeName,
// annotations config.source=file|http, config.hash=<uid>, config.seen=<seen>, phase Pending, and
// for files the NoExecute toleration; then validation.
Status apply_static_pod_defaults(kube::Pod& pod, PodOrigin origin, std::string_view source,
                                 std::string_view node_name, std::string_view seen);

// Decodes one manifest and applies what upstream's file source applies: UID (unless set), name
// "<name>-<node>", namespace "default", spec.nodeName, annotations config.source=file,
// config.hash=<uid>, config.seen=<seen>, the NoExecute toleration, phase Pending; then validates.
Result<kube::Pod> load_static_pod(std::string_view content, std::string_view file, std::string_view node_name,
                                  std::string_view seen);

struct StaticPodSourceOptions {
  std::string path;                                     // staticPodPath / --pod-manifest-path
  std::string node_name;                                // lower-cased node name
  std::chrono::milliseconds check_period = std::chrono::seconds(20);  // fileCheckFrequency
};

class StaticPodSource {
 public:
  using Handler = std::function<void(std::vector<kube::Pod>)>;
  StaticPodSource(StaticPodSourceOptions options, Handler on_update);
  ~StaticPodSource();
  StaticPodSource(const StaticPodSource&) = delete;
  StaticPodSource& operator=(const StaticPodSource&) = delete;

  // Scans once (delivering the first set) and starts the watch thread.
  void start();
  void stop();
  // One scan now; delivers when the set changed (or on the first scan). Exposed for tests.
  void scan();

 private:
  void run();
  void watch();

  StaticPodSourceOptions opts_;
  Handler on_update_;
  std::mutex mu_;  // serialises scans
  bool delivered_ = false;
  std::map<std::string, std::string> last_;         // uid -> encoded pod, of the last delivery
  std::map<std::string, std::string> seen_;         // uid -> first-seen time
  std::map<std::string, std::string> bad_files_;    // file -> reason already logged
  bool missing_logged_ = false;
  std::atomic<bool> stopping_{false};
  int stop_fd_ = -1;
  int inotify_fd_ = -1;
  int watch_ = -1;
  std::thread thread_;
};

}  // namespace knode::kubelet
