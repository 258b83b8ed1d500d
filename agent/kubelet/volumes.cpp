#include "agent/kubelet/volumes.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace knode::kubelet {

namespace fs = std::filesystem;

std::string pod_dir(const std::string& pods_dir, const std::string& uid) { return pods_dir + "/" + uid; }

namespace {

std::string empty_dir_path(const std::string& pods_dir, const std::string& uid, const std::string& name) {
  return pod_dir(pods_dir, uid) + "/volumes/kubernetes.io~empty-dir/" + name;
}

const kube::Volume* find_volume(const kube::Pod& pod, const std::string& name) {
  for (const auto& v : pod.spec.volumes)
    if (v.name == name) return &v;
  return nullptr;
}

}  // namespace

Status prepare_volumes(const kube::Pod& pod, const std::string& pods_dir) {
  for (const auto& v : pod.spec.volumes) {
    std::error_code ec;
    if (v.empty_dir) {
      std::string p = empty_dir_path(pods_dir, pod.metadata.uid, v.name);
      fs::create_directories(p, ec);
      if (ec) return Error("volume " + v.name + ": cannot create " + p + ": " + ec.message());
      ::chmod(p.c_str(), 0777);  // upstream's emptyDir mode
    } else if (v.host_path) {
      const std::string& p = v.host_path->path;
      std::string type = v.host_path->type.value_or("");
      if (type == "DirectoryOrCreate") {
        fs::create_directories(p, ec);
        if (ec) return Error("volume " + v.name + ": cannot create " + p + ": " + ec.message());
      } else if (type == "FileOrCreate") {
        if (!fs::exists(p, ec)) {
          fs::create_directories(fs::path(p).parent_path(), ec);
          std::ofstream(p, std::ios::app);
        }
      } else if (type == "Directory" && !fs::is_directory(p, ec)) {
        return Error("volume " + v.name + ": hostPath type check failed: " + p + " is not a directory");
      } else if (type == "File" && !fs::is_regular_file(p, ec)) {
        return Error("volume " + v.name + ": hostPath type check failed: " + p + " is not a file");
      } else if (type == "Socket" && !fs::is_socket(p, ec)) {
        return Error("volume " + v.name + ": hostPath type check failed: " + p + " is not a socket file");
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<cri::MountSpec>> container_mounts(const kube::Pod& pod, const kube::Container& c,
                                                     const std::string& pods_dir) {
  std::vector<cri::MountSpec> out;
  for (const auto& m : c.volume_mounts) {
    const kube::Volume* v = find_volume(pod, m.name);
    if (!v) return Error("cannot find volume \"" + m.name + "\" to mount into container \"" + c.name + "\"");
    std::string host;
    if (v->host_path) host = v->host_path->path;
    else if (v->empty_dir) host = empty_dir_path(pods_dir, pod.metadata.uid, v->name);
    else return Error("volume \"" + m.name + "\": only hostPath and emptyDir volumes are supported without an API server");
    if (!m.sub_path.empty()) {
      host += "/" + m.sub_path;
      std::error_code ec;
      if (!fs::exists(host, ec)) fs::create_directories(host, ec);
    }
    cri::MountSpec ms;
    ms.container_path = m.mount_path;
    ms.host_path = host;
    ms.read_only = m.read_only;
    ms.propagation = m.mount_propagation.value_or("");
    out.push_back(std::move(ms));
  }
  return out;
}

void remove_pod_dir(const std::string& pods_dir, const std::string& uid) {
  std::error_code ec;
  fs::remove_all(pod_dir(pods_dir, uid), ec);
}

}  // namespace knode::kubelet
