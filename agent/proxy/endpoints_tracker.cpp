#include "agent/proxy/endpoints_tracker.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <tuple>

#include <fmt/format.h>

namespace knode::proxy {

std::string EndpointInfo::str() const {
  return netrules::is_ipv6(ip) ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

std::optional<WallTime> parse_rfc3339(const std::string& s) {
  int y, mo, d, h, mi, sec;
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return std::nullopt;
  size_t pos = static_cast<size_t>(n);
  std::chrono::nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000, v = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      v += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    frac = std::chrono::nanoseconds(v);
  }
  int offset_min = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_min = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
  } else if (pos >= s.size() || (s[pos] != 'Z' && s[pos] != 'z')) {
    return std::nullopt;
  }
  using namespace std::chrono;
  sys_days days = year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)};
  auto t = days + hours(h) + minutes(mi) + seconds(sec) - minutes(offset_min);
  return time_point_cast<WallTime::duration>(t + frac);
}

namespace {

netrules::Protocol protocol_of(const std::optional<std::string>& p) {
  if (p && *p == "UDP") return netrules::Protocol::UDP;
  if (p && *p == "SCTP") return netrules::Protocol::SCTP;
  return netrules::Protocol::TCP;
}


// Identifies a merged endpoints view (0 is kept for "none").
uint64_t endpoints_digest(const EndpointsMap& m) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  auto add = [&h](uint64_t v) { h = (h ^ v) * 0x100000001b3ull + (h >> 29); };
  auto add_str = [&add](std::string_view s) { add(std::hash<std::string_view>{}(s)); add(s.size()); };
  for (const auto& [name, list] : m) {
    add_str(name.port);
    add(static_cast<uint64_t>(name.protocol));
    add(list.size());
    for (const auto& e : list) {
      add_str(e.ip);
      add(static_cast<uint64_t>(e.port) << 4 | e.ready | e.serving << 1 | e.terminating << 2 | e.is_local << 3);
      add_str(e.zone);
      add(e.zone_hints.size());
      for (const auto& z : e.zone_hints) add_str(z);
    }
  }
  return h == 0 ? 1 : h;
}

}  // namespace

uint32_t TopologyTable::intern(Entry e) {
  auto it = ids_.find(e);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(entries_.size());
  entries_.push_back(e);
  ids_.emplace(std::move(e), id);
  return id;
}

TrackedSlice track_slice(const kube::EndpointSlice& s, const std::string& node_name, TopologyTable& topology) {
  TrackedSlice t;
  for (const auto& p : s.ports)
    if (p.port && *p.port > 0) t.ports.push_back({p.name.value_or(""), protocol_of(p.protocol), *p.port});
  t.endpoints.reserve(s.endpoints.size());
  size_t text = 0;
  for (const auto& ep : s.endpoints)
    if (!ep.addresses.empty()) text += ep.addresses[0].size();
  t.ips.reserve(text);
  for (const auto& ep : s.endpoints) {
    // Upstream uses the first address only. (An address is at most 45 characters; anything longer
    // is not one.)
    if (ep.addresses.empty() || ep.addresses[0].size() > 255) continue;
    TopologyTable::Entry zones{ep.zone.value_or(""), {}};
    if (ep.hints)
      for (const auto& z : ep.hints->for_zones) zones.hints.push_back(z.name);
    std::sort(zones.hints.begin(), zones.hints.end());
    t.endpoints.push_back({.ip_offset = static_cast<uint32_t>(t.ips.size()),
                           .ip_size = static_cast<uint8_t>(ep.addresses[0].size()),
                           .ready = ep.is_ready(),
                           .serving = ep.is_serving(),
                           .terminating = ep.is_terminating(),
                           .is_local = ep.node_name && *ep.node_name == node_name,
                           .topology = topology.intern(std::move(zones))});
    t.ips += ep.addresses[0];
  }
  return t;
}

