#include "cri/convert_qos.h"

#include <fmt/format.h>

#include <algorithm>

namespace knode::cri {

std::string_view to_string(QosClass q) {
  switch (q) {
    case QosClass::Guaranteed: return "Guaranteed";
    case QosClass::Burstable: return "Burstable";
    case QosClass::BestEffort: return "BestEffort";
  }
  return "";
}

QosClass compute_pod_qos(const kube::Pod& pod) {
  // Sums in thousandths (cpu requests are whole millicores; memory is whole bytes).
  std::map<std::string, __int128> requests, limits;
  bool guaranteed = true;
  auto nano = [](const kube::Quantity& q) { return static_cast<__int128>(q.milli_value()); };
  auto visit = [&](const kube::Container& c) {
    for (const auto& [name, q] : c.resources.requests) {
      if (name != "cpu" && name != "memory") continue;
      if (q > kube::Quantity{}) requests[name] += nano(q);
    }
    bool cpu = false, mem = false;
    for (const auto& [name, q] : c.resources.limits) {
      if (name != "cpu" && name != "memory") continue;
      if (q > kube::Quantity{}) {
        limits[name] += nano(q);
        (name == "cpu" ? cpu : mem) = true;
      }
    }
    if (!cpu || !mem) guaranteed = false;
  };
  for (const auto& c : pod.spec.containers) visit(c);
  for (const auto& c : pod.spec.init_containers) visit(c);
  if (requests.empty() && limits.empty()) return QosClass::BestEffort;
  if (guaranteed) {
    for (const auto& [name, r] : requests) {
      auto it = limits.find(name);
      if (it == limits.end() || it->second != r) { guaranteed = false; break; }
    }
  }
  if (guaranteed && requests.size() == limits.size()) return QosClass::Guaranteed;
  return QosClass::Burstable;
}

QosClass pod_qos(const kube::Pod& pod) {
  const std::string& q = pod.status.qos_class;
  if (q == "Guaranteed") return QosClass::Guaranteed;
  if (q == "Burstable") return QosClass::Burstable;
  if (q == "BestEffort") return QosClass::BestEffort;
  return compute_pod_qos(pod);
}

bool is_critical_pod(const kube::Pod& pod) {
  const auto& a = pod.metadata.annotations;
  if (auto it = a.find("kubernetes.io/config.source"); it != a.end() && it->second != "api") return true;
  if (a.count("kubernetes.io/config.mirror")) return true;
  return pod.spec.priority && *pod.spec.priority >= 2000000000;
}

bool is_node_critical_pod(const kube::Pod& pod) {
  return is_critical_pod(pod) && pod.spec.priority_class_name == "system-node-critical";
}

namespace {
int64_t memory_request(const kube::Container& c) {
  auto it = c.resources.requests.find("memory");
  return it == c.resources.requests.end() ? 0 : it->second.value();
}
}  // namespace

int container_oom_score_adj(const kube::Pod& pod, const kube::Container& c, int64_t capacity) {
  if (is_node_critical_pod(pod)) return kGuaranteedOomScoreAdj;
  switch (pod_qos(pod)) {
    case QosClass::Guaranteed: return kGuaranteedOomScoreAdj;
    case QosClass::BestEffort: return kBestEffortOomScoreAdj;
    case QosClass::Burstable: break;
  }
  if (capacity <= 0) return kBestEffortOomScoreAdj - 1;
  auto adj = [&](int64_t req) {
    return static_cast<int64_t>(1000 - static_cast<__int128>(1000) * req / capacity);
  };
  int64_t score = adj(memory_request(c));
  bool sidecar = kube::is_sidecar(c) &&
                 std::any_of(pod.spec.init_containers.begin(), pod.spec.init_containers.end(),
                             [&](const kube::Container& i) { return i.name == c.name; });
  if (sidecar && !pod.spec.containers.empty()) {
    int64_t min_req = memory_request(pod.spec.containers[0]);
    for (const auto& r : pod.spec.containers) min_req = std::min(min_req, memory_request(r));
    score = std::min(score, adj(min_req));
  }
  if (score < 1000 + kGuaranteedOomScoreAdj) return 1000 + kGuaranteedOomScoreAdj;
  if (score == kBestEffortOomScoreAdj) return static_cast<int>(score - 1);
  return static_cast<int>(score);
}

int64_t milli_cpu_to_shares(int64_t milli) {
  if (milli == 0) return kMinShares;
  int64_t shares = milli * 1024 / 1000;
  return std::clamp(shares, kMinShares, kMaxShares);
}

int64_t milli_cpu_to_quota(int64_t milli, int64_t period) {
  if (milli == 0) return 0;
  int64_t quota = milli * period / 1000;
  return std::max(quota, kMinQuotaPeriod);
}

namespace {

// calculateLinuxResources: request absent (nullopt) → shares from the limit.
LinuxResources calculate(std::optional<int64_t> cpu_request_milli, int64_t cpu_limit_milli, int64_t memory_limit,
                         const ResourceSettings& s) {
  LinuxResources r;
  r.cpu_shares = milli_cpu_to_shares(cpu_request_milli ? *cpu_request_milli : cpu_limit_milli);
  if (memory_limit != 0) r.memory_limit_in_bytes = memory_limit;
  if (s.cpu_cfs_quota) {
    r.cpu_period = s.cpu_cfs_quota_period_us;
    r.cpu_quota = milli_cpu_to_quota(cpu_limit_milli, r.cpu_period);
  }
  if (s.cgroup_v2 && !s.single_process_oom_kill.value_or(!s.cgroup_v2)) r.unified["memory.oom.group"] = "1";
  return r;
}

int64_t milli_of(const kube::ResourceList& l, const char* name) {
  auto it = l.find(name);
  return it == l.end() ? 0 : it->second.milli_value();
}
int64_t value_of(const kube::ResourceList& l, const char* name) {
  auto it = l.find(name);
  return it == l.end() ? 0 : it->second.value();
}

// "hugepages-2Mi" → "2MB" (upstream's HugePageUnitSizeFromByteSize of the page size).
std::optional<std::string> hugepage_unit(const std::string& resource) {
  if (resource.rfind("hugepages-", 0) != 0) return std::nullopt;
  auto q = kube::Quantity::parse(resource.substr(10));
  if (!q.ok()) return std::nullopt;
  int64_t size = q->value();
  static const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int i = 0;
  while (size >= 1024 && size % 1024 == 0 && i < 5) { size /= 1024; ++i; }
  if (size >= 1024) return std::nullopt;
  return fmt::format("{}{}", size, units[i]);
}

}  // namespace

LinuxResources container_resources(const kube::Pod& pod, const kube::Container& c, const ResourceSettings& s) {
  std::optional<int64_t> cpu_request;
  if (c.resources.requests.count("cpu")) cpu_request = milli_of(c.resources.requests, "cpu");
  LinuxResources r = calculate(cpu_request, milli_of(c.resources.limits, "cpu"), value_of(c.resources.limits, "memory"), s);
  r.oom_score_adj = container_oom_score_adj(pod, c, s.memory_capacity);
  std::map<std::string, uint64_t> required;
  for (const auto& [name, q] : c.resources.limits)
    if (auto unit = hugepage_unit(name)) required[*unit] = static_cast<uint64_t>(q.value());
  for (const auto& size : s.hugepage_sizes) {
    auto it = required.find(size);
    r.hugepage_limits.emplace_back(size, it == required.end() ? 0 : it->second);
  }
  // No swap for containers (upstream's NoSwap; LimitedSwap needs the NodeSwap gate and cgroup v2).
  if (!s.cgroup_v2) {
    if (s.swap_controller_available) r.memory_swap_limit_in_bytes = r.memory_limit_in_bytes;
  } else if (s.swap_controller_available) {
    r.unified["memory.swap.max"] = "0";
  }
  return r;
}

namespace {
// Pod-level sums: regular containers and sidecars add up; other init containers run alone (with
// the sidecars started before them) and set a floor.
std::optional<int64_t> pod_total(const kube::Pod& pod, bool limits, const char* name, bool milli) {
  auto get = [&](const kube::Container& c) -> std::optional<int64_t> {
    const auto& l = limits ? c.resources.limits : c.resources.requests;
    auto it = l.find(name);
    if (it == l.end()) return std::nullopt;
    return milli ? it->second.milli_value() : it->second.value();
  };
  bool any = false;
  int64_t sum = 0, sidecars = 0, init_max = 0;
  for (const auto& c : pod.spec.containers)
    if (auto v = get(c)) { sum += *v; any = true; }
  for (const auto& c : pod.spec.init_containers) {
    auto v = get(c);
    if (v) any = true;
    int64_t x = v.value_or(0);
    if (kube::is_sidecar(c)) {
      sum += x;
      sidecars += x;
      init_max = std::max(init_max, sidecars);
    } else {
      init_max = std::max(init_max, x + sidecars);
    }
  }
  if (!any) return std::nullopt;
  return std::max(sum, init_max);
}
}  // namespace

LinuxResources sandbox_resources(const kube::Pod& pod, const ResourceSettings& s) {
  return calculate(pod_total(pod, false, "cpu", true), pod_total(pod, true, "cpu", true).value_or(0),
                   pod_total(pod, true, "memory", false).value_or(0), s);
}

LinuxResources overhead_resources(const kube::Pod& pod, const ResourceSettings& s) {
  if (pod.spec.overhead.empty()) return {};
  int64_t cpu = milli_of(pod.spec.overhead, "cpu");
  return calculate(cpu, cpu, value_of(pod.spec.overhead, "memory"), s);
}

std::string cgroup_name_cgroupfs(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::string cgroup_name_systemd(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  // Each component escaped ('-' → '_'); slice names accumulate their parents' prefixes.
  std::string out, prefix;
  for (const auto& p : parts) {
    std::string esc = p;
    std::replace(esc.begin(), esc.end(), '-', '_');
    prefix = prefix.empty() ? esc : prefix + "-" + esc;
    out += "/" + prefix + ".slice";
  }
  return out;
}

namespace {
std::vector<std::string> root_parts(const CgroupSettings& s) {
  std::vector<std::string> parts;
  const std::string& root = s.cgroup_root;
  if (root.empty() || root == "/") return parts;
  if (s.driver == CgroupDriver::Systemd) {
    std::string base = root.substr(root.find_last_of('/') + 1);
    if (base.size() > 6 && base.compare(base.size() - 6, 6, ".slice") == 0) base.resize(base.size() - 6);
    size_t start = 0;
    while (start <= base.size()) {
      size_t dash = base.find('-', start);
      std::string part = base.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
      std::replace(part.begin(), part.end(), '_', '-');
      if (!part.empty()) parts.push_back(part);
      if (dash == std::string::npos) break;
      start = dash + 1;
    }
    return parts;
  }
  size_t start = 0;
  while (start < root.size()) {
    size_t slash = root.find('/', start);
    std::string part = root.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}
}  // namespace

std::string pod_cgroup_parent(const kube::Pod& pod, const CgroupSettings& s) {
  if (!s.cgroups_per_qos) return "";
  std::vector<std::string> parts = root_parts(s);
  parts.push_back("kubepods");
  switch (pod_qos(pod)) {
    case QosClass::Guaranteed: break;
    case QosClass::Burstable: parts.push_back("burstable"); break;
    case QosClass::BestEffort: parts.push_back("besteffort"); break;
  }
  parts.push_back("pod" + pod.metadata.uid);
  return s.driver == CgroupDriver::Systemd ? cgroup_name_systemd(parts) : cgroup_name_cgroupfs(parts);
}

}  // namespace knode::cri
