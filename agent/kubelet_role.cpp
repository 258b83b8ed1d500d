// The kubelet role's entry point and composition root: load the configuration, connect to the
// container runtime, wire the kubelet's managers (agent/kubelet/kubelet.h) and run until
// SIGTERM/SIGINT. Without --kubeconfig this is standalone mode: static pods only, no API calls.
// On SIGTERM the managers stop and the pods keep running, as with upstream's kubelet.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/base/log.h"
#include "agent/base/signals.h"
#include "agent/kubelet/kubelet.h"
#include "agent/role_options.h"
#include "agent/roles.h"
#include "config/kubelet_options.h"
#include "cri/grpc_runtime.h"

namespace knode {

namespace {

std::chrono::milliseconds to_ms(const config::Duration& d, std::chrono::milliseconds fallback) {
  return d.ns > 0 ? std::chrono::milliseconds(d.ns / 1'000'000) : fallback;
}

std::string node_name(const config::KubeletOptions& o) {
  std::string name = o.flags.hostname_override;
  if (name.empty()) {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    name = buf;
  }
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

// --node-ip's first address, else the first global IPv4 address of an interface that is up.
std::string host_ip(const config::KubeletOptions& o) {
  if (!o.flags.node_ip.empty()) return o.flags.node_ip.substr(0, o.flags.node_ip.find(','));
  ifaddrs* list = nullptr;
  std::string out;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a && out.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP)) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    out = buf;
  }
  freeifaddrs(list);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t memory_capacity() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemTotal:") return kb * 1024;
  return 0;
}

cri::NodeSettings node_settings(const config::KubeletOptions& o) {
  const auto& c = o.config;
  cri::NodeSettings n;
  n.dns.cluster_dns = c.cluster_dns;
  n.dns.cluster_domain = c.cluster_domain;
  n.dns.resolv_conf_path = c.resolv_conf.value_or("/etc/resolv.conf");
  if (!n.dns.resolv_conf_path.empty()) n.dns.resolv_conf = read_file(n.dns.resolv_conf_path);
  if (!c.pod_logs_dir.empty()) n.pod_logs_dir = c.pod_logs_dir;
  n.seccomp_profile_root =
      o.flags.seccomp_profile_root.empty() ? o.flags.root_dir + "/seccomp" : o.flags.seccomp_profile_root;
  n.seccomp_default = c.seccomp_default.value_or(false);
  n.cgroups.driver = c.cgroup_driver == "systemd" ? cri::CgroupDriver::Systemd : cri::CgroupDriver::Cgroupfs;
  n.cgroups.cgroups_per_qos = c.cgroups_per_qos.value_or(true);
  n.cgroups.cgroup_root = c.cgroup_root.empty() ? "/" : c.cgroup_root;
  n.resources.memory_capacity = memory_capacity();
  n.resources.cpu_cfs_quota = c.cpu_cfs_quota.value_or(true);
  if (c.cpu_cfs_quota_period) n.resources.cpu_cfs_quota_period_us = c.cpu_cfs_quota_period->ns / 1000;
  n.resources.cgroup_v2 = std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers");
  return n;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// The legacy --network-plugin=cni flags, mapped onto knode's CNI runtime handler (cni/README.md).
Result<kubelet::NetworkManagerOptions> network_options(const config::KubeletOptions& o) {
  const auto& f = o.flags;
  kubelet::NetworkManagerOptions n;
  if (!f.network_plugin.empty() && f.network_plugin != "cni")
    return Error("invalid value \"" + f.network_plugin +
                 "\" for flag --network-plugin: only \"cni\" is supported (the other in-tree network plugins were "
                 "removed upstream)");
  n.cni = f.network_plugin == "cni";
  if (!f.cni_conf_dir.empty()) n.conf_dir = f.cni_conf_dir;
  if (!f.cni_bin_dir.empty()) n.bin_dirs = split_commas(f.cni_bin_dir);
  if (!f.cni_cache_dir.empty()) n.cache_dir = f.cni_cache_dir;
  n.gc_grace = to_ms(o.config.runtime_request_timeout, std::chrono::minutes(2));
  return n;
}

}  // namespace