EndpointsMap merge_tracked(const NamespacedName& service, const std::map<std::string, TrackedSlice>& slices,
                           const TopologyTable& topology) {
  EndpointsMap out;
  for (const auto& [slice_name, s] : slices) {
    for (const auto& p : s.ports) {
      auto& list = out[netrules::ServicePortName{service.namespace_name, service.name, p.name, p.protocol}];
      for (const auto& ep : s.endpoints) {
        // The same address in two slices (during a slice handover): keep one, preferring ready.
        const std::string_view ip = s.ip(ep);
        auto dup = std::find_if(list.begin(), list.end(),
                                [&](const EndpointInfo& e) { return e.ip == ip && e.port == p.port; });
        if (dup != list.end() && (dup->ready || !ep.ready)) continue;
        const auto& zones = topology.at(ep.topology);
        EndpointInfo info{.ip = std::string(ip), .port = p.port, .ready = ep.ready, .serving = ep.serving,
                          .terminating = ep.terminating, .is_local = ep.is_local, .zone = zones.zone,
                          .zone_hints = zones.hints};
        if (dup == list.end()) list.push_back(std::move(info));
        else *dup = std::move(info);
      }
    }
  }
  for (auto& [_, list] : out)
    std::sort(list.begin(), list.end(), [](const EndpointInfo& a, const EndpointInfo& b) {
      return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
    });
  return out;
}

EndpointsMap merge_slices(const std::map<std::string, kube::EndpointSlice>& slices,
                          const std::string& node_name, netrules::IPFamily family) {
  std::map<std::string, TrackedSlice> tracked;
  TopologyTable topology;
  NamespacedName svc;
  for (const auto& [name, s] : slices) {
    if (s.address_type != netrules::family_name(family)) continue;
    svc = {s.metadata.namespace_, s.service_name()};
    tracked[name] = track_slice(s, node_name, topology);
  }
  return merge_tracked(svc, tracked, topology);
}

bool EndpointSliceTracker::update(const kube::EndpointSlice* previous, const kube::EndpointSlice* current) {
  const kube::EndpointSlice* any = current ? current : previous;
  if (!any) return false;
  std::string svc = any->service_name();
  if (svc.empty()) return false;
  NamespacedName nsn{any->metadata.namespace_, svc};
  std::optional<WallTime> trigger;
  if (current) {
    auto it = current->metadata.annotations.find(std::string(kube::kLastChangeTriggerTimeAnnotation));
    if (it != current->metadata.annotations.end()) trigger = parse_rfc3339(it->second);
  }
  std::lock_guard lk(mu_);
  if (any->address_type != netrules::family_name(family_)) return false;
  auto entry = services_.try_emplace(nsn).first;
  auto& slices = entry->second.slices;
  // A slice may move between services only by being recreated; the previous object's service
  // is the same as the current one's.
  if (current) slices[current->metadata.name] = track_slice(*current, node_name_, topology_);
  else slices.erase(previous->metadata.name);
  if (slices.empty() && entry->second.reported == 0) services_.erase(entry);
  auto& d = dirty_[nsn];
  if (trigger && (!d || *trigger < *d)) d = trigger;
  return true;
}

std::map<NamespacedName, EndpointsChange> EndpointSliceTracker::checkout() {
  std::map<NamespacedName, EndpointsChange> out;
  checkout([&](const NamespacedName& nsn, EndpointsChange&& ch) { out.emplace(nsn, std::move(ch)); });
  return out;
}

void EndpointSliceTracker::checkout(const std::function<void(const NamespacedName&, EndpointsChange&&)>& fn) {
  std::map<NamespacedName, std::optional<WallTime>> dirty;
  {
    std::lock_guard lk(mu_);
    dirty.swap(dirty_);
  }
  for (auto& [nsn, trigger] : dirty) {
    EndpointsMap current;
    {
      std::lock_guard lk(mu_);
      auto it = services_.find(nsn);
      if (it == services_.end()) continue;  // nothing tracked and nothing reported
      current = merge_tracked(nsn, it->second.slices, topology_);
      const uint64_t digest = current.empty() ? 0 : endpoints_digest(current);
      if (digest == it->second.reported) continue;
      it->second.reported = digest;
      if (it->second.slices.empty() && digest == 0) services_.erase(it);
    }
    fn(nsn, EndpointsChange{std::move(current), trigger});
  }
}

EndpointsMap EndpointSliceTracker::endpoints(const NamespacedName& service) const {
  std::lock_guard lk(mu_);
  auto it = services_.find(service);
  return it == services_.end() ? EndpointsMap{} : merge_tracked(service, it->second.slices, topology_);
}

size_t EndpointSliceTracker::pending() const {
  std::lock_guard lk(mu_);
  return dirty_.size();
}

}  // namespace knode::proxy
