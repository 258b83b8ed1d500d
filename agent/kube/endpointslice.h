// discovery.k8s.io/v1 EndpointSlice: addresses with ready/serving/terminating conditions, node,
// zone and topology hints, and the ports; with the same one-description codec as the other types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr std::string_view kLastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

struct EndpointConditions {
  std::optional<bool> ready;        // nil means ready
  std::optional<bool> serving;      // nil means serving
  std::optional<bool> terminating;  // nil means not terminating
  bool operator==(const EndpointConditions&) const = default;
};

struct ForZone {
  std::string name;
  bool operator==(const ForZone&) const = default;
};

struct EndpointHints {
  std::vector<ForZone> for_zones;
  bool operator==(const EndpointHints&) const = default;
};

struct ObjectReferenceLite {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  bool operator==(const ObjectReferenceLite&) const = default;
};

struct SliceEndpoint {
  std::vector<std::string> addresses;
  EndpointConditions conditions;
  std::optional<std::string> hostname;
  std::optional<ObjectReferenceLite> target_ref;
  std::optional<std::string> node_name;
  std::optional<std::string> zone;
  std::optional<EndpointHints> hints;
  bool operator==(const SliceEndpoint&) const = default;

  bool is_ready() const { return !conditions.ready || *conditions.ready; }
  bool is_serving() const { return !conditions.serving || *conditions.serving; }
  bool is_terminating() const { return conditions.terminating && *conditions.terminating; }
};

struct SlicePort {
  std::optional<std::string> name;
  std::optional<std::string> protocol;  // nil means TCP
  std::optional<int32_t> port;          // nil: all ports
  std::optional<std::string> app_protocol;
  bool operator==(const SlicePort&) const = default;
};

struct EndpointSlice {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::string address_type;  // IPv4, IPv6, FQDN
  std::vector<SliceEndpoint> endpoints;
  std::vector<SlicePort> ports;
  bool operator==(const EndpointSlice&) const = default;

  // The kubernetes.io/service-name label ("" when absent).
  std::string service_name() const;
};

// Errors read `endpointslice "ns/name": endpoints[0].conditions.ready: expected boolean, got 1`.
Result<EndpointSlice> decode_endpoint_slice(const boost::json::value& v);
Result<EndpointSlice> decode_endpoint_slice_json(std::string_view text);
std::string encode_endpoint_slice_json(const EndpointSlice& s);

}  // namespace knode::kube
