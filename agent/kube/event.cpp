#include "agent/kube/event.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"
#include "agent/kube/object_reference_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(EventSource) { v("component", o.component)("host", o.host); }
KUBE_DESCRIBE(EventSeries) { v("count", o.count)("lastObservedTime", o.last_observed_time); }
KUBE_DESCRIBE(Event) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)
   ("involvedObject", o.involved_object, kAlways)("reason", o.reason)("message", o.message)
   ("source", o.source)("firstTimestamp", o.first_timestamp)("lastTimestamp", o.last_timestamp)
   ("count", o.count)("type", o.type)("eventTime", o.event_time)("series", o.series)
   ("action", o.action)("related", o.related)("reportingComponent", o.reporting_component, kAlways)
   ("reportingInstance", o.reporting_instance, kAlways);
}

#undef KUBE_DESCRIBE

Result<Event> decode_event(const json::value& v) {
  return decode_object<Event>(v, DecodeOptions{.kind = "Event", .api_version = "v1"});
}

Result<Event> decode_event_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("event");
  return decode_event(*root);
}

std::string encode_event_json(const Event& e) {
  Event out = e;
  if (out.api_version.empty()) out.api_version = "v1";
  if (out.kind.empty()) out.kind = "Event";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
