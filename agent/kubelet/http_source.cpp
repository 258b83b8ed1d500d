#include "agent/kubelet/http_source.h"

#include <set>

#include "agent/base/log.h"
#include "agent/kube/codec.h"
#include "agent/kubelet/http_get.h"
#include "agent/kubelet/static_pods.h"
#include "agent/kubelet/time_format.h"

namespace knode::kubelet {

namespace {

std::string_view string_field(const kube::json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string_view(f->as_string()) : std::string_view();
}

}  // namespace

Result<std::vector<kube::Pod>> decode_http_pods(std::string_view body, std::string_view url,
                                                std::string_view node_name, std::string_view seen) {
  auto doc = kube::parse_document(body);
  if (!doc) return Error("couldn't parse as pod or pod list: " + doc.error().message());
  std::string_view kind = string_field(*doc, "kind");
  std::vector<kube::Pod> pods;
  if (kind == "Pod") {
    auto pod = kube::decode_pod(body, {.require_type_meta = true});
    if (!pod) return Error("couldn't parse as pod: " + pod.error().message());
    pods.push_back(std::move(*pod));
  } else if (kind == "PodList") {
    std::string_view api_version = string_field(*doc, "apiVersion");
    if (api_version != "v1") return Error("PodList: apiVersion \"" + std::string(api_version) + "\" (want v1)");
    const auto* items = doc->as_object().if_contains("items");
    if (items && !items->is_array() && !items->is_null()) return Error("PodList: items: not a list");
    size_t i = 0;
    for (const auto& item : items && items->is_array() ? items->as_array() : kube::json::array()) {
      auto pod = kube::decode_pod_json(kube::to_json_text(item));
      if (!pod) return Error("PodList: items[" + std::to_string(i) + "]: " + pod.error().message());
      pods.push_back(std::move(*pod));
      ++i;
    }
  } else {
    return Error("couldn't parse as pod or pod list: kind \"" + std::string(kind) + "\" (want Pod or PodList)");
  }
  std::set<std::string> names;
  for (auto& pod : pods) {
    if (Status st = apply_static_pod_defaults(pod, PodOrigin::Http, url, node_name, seen); !st.ok())
      return Error("invalid pod: " + st.message());
    if (!names.insert(kube::object_ref(pod.metadata)).second)
      return Error("invalid pod list: pod " + kube::object_ref(pod.metadata) + " appears twice");
  }
  return pods;
}

HttpPodSource::HttpPodSource(HttpPodSourceOptions options, Handler on_update)
    : opts_(std::move(options)), on_update_(std::move(on_update)) {}

HttpPodSource::~HttpPodSource() { stop(); }

void HttpPodSource::start() {
  thread_ = std::thread([this] { run(); });
}

void HttpPodSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status HttpPodSource::fetch() {
  std::lock_guard lock(fetch_mu_);
  auto url = parse_http_url(opts_.url);
  if (!url) return url.error().wrap("staticPodURL \"" + opts_.url + "\"");
  HttpGetRequest req{.url = *url, .timeout = opts_.timeout, .user_agent = "kubelet/v1.32.0 (linux/amd64) knode"};
  for (const auto& [name, values] : opts_.headers)
    for (const auto& v : values) req.headers.emplace_back(name, v);
  auto resp = http_get(req);
  if (!resp) return Error("Get \"" + opts_.url + "\": " + resp.error().message());
  if (resp->status != 200) return Error(opts_.url + ": HTTP status " + std::to_string(resp->status));
  if (resp->body.empty()) {
    // Upstream delivers an empty set (the source counts as seen) and reports the empty body.
    if (!delivered_ || !last_body_.empty()) {
      delivered_ = true;
      last_body_.clear();
      seen_.clear();
      on_update_({});
    }
    return Error("zero-length data received from " + opts_.url);
  }
  if (delivered_ && resp->body == last_body_) return Status::Ok();
  std::string now = rfc3339_nano(unix_now_ns());
  auto pods = decode_http_pods(resp->body, opts_.url, opts_.node_name, now);
  if (!pods) return pods.error().wrap(opts_.url);
  std::map<std::string, std::string> seen;
  for (auto& pod : *pods) {
    auto it = seen_.find(pod.metadata.uid);
    std::string first = it != seen_.end() ? it->second : now;
    pod.metadata.annotations[std::string(kConfigSeenAnnotation)] = first;
    seen[pod.metadata.uid] = first;
  }
  seen_ = std::move(seen);
  last_body_ = std::move(resp->body);
  delivered_ = true;
  if (log::V(2)) log::infov(2, "Pods from staticPodURL changed", "url", opts_.url, "pods", pods->size());
  on_update_(std::move(*pods));
  return Status::Ok();
}

void HttpPodSource::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Status st = fetch();
    lock.lock();
    if (!st.ok()) {
      // As upstream: the first three failures in a row at -v=0, then quieter.
      if (failures_ < 3 || log::V(4))
        log::error("Failed to read pods from URL", st.error(), "url", opts_.url);
      else if (failures_ == 3)
        log::error("Failed to read pods from URL. Dropping verbosity of this message to V(4)", st.error(), "url",
                   opts_.url);
      ++failures_;
    } else if (failures_ > 0) {
      log::info("Successfully read pods from URL", "url", opts_.url);
      failures_ = 0;
    }
    cv_.wait_for(lock, opts_.check_period, [this] { return stopping_; });
  }
}

}  // namespace knode::kubelet
