// discovery.k8s.io/v1 EndpointSlice: addresses with ready/serving/terminating conditions, node,
// zone and topology hints, and the ports; with the same one-description codec as the other types.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
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

// An optional member kept behind a pointer: 8 bytes while absent, as an endpoint's hostname and
// hints mostly are (std::optional holds the whole value inline in each of 100k endpoints).
template <class T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}
  Boxed(T v) : p_(std::make_unique<T>(std::move(v))) {}
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(T v) {
    p_ = std::make_unique<T>(std::move(v));
    return *this;
  }
  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return *p_; }
  T& operator*() { return *p_; }
  const T* operator->() const { return p_.get(); }
  T* operator->() { return p_.get(); }
  T value_or(T fallback) const { return p_ ? *p_ : std::move(fallback); }
  void reset() { p_.reset(); }
  friend bool operator==(const Boxed& a, const Boxed& b) { return a.p_ ? b.p_ && *a.p_ == *b.p_ : !b.p_; }

 private:
  std::unique_ptr<T> p_;
};

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

// An endpoint's targetRef (kind, namespace, name, uid), kept as one string: every endpoint has
// one and nothing in the agent reads it, so four separate strings per endpoint would only cost
// memory (~100 bytes each, 10 MiB at 100k endpoints).
class ObjectReferenceLite {
 public:
  ObjectReferenceLite() = default;
  ObjectReferenceLite(std::string_view kind, std::string_view namespace_name, std::string_view name,
                      std::string_view uid);
  std::string_view kind() const { return part(0); }
  std::string_view namespace_() const { return part(1); }
  std::string_view name() const { return part(2); }
  std::string_view uid() const { return part(3); }
  bool operator==(const ObjectReferenceLite&) const = default;

 private:
  std::string_view part(size_t i) const;
  std::string text_;                 // the four fields, concatenated
  std::array<uint32_t, 3> ends_{};   // where kind, namespace and name end in text_
};

struct SliceEndpoint {
  std::vector<std::string> addresses;
  EndpointConditions conditions;
  Boxed<std::string> hostname;
  std::optional<ObjectReferenceLite> target_ref;
  std::optional<std::string> node_name;
  std::optional<std::string> zone;
  Boxed<EndpointHints> hints;
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