int kubelet_main(const std::vector<std::string>& args) {
  auto loaded = config::load_kubelet_options(args);
  if (auto code = handle_role_options(loaded, config::kubelet_usage)) return *code;
  config::KubeletOptions& o = *loaded;
  const bool standalone = o.kubeconfig.empty();
  log::info("Starting kubelet", "version", version_string(), "config", o.config_file,
            "mode", standalone ? "standalone" : "cluster");
  if (log::V(2)) log::infov(2, "Effective configuration", "config", o.effective_yaml);
  if (!standalone)
    log::warning("Cluster mode is not implemented yet: running static pods only, without API calls",
                 "kubeconfig", o.kubeconfig);

  auto network = network_options(o);
  if (!network) {
    log::error("Invalid network plugin settings", network.error());
    return 1;
  }

  // The container runtime.
  const auto& c = o.config;
  std::string endpoint = c.container_runtime_endpoint.empty() ? "unix:///run/containerd/containerd.sock"
                                                              : c.container_runtime_endpoint;
  cri::GrpcRuntimeOptions ro{.endpoint = endpoint};
  ro.request_timeout = to_ms(c.runtime_request_timeout, std::chrono::minutes(2));
  auto runtime = cri::GrpcRuntime::Connect(ro);
  if (!runtime) {
    log::error("Cannot connect to the container runtime; is it running?", runtime.error(), "endpoint", endpoint);
    return 1;
  }
  std::unique_ptr<cri::GrpcRuntime> images_rt;
  cri::ImageService* images = runtime->get();
  if (c.effective_image_service_endpoint() != endpoint) {
    cri::GrpcRuntimeOptions io = ro;
    io.endpoint = c.effective_image_service_endpoint();
    auto img = cri::GrpcRuntime::Connect(io);
    if (!img) {
      log::error("Cannot connect to the image service", img.error(), "endpoint", io.endpoint);
      return 1;
    }
    images_rt = std::move(*img);
    images = images_rt.get();
  }

  kubelet::KubeletSettings s;
  s.node_name = node_name(o);
  s.root_dir = o.flags.root_dir;
  s.static_pod_path = c.static_pod_path;
  s.file_check_period = to_ms(c.file_check_frequency, std::chrono::seconds(20));
  s.static_pod_url = c.static_pod_url;
  s.static_pod_url_header = c.static_pod_url_header;
  s.http_check_period = to_ms(c.http_check_frequency, std::chrono::seconds(20));
  s.serialize_image_pulls = c.serialize_image_pulls.value_or(true);
  s.max_parallel_image_pulls = c.max_parallel_image_pulls.value_or(0);
  s.sync_period = to_ms(c.sync_frequency, std::chrono::seconds(60));
  s.host_ip = host_ip(o);
  s.runtime_name = (*runtime)->runtime_name();
  s.node = node_settings(o);
  s.network = std::move(*network);
  if (s.static_pod_path.empty() && s.static_pod_url.empty())
    log::info("No static pod source configured (staticPodPath / --pod-manifest-path, staticPodURL / --manifest-url)");

  kubelet::Kubelet kl(**runtime, *images, s);
  kl.start();
  log::info("Kubelet started", "node", s.node_name, "rootDir", s.root_dir, "staticPodPath", s.static_pod_path,
            "staticPodURL", s.static_pod_url, "statusFile", s.root_dir + "/pods-status.json");

  for (;;) {
    if (auto sig = wait_shutdown_signal(std::chrono::milliseconds(1000))) {
      log::info("Received signal, shutting down", "signal", *sig);
      break;
    }
  }
  kl.stop();
  log::info("Kubelet stopped; pods keep running");
  return 0;
}

}  // namespace knode
