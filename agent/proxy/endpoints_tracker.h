// EndpointSliceTracker: watch callbacks record EndpointSlices per Service; checkout() merges the
// slices of every changed Service into endpoints per service port and hands them back, dropping
// changes that end where the last checkout left them (it keeps a digest of what it reported, not
// a second copy of the endpoints).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/kube/endpointslice.h"
#include "agent/proxy/clock.h"
#include "agent/proxy/service_tracker.h"
#include "netrules/model.h"

namespace knode::proxy {

struct EndpointInfo {
  std::string ip;
  int port = 0;
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  bool is_local = false;  // nodeName is this node
  std::string zone;
  std::vector<std::string> zone_hints;  // hints.forZones, sorted
  std::string str() const;  // "ip:port"
  bool operator==(const EndpointInfo&) const = default;
};

using EndpointsMap = std::map<netrules::ServicePortName, std::vector<EndpointInfo>>;

struct EndpointsChange {
  EndpointsMap current;  // this service's endpoints per port now (empty: none left)
  std::optional<WallTime> trigger_time;  // earliest last-change-trigger-time among the updates
};

// Endpoints' zones and hints, interned: a handful of distinct values shared by many endpoints.
// Entries are never removed (there are at most a few per zone).
class TopologyTable {
 public:
  struct Entry {
    std::string zone;
    std::vector<std::string> hints;  // hints.forZones, sorted
    auto operator<=>(const Entry&) const = default;
  };
  uint32_t intern(Entry e);
  const Entry& at(uint32_t id) const { return entries_[id]; }

 private:
  std::vector<Entry> entries_{Entry{}};  // 0: no zone, no hints
  std::map<Entry, uint32_t> ids_{{Entry{}, 0}};
};

// What the tracker keeps of one EndpointSlice (not the whole API object). The addresses are kept
// one after another in one string (16 bytes per endpoint plus its text, instead of 40 with a
// std::string each).
struct TrackedSlice {
  struct Port {
    std::string name;
    netrules::Protocol protocol = netrules::Protocol::TCP;
    int port = 0;
  };
  struct Endpoint {
    uint32_t ip_offset = 0;  // in `ips`
    uint8_t ip_size = 0;
    bool ready = true, serving = true, terminating = false, is_local = false;
    uint32_t topology = 0;  // in the tracker's TopologyTable
  };
  std::vector<Port> ports;
  std::vector<Endpoint> endpoints;
  std::string ips;
  std::string_view ip(const Endpoint& e) const { return std::string_view(ips).substr(e.ip_offset, e.ip_size); }
};
TrackedSlice track_slice(const kube::EndpointSlice& s, const std::string& node_name, TopologyTable& topology);

// Merges one Service's slices (by slice name) into endpoints per port, for one IP family.
EndpointsMap merge_slices(const std::map<std::string, kube::EndpointSlice>& slices,
                          const std::string& node_name, netrules::IPFamily family);
EndpointsMap merge_tracked(const NamespacedName& service, const std::map<std::string, TrackedSlice>& slices,
                           const TopologyTable& topology);

class EndpointSliceTracker {
 public:
  EndpointSliceTracker(std::string node_name, netrules::IPFamily family)
      : node_name_(std::move(node_name)), family_(family) {}

  // previous/current as the informer reports them (either may be null). Slices without the
  // kubernetes.io/service-name label or of another address family are ignored (returns false).
  bool update(const kube::EndpointSlice* previous, const kube::EndpointSlice* current);
  std::map<NamespacedName, EndpointsChange> checkout();
  // The same, one service at a time: each service's endpoints are merged, handed to `fn` and
  // freed before the next (checkout() at 10k Services x 10 endpoints holds ~10 MiB at once).
  void checkout(const std::function<void(const NamespacedName&, EndpointsChange&&)>& fn);
  size_t pending() const;
  // A service's endpoints per port as tracked now (its slices merged).
  EndpointsMap endpoints(const NamespacedName& service) const;

 private:
  std::string node_name_;
  netrules::IPFamily family_;
  mutable std::mutex mu_;
  struct Service {
    std::map<std::string, TrackedSlice> slices;  // by slice name
    uint64_t reported = 0;  // digest of what the last checkout reported (0: nothing)
  };
  // An entry lives while the service has slices or a reported digest.
  std::map<NamespacedName, Service> services_;
  TopologyTable topology_;
  std::map<NamespacedName, std::optional<WallTime>> dirty_;
};

// Parses an RFC 3339 time ("2026-11-27T20:38:23Z", fractional seconds and offsets allowed).
std::optional<WallTime> parse_rfc3339(const std::string& s);

}  // namespace knode::proxy
