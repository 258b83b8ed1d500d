#include "agent/kubelet/volumes.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/base/log.h"

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

// A mount of its own: tmpfs, and a device different from the parent directory's.
bool is_tmpfs_mount(const std::string& path) {
  struct statfs sfs {};
  struct stat self {}, parent {};
  if (statfs(path.c_str(), &sfs) != 0 || static_cast<unsigned long>(sfs.f_type) != TMPFS_MAGIC) return false;
  if (stat(path.c_str(), &self) != 0 || stat((path + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

Status setup_empty_dir(const kube::Volume& v, const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Error("volume \"" + v.name + "\": cannot create " + path + ": " + ec.message());
  if (v.empty_dir->medium == "Memory") {
    if (is_tmpfs_mount(path)) return Status::Ok();
    std::string options;
    if (v.empty_dir->size_limit && !v.empty_dir->size_limit->is_zero())
      options = "size=" + std::to_string(v.empty_dir->size_limit->value());
    if (mount("tmpfs", path.c_str(), "tmpfs", 0, options.empty() ? nullptr : options.c_str()) != 0)
      return Error("volume \"" + v.name + "\": mount -t tmpfs" + (options.empty() ? "" : " -o " + options) + " tmpfs " +
                   path + ": " + std::strerror(errno));
    log::info("Mounted memory-backed emptyDir", "volume", v.name, "path", path, "options", options);
    ::chmod(path.c_str(), 01777);
  } else if (!v.empty_dir->medium.empty()) {
    return Error("volume \"" + v.name + "\": emptyDir medium \"" + v.empty_dir->medium +
                 "\" is not supported (want \"\" or \"Memory\")");
  } else {
    ::chmod(path.c_str(), 0777);  // upstream's emptyDir mode
  }
  return Status::Ok();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 3)), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Upstream's checks on a subPath: relative, and no ".." element.
Status check_sub_path(const std::string& sub_path) {
  if (sub_path.front() == '/') return Error("error SubPath `" + sub_path + "` must not be an absolute path");
  std::stringstream ss(sub_path);
  for (std::string part; std::getline(ss, part, '/');)
    if (part == "..") return Error("unable to provision SubPath `" + sub_path + "`: must not contain '..'");
  return Status::Ok();
}

std::vector<std::string> path_elements(const std::string& rel) {
  std::vector<std::string> out;
  std::stringstream ss(rel);
  for (std::string part; std::getline(ss, part, '/');)
    if (!part.empty() && part != ".") out.push_back(part);
  return out;
}

// Creates the missing directories of `rel` inside `base` without following symlinks; stops at the
// first symlink (what lies beyond it must exist, and is checked after resolution).
Status safe_make_dirs(const std::string& base, const std::string& rel) {
  int dir = open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Error("open " + base + ": " + std::strerror(errno));
  for (const auto& el : path_elements(rel)) {
    struct stat st {};
    if (fstatat(dir, el.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || (mkdirat(dir, el.c_str(), 0755) != 0 && errno != EEXIST)) {
        int e = errno;
        close(dir);
        return Error("mkdir " + el + ": " + std::strerror(e));
      }
    } else if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
      break;
    }
    int next = openat(dir, el.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dir);
    if (next < 0) return Error("open " + el + ": " + std::strerror(errno));
    dir = next;
  }
  close(dir);
  return Status::Ok();
}

// Opens base/rel (rel already free of symlinks) one element at a time with O_NOFOLLOW: an O_PATH
// descriptor of the target, or an error when any element is (now) a symlink.
Result<int> safe_open(const std::string& base, const std::string& rel) {
  int fd = open(base.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error("open " + base + ": " + std::strerror(errno));
  for (const auto& el : path_elements(rel)) {
    int next = openat(fd, el.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(fd);
    if (next < 0) return Error("open " + el + ": " + std::strerror(e));
    struct stat st {};
    if (fstat(next, &st) == 0 && S_ISLNK(st.st_mode)) {
      close(next);
      return Error("path element " + el + " is a symlink");
    }
    fd = next;
  }
  return fd;
}

// Resolves base/sub inside the volume and bind-mounts it to `target`; returns target.
Result<std::string> bind_sub_path(const std::string& base, const std::string& sub, const std::string& target) {
  if (Status st = safe_make_dirs(base, sub); !st.ok()) return st.error();
  std::error_code ec;
  fs::path real_base = fs::canonical(base, ec);
  if (ec) return Error("resolve " + base + ": " + ec.message());
  fs::path real = fs::canonical(fs::path(base) / sub, ec);
  if (ec) return Error("resolve " + (fs::path(base) / sub).string() + ": " + ec.message());
  std::string rb = real_base.string(), rr = real.string();
  if (rr != rb && rr.rfind(rb + "/", 0) != 0)
    return Error("subpath \"" + rr + "\" not within volume path \"" + rb + "\"");
  auto fd = safe_open(rb, rr.substr(rb.size()));
  if (!fd) return fd.error();
  struct stat st {};
  fstat(*fd, &st);
  fs::create_directories(fs::path(target).parent_path(), ec);
  umount2(target.c_str(), MNT_DETACH);  // a previous container's bind mount (EINVAL when none)
  if (S_ISDIR(st.st_mode)) {
    fs::create_directory(target, ec);
  } else if (!fs::exists(target, ec)) {
    int f = open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (f >= 0) close(f);
  }
  std::string source = "/proc/self/fd/" + std::to_string(*fd);
  int rc = mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr);
  int e = errno;
  close(*fd);
  if (rc != 0) return Error("bind mount " + rr + " to " + target + ": " + std::strerror(e));
  return target;
}

Result<std::string> propagation_of(const kube::VolumeMount& m, const kube::Container& c) {
  std::string mode = m.mount_propagation.value_or("");
  if (mode.empty() || mode == "None" || mode == "HostToContainer") return mode;
  if (mode != "Bidirectional")
    return Error("invalid MountPropagation mode: \"" + mode + "\" in volumeMount \"" + m.name + "\" of container \"" +
                 c.name + "\" (want None, HostToContainer or Bidirectional)");
  bool privileged = c.security_context && c.security_context->privileged.value_or(false);
  if (!privileged)
    return Error("volumeMount \"" + m.name + "\" of container \"" + c.name +
                 "\": Bidirectional mount propagation is available only to privileged containers");
  return mode;
}

}  // namespace

Status prepare_volumes(const kube::Pod& pod, const std::string& pods_dir) {
  for (const auto& v : pod.spec.volumes) {
    std::error_code ec;
    if (v.empty_dir) {
      if (Status st = setup_empty_dir(v, empty_dir_path(pods_dir, pod.metadata.uid, v.name)); !st.ok()) return st;
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
                                                     const std::string& pods_dir, const cri::EnvContext& env_ctx) {
  std::vector<cri::MountSpec> out;
  std::optional<cri::EnvList> env;
  for (size_t i = 0; i < c.volume_mounts.size(); ++i) {
    const auto& m = c.volume_mounts[i];
    const kube::Volume* v = find_volume(pod, m.name);
    if (!v) return Error("cannot find volume \"" + m.name + "\" to mount into container \"" + c.name + "\"");
    auto propagation = propagation_of(m, c);
    if (!propagation) return propagation.error();
    std::string host;
    if (v->host_path) host = v->host_path->path;
    else if (v->empty_dir) host = empty_dir_path(pods_dir, pod.metadata.uid, v->name);
    else return Error("volume \"" + m.name + "\": only hostPath and emptyDir volumes are supported without an API server");

    std::string sub_path = m.sub_path;
    if (!m.sub_path_expr.empty()) {
      if (!env) {
        auto made = cri::make_environment(pod, c, env_ctx);
        if (!made) return made.error();
        env = std::move(*made);
      }
      auto expanded = cri::expand_sub_path_expr(m.sub_path_expr, *env);
      if (!expanded) return expanded.error();
      sub_path = *expanded;
    }
    if (!sub_path.empty()) {
      if (Status st = check_sub_path(sub_path); !st.ok()) return st.error();
      std::string target = pod_dir(pods_dir, pod.metadata.uid) + "/volume-subpaths/" + m.name + "/" + c.name + "/" +
                           std::to_string(i);
      auto bound = bind_sub_path(host, sub_path, target);
      if (!bound) {
        // As upstream: the detail (host paths) goes to the log, not into the pod's status.
        log::error("Failed to prepare subPath for volumeMount of the container", bound.error(), "pod",
                   kube::object_ref(pod.metadata), "containerName", c.name, "volumeMountName", m.name);
        return Error("failed to prepare subPath for volumeMount \"" + m.name + "\" of container \"" + c.name + "\"");
      }
      host = *bound;
    }
    cri::MountSpec ms;
    ms.container_path = m.mount_path;
    ms.host_path = host;
    ms.read_only = m.read_only;
    ms.propagation = *propagation;
    out.push_back(std::move(ms));
  }
  return out;
}

std::vector<std::string> mounts_under(const std::string& dir) {
  std::error_code ec;
  std::string root = fs::weakly_canonical(dir, ec).string();
  if (ec) root = dir;
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // id parent major:minor root mountpoint ...
    std::istringstream ls(line);
    std::string id, parent, dev, mroot, point;
    if (!(ls >> id >> parent >> dev >> mroot >> point)) continue;
    point = unescape_mount_path(point);
    if (point == root || point.rfind(root + "/", 0) == 0) out.push_back(point);
  }
  return out;
}

Status unmount_pod_volumes(const std::string& pods_dir, const std::string& uid) {
  std::string dir = pod_dir(pods_dir, uid);
  std::string last_error;
  for (int round = 0; round < 4; ++round) {  // stacked mounts come off one per round
    auto points = mounts_under(dir);
    if (points.empty()) return Status::Ok();
    std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& p : points) {
      if (umount2(p.c_str(), MNT_DETACH) == 0) {
        if (log::V(2)) log::infov(2, "Unmounted pod volume", "podUID", uid, "path", p);
      } else {
        last_error = "umount " + p + ": " + std::strerror(errno);
      }
    }
  }
  if (mounts_under(dir).empty()) return Status::Ok();
  return Error(last_error.empty() ? "mounts remain under " + dir : last_error);
}

void remove_pod_dir(const std::string& pods_dir, const std::string& uid) {
  if (Status st = unmount_pod_volumes(pods_dir, uid); !st.ok()) {
    log::error("Cannot unmount the pod's volumes; keeping its directory", st.error(), "podUID", uid);
    return;
  }
  std::error_code ec;
  fs::remove_all(pod_dir(pods_dir, uid), ec);
  if (ec) log::warning("Cannot remove the pod directory", "podUID", uid, "reason", ec.message());
}

std::vector<std::string> cleanup_orphaned_pod_dirs(const std::string& pods_dir, const std::set<std::string>& keep) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(pods_dir, ec)) {
    std::string uid = e.path().filename().string();
    std::error_code dec;
    if (keep.count(uid) || !e.is_directory(dec)) continue;
    log::info("Cleaning up the directory of an orphaned pod", "podUID", uid, "path", e.path().string());
    remove_pod_dir(pods_dir, uid);
    removed.push_back(uid);
  }
  return removed;
}

}  // namespace knode::kubelet
