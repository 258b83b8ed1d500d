// The kubelet core without an API server: the static pod source feeding the pod workers, the PLEG
// and the prober waking them, the pod syncer acting through the CRI, the status manager reporting, the network
// manager judging NetworkReady and collecting leaked CNI attachments. It only wires and orders these managers
// (start: status, network, prober, workers, source, PLEG; stop: the reverse) — no logic.
// The role entry (agent/kubelet_role.cpp) builds it from the effective configuration; integration
// tests build it directly.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/kubelet/http_source.h"
#include "agent/kubelet/image_puller.h"
#include "agent/kubelet/network_manager.h"
#include "agent/kubelet/pleg.h"
#include "agent/kubelet/pod_sources.h"
#include "agent/kubelet/pod_syncer.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/prober.h"
#include "agent/kubelet/static_pods.h"
#include "agent/kubelet/status_manager.h"
#include "cni/process_executor.h"
#include "cri/convert.h"
#include "cri/runtime.h"

namespace knode::kubelet {

struct KubeletSettings {
  std::string node_name;
  std::string root_dir = "/var/lib/kubelet";
  std::string static_pod_path;  // "" → no file source
  std::string static_pod_url;   // "" → no http source
  std::map<std::string, std::vector<std::string>> static_pod_url_header;
  std::chrono::milliseconds http_check_period = std::chrono::seconds(20);
  bool serialize_image_pulls = true;    // serializeImagePulls
  int32_t max_parallel_image_pulls = 0;  // maxParallelImagePulls (0: no limit when not serialized)
  std::chrono::milliseconds file_check_period = std::chrono::seconds(20);
  std::chrono::milliseconds sync_period = std::chrono::seconds(60);
  std::chrono::milliseconds relist_period = std::chrono::seconds(1);
  int worker_threads = 4;
  bool status_file = true;  // <root_dir>/pods-status.json
  std::string host_ip;
  std::string runtime_name = "containerd";
  cri::NodeSettings node;
  // Pod network readiness and CNI garbage collection; with network.cni, pods without a
  // runtimeClassName run on network.runtime_handler.
  NetworkManagerOptions network;
};

// Whether a runtime sandbox was made by this node's kubelet, so that an unwanted one may be stopped:
// it carries the kubelet's kubernetes.io/config.source annotation, and a static pod's name ends
// with "-<node>". Sandboxes made by other tools (crictl, test harnesses) or by another node name's
// static pod source are left alone.
bool is_managed_sandbox(const std::map<std::string, std::string>& labels,
                        const std::map<std::string, std::string>& annotations, const std::string& node_name);

class Kubelet {
 public:
  Kubelet(cri::Runtime& runtime, cri::ImageService& images, KubeletSettings settings);
  ~Kubelet();

  void start();
  // Stops the managers; pods keep running (as upstream's kubelet on SIGTERM).
  void stop();

  StatusManager& status() { return status_; }
  PodWorkers& workers() { return workers_; }
  Pleg& pleg() { return pleg_; }
  StaticPodSource* source() { return source_.get(); }
  HttpPodSource* http_source() { return http_source_.get(); }
  NetworkManager& network() { return network_; }

 private:
  KubeletSettings settings_;
  cri::Runtime& runtime_;
  StatusManager status_;
  cni::ProcessExecutor cni_exec_;
  NetworkManager network_;
  ProbeManager prober_;
  ImagePuller puller_;
  PodSyncer syncer_;
  PodWorkers workers_;
  Pleg pleg_;
  // Removes the directories of pods neither desired nor in the runtime (once every source delivered).
  void cleanup_orphaned_pods(const std::set<std::string>& desired);

  std::unique_ptr<PodSourceMerger> sources_;
  std::unique_ptr<StaticPodSource> source_;
  std::unique_ptr<HttpPodSource> http_source_;
  bool started_ = false;
};

}  // namespace knode::kubelet
