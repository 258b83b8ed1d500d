#include "agent/kubelet/static_pods.h"

#include <openssl/evp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/base/log.h"
#include "agent/kubelet/time_format.h"

namespace knode::kubelet {

namespace fs = std::filesystem;

namespace {

std::string md5_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace

std::string static_pod_uid(const kube::Pod& decoded, std::string_view node_name, std::string_view file) {
  // Upstream hashes the Go object (DeepHashObject) and then the source; we hash the canonical
  // encoding of the same decoded, defaulted object, then the same source text.
  return md5_hex(kube::encode_pod_json(decoded) + "host:" + std::string(node_name) + "file:" + std::string(file));
}

std::string http_pod_uid(const kube::Pod& decoded, std::string_view url) {
  return md5_hex(kube::encode_pod_json(decoded) + "url:" + std::string(url));
}

Status apply_static_pod_defaults(kube::Pod& pod, PodOrigin origin, std::string_view source,
                                 std::string_view node_name, std::string_view seen) {
  const bool file = origin == PodOrigin::File;
  kube::apply_defaults(pod);
  if (pod.metadata.uid.empty())
    pod.metadata.uid = file ? static_pod_uid(pod, node_name, source) : http_pod_uid(pod, source);
  std::string node_lower(node_name);
  std::transform(node_lower.begin(), node_lower.end(), node_lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  pod.metadata.name += "-" + node_lower;
  if (pod.metadata.namespace_.empty()) pod.metadata.namespace_ = "default";
  pod.spec.node_name = std::string(node_name);
  pod.metadata.annotations[std::string(kConfigHashAnnotation)] = pod.metadata.uid;
  pod.metadata.annotations[std::string(kConfigSourceAnnotation)] = file ? "file" : "http";
  pod.metadata.annotations[std::string(kConfigSeenAnnotation)] = std::string(seen);
  if (file) {  // upstream tolerates node problems for file pods only
    bool has_toleration = false;
    for (const auto& t : pod.spec.tolerations)
      if (t.operator_ == "Exists" && t.effect == "NoExecute" && t.key.empty()) has_toleration = true;
    if (!has_toleration) pod.spec.tolerations.push_back({.operator_ = "Exists", .effect = "NoExecute"});
  }
  pod.status = {};
  pod.status.phase = "Pending";
  return kube::validate_pod(pod);
}

Result<kube::Pod> load_static_pod(std::string_view content, std::string_view file, std::string_view node_name,
                                  std::string_view seen) {
  auto decoded = kube::decode_pod(content, {.require_type_meta = true});
  if (!decoded) return decoded.error();
  kube::Pod pod = std::move(*decoded);
  if (Status st = apply_static_pod_defaults(pod, PodOrigin::File, file, node_name, seen); !st.ok()) return st.error();
  return pod;
}

StaticPodSource::StaticPodSource(StaticPodSourceOptions options, Handler on_update)
    : opts_(std::move(options)), on_update_(std::move(on_update)) {}

StaticPodSource::~StaticPodSource() { stop(); }

void StaticPodSource::watch() {
  if (inotify_fd_ < 0 || watch_ >= 0) return;
  watch_ = inotify_add_watch(inotify_fd_, opts_.path.c_str(),
                             IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
}

void StaticPodSource::start() {
  // Watch first, then scan: a file written in between is seen by one or the other.
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  watch();
  scan();
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
}

void StaticPodSource::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof one);
  thread_.join();
  close(stop_fd_);
  stop_fd_ = -1;
  if (inotify_fd_ >= 0) close(inotify_fd_);
  inotify_fd_ = -1;
  watch_ = -1;
}

namespace {

std::vector<std::string> manifest_files(const std::string& path, std::string* err) {
  std::vector<std::string> files;
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    *err = "path does not exist";
    return files;
  }
  if (fs::is_regular_file(st)) {
    files.push_back(path);
    return files;
  }
  if (!fs::is_directory(st)) {
    *err = "path is neither a directory nor a regular file";
    return files;
  }
  for (const auto& e : fs::directory_iterator(path, ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // dotfiles (editor swap files, ..data)
    std::error_code fec;
    if (!e.is_regular_file(fec)) continue;  // upstream ignores sub-directories
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

void StaticPodSource::scan() {
  std::lock_guard lock(mu_);
  std::string err;
  std::vector<std::string> files = manifest_files(opts_.path, &err);
  if (!err.empty()) {
    if (!missing_logged_) log::warning("Static pod path unusable; no static pods", "path", opts_.path, "reason", err);
    missing_logged_ = true;
  } else {
    missing_logged_ = false;
  }

  std::vector<kube::Pod> pods;
  std::map<std::string, std::string> current;  // uid -> encoding
  std::map<std::string, std::string> still_bad;
  std::map<std::string, std::string> names;     // namespace/name -> file, to refuse duplicates
  std::string now = rfc3339_nano(unix_now_ns());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in.is_open()) {
      std::error_code ec;
      if (!fs::exists(file, ec)) continue;  // removed since the listing
    }
    std::stringstream ss;
    if (in.is_open()) ss << in.rdbuf();
    std::string content = ss.str();
    if (in.is_open() && content.find_first_not_of(" \t\r\n") == std::string::npos) {
      // Empty: most likely being written right now (its close event triggers another scan).
      if (log::V(2)) log::infov(2, "Skipping empty static pod manifest", "file", file);
      continue;
    }
    std::string reason;
    std::optional<kube::Pod> pod;
    if (!in.is_open() || (!in.good() && !in.eof())) {
      reason = "cannot read the file";
    } else {
      // The seen time is fixed per UID for this process; decode with a placeholder first.
      auto loaded = load_static_pod(content, file, opts_.node_name, "");
      if (!loaded) {
        reason = loaded.error().message();
      } else {
        pod = std::move(*loaded);
        std::string key = kube::object_ref(pod->metadata);
        if (auto it = names.find(key); it != names.end()) {
          reason = "pod " + key + " is already defined by " + it->second;
          pod.reset();
        } else {
          names[key] = file;
        }
      }
    }
    if (!pod) {
      still_bad[file] = reason;
      auto it = bad_files_.find(file);
      if (it == bad_files_.end() || it->second != reason)
        log::error_msg("Invalid static pod manifest, skipping it", "file", file, "reason", reason);
      continue;
    }
    const std::string& uid = pod->metadata.uid;
    auto [sit, inserted] = seen_.try_emplace(uid, now);
    pod->metadata.annotations[std::string(kConfigSeenAnnotation)] = sit->second;
    current[uid] = kube::encode_pod_json(*pod);
    pods.push_back(std::move(*pod));
  }
  for (const auto& [file, reason] : bad_files_)
    if (!still_bad.count(file)) log::info("Static pod manifest no longer invalid or gone", "file", file);
  bad_files_ = std::move(still_bad);
  for (auto it = seen_.begin(); it != seen_.end();) it = current.count(it->first) ? std::next(it) : seen_.erase(it);

  if (delivered_ && current == last_) return;
  delivered_ = true;
  last_ = std::move(current);
  if (log::V(2)) log::infov(2, "Static pod set changed", "path", opts_.path, "pods", pods.size());
  on_update_(std::move(pods));
}

void StaticPodSource::run() {
  const int ifd = inotify_fd_;
  auto next_scan = std::chrono::steady_clock::now() + opts_.check_period;
  bool pending = false;
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    int timeout_ms;
    if (pending) {
      timeout_ms = 20;  // let a burst of events (an editor's save) settle
    } else {
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(next_scan - now).count()));
    }
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {ifd, POLLIN, 0}};
    int n = poll(fds, ifd >= 0 ? 2 : 1, timeout_ms);
    if (stopping_) break;
    if (n > 0 && ifd >= 0 && (fds[1].revents & POLLIN)) {
      alignas(inotify_event) char buf[8192];
      ssize_t r;
      bool complete = false;  // a file finished writing, moved in or out, or deleted
      while ((r = read(ifd, buf, sizeof buf)) > 0) {
        for (char* p = buf; p < buf + r;) {
          auto* ev = reinterpret_cast<inotify_event*>(p);
          if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) complete = true;
          if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
            if (watch_ >= 0) inotify_rm_watch(ifd, watch_);
            watch_ = -1;
          }
          p += sizeof(inotify_event) + ev->len;
        }
      }
      if (!complete) {
        pending = true;
        continue;
      }
      pending = true;  // scan now
      n = 0;
    }
    if (n == 0 || pending) {
      pending = false;
      scan();
      watch();
      if (std::chrono::steady_clock::now() >= next_scan) next_scan = std::chrono::steady_clock::now() + opts_.check_period;
    }
  }
}

}  // namespace knode::kubelet
