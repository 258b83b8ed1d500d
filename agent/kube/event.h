// core/v1 Event: what the kubelet records about pods and the node (involved object, reason, message,
// source, first/last timestamps and count, or the newer eventTime/series/reporting fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"
#include "agent/kube/object_reference.h"

namespace knode::kube {

inline constexpr std::string_view kEventTypeNormal = "Normal";
inline constexpr std::string_view kEventTypeWarning = "Warning";

struct EventSource {
  std::string component;
  std::string host;
  bool operator==(const EventSource&) const = default;
};

struct EventSeries {
  int32_t count = 0;
  Time last_observed_time;  // MicroTime
  bool operator==(const EventSeries&) const = default;
};

struct Event {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  EventSource source;
  Time first_timestamp;
  Time last_timestamp;
  int32_t count = 0;
  std::string type;  // Normal, Warning
  Time event_time;   // MicroTime
  std::optional<EventSeries> series;
  std::string action;
  std::optional<ObjectReference> related;
  std::string reporting_component;
  std::string reporting_instance;
  bool operator==(const Event&) const = default;
};

// Errors read `event "default/web.17a3": count: expected integer, got "2"`.
Result<Event> decode_event(const boost::json::value& v);
Result<Event> decode_event_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_event_json(const Event& e);

}  // namespace knode::kube
