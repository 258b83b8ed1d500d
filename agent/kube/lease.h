// coordination.k8s.io/v1 Lease: the node heartbeat the kubelet renews (holder, duration, acquire and
// renew times as MicroTime, transitions), with the same one-description codec as the other types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kLeaseApiVersion = "coordination.k8s.io/v1";
inline constexpr std::string_view kNodeLeaseNamespace = "kube-node-lease";

struct LeaseSpec {
  std::optional<std::string> holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<Time> acquire_time;  // MicroTime: 2024-05-01T10:00:00.123456Z
  std::optional<Time> renew_time;    // MicroTime
  std::optional<int32_t> lease_transitions;
  std::optional<std::string> strategy;  // OldestEmulationVersion (coordinated leader election)
  std::optional<std::string> preferred_holder;
  bool operator==(const LeaseSpec&) const = default;
};

struct Lease {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  LeaseSpec spec;
  bool operator==(const Lease&) const = default;
};

// Errors read `lease "kube-node-lease/n1": spec.leaseDurationSeconds: expected integer, got "40"`.
Result<Lease> decode_lease(const boost::json::value& v);
Result<Lease> decode_lease_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_lease_json(const Lease& l);

}  // namespace knode::kube
