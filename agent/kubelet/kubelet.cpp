#include "agent/kubelet/kubelet.h"

#include <filesystem>

#include "agent/base/log.h"
#include "agent/kubelet/volumes.h"

namespace knode::kubelet {

bool is_managed_sandbox(const std::map<std::string, std::string>& labels,
                        const std::map<std::string, std::string>& annotations, const std::string& node_name) {
  auto source = annotations.find(std::string(kConfigSourceAnnotation));
  if (source == annotations.end()) return false;
  if (source->second != "file" && source->second != "http") return true;
  auto name = labels.find(std::string(cri::kPodNameLabel));
  std::string suffix = "-" + node_name;
  return name != labels.end() && name->second.size() > suffix.size() &&
         name->second.compare(name->second.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Kubelet::Kubelet(cri::Runtime& runtime, cri::ImageService& images, KubeletSettings settings)
    : settings_(std::move(settings)),
      runtime_(runtime),
      status_(settings_.status_file ? settings_.root_dir + "/pods-status.json" : std::string()),
      network_(runtime, cni_exec_, [this] {
        auto o = settings_.network;
        o.on_change = [this](const NetworkCondition& c) { status_.set_network_condition(c.ready, c.reason, c.error()); };
        return o;
      }()),
      prober_(runtime, [this](const std::string& uid) { workers_.on_runtime_event(uid); }),
      puller_(images, ImagePullerOptions{.serialize = settings_.serialize_image_pulls,
                                         .max_parallel = settings_.max_parallel_image_pulls,
                                         .keyring = [root = settings_.root_dir] { return load_node_keyring(root); }}),
      syncer_(runtime, images, status_, &prober_,
              PodSyncerOptions{.node = settings_.node,
                               .pods_dir = settings_.root_dir + "/pods",
                               .host_ip = settings_.host_ip,
                               .runtime_name = settings_.runtime_name,
                               .runtime_handler = settings_.network.cni ? settings_.network.runtime_handler : "",
                               .puller = &puller_}),
      workers_(syncer_, PodWorkersOptions{.threads = settings_.worker_threads, .resync = settings_.sync_period}),
      pleg_(runtime, [this](const std::string& uid, bool managed) { workers_.on_runtime_event(uid, managed); },
            PlegOptions{.period = settings_.relist_period,
                        .managed = [node = settings_.node_name](const auto& labels, const auto& annotations) {
                          return is_managed_sandbox(labels, annotations, node);
                        }}) {
  std::vector<std::string> names;
  if (!settings_.static_pod_path.empty()) names.push_back("file");
  if (!settings_.static_pod_url.empty()) names.push_back("http");
  sources_ = std::make_unique<PodSourceMerger>(
      names, [this](std::vector<kube::Pod> pods, bool ready) { workers_.set_pods(std::move(pods), ready); },
      [this](const std::set<std::string>& desired) { cleanup_orphaned_pods(desired); });
  if (!settings_.static_pod_path.empty())
    source_ = std::make_unique<StaticPodSource>(
        StaticPodSourceOptions{.path = settings_.static_pod_path,
                               .node_name = settings_.node_name,
                               .check_period = settings_.file_check_period},
        [this](std::vector<kube::Pod> pods) { sources_->update("file", std::move(pods)); });
  if (!settings_.static_pod_url.empty())
    http_source_ = std::make_unique<HttpPodSource>(
        HttpPodSourceOptions{.url = settings_.static_pod_url,
                             .headers = settings_.static_pod_url_header,
                             .node_name = settings_.node_name,
                             .check_period = settings_.http_check_period},
        [this](std::vector<kube::Pod> pods) { sources_->update("http", std::move(pods)); });
}

void Kubelet::cleanup_orphaned_pods(const std::set<std::string>& desired) {
  std::set<std::string> keep = desired;
  auto sandboxes = runtime_.ListPodSandbox(nullptr);
  if (!sandboxes) {
    log::error("Cannot list pod sandboxes; keeping every pod directory", sandboxes.error());
    return;
  }
  for (const auto& sb : *sandboxes) {
    auto it = sb.labels().find(std::string(cri::kPodUidLabel));
    if (it != sb.labels().end()) keep.insert(it->second);
  }
  cleanup_orphaned_pod_dirs(settings_.root_dir + "/pods", keep);
}

Kubelet::~Kubelet() { stop(); }

void Kubelet::start() {
  std::error_code ec;
  std::filesystem::create_directories(settings_.root_dir + "/pods", ec);
  if (ec) log::warning("Cannot create the pods directory", "dir", settings_.root_dir + "/pods", "reason", ec.message());
  status_.start();
  network_.start();
  prober_.start();
  workers_.start();
  if (source_) source_->start();
  if (http_source_) http_source_->start();
  if (!source_ && !http_source_) {
    workers_.set_pods({});
    cleanup_orphaned_pods({});
  }
  pleg_.start();
  started_ = true;
}

void Kubelet::stop() {
  if (!started_) return;
  started_ = false;
  pleg_.stop();
  if (http_source_) http_source_->stop();
  if (source_) source_->stop();
  workers_.stop();
  prober_.stop();
  network_.stop();
  status_.stop();
}

}  // namespace knode::kubelet
