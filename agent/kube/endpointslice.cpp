#include "agent/kube/endpointslice.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

template <class T>
void decode_value(Decoder& d, const json::value& v, Boxed<T>& out) {
  if (v.is_null()) return;
  T t{};
  decode_value(d, v, t);
  out = std::move(t);
}
template <class T> json::value encode_value(const Boxed<T>& v) { return v ? encode_value(*v) : json::value(nullptr); }
template <class T> bool is_empty_value(const Boxed<T>& v) { return !v.has_value(); }

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(EndpointConditions) { v("ready", o.ready)("serving", o.serving)("terminating", o.terminating); }
KUBE_DESCRIBE(ForZone) { v("name", o.name, kAlways); }
KUBE_DESCRIBE(EndpointHints) { v("forZones", o.for_zones); }
// The wire form of ObjectReferenceLite.
struct ObjectReferenceFields {
  std::string kind, namespace_, name, uid;
};
KUBE_DESCRIBE(ObjectReferenceFields) {
  v("kind", o.kind)("namespace", o.namespace_)("name", o.name)("uid", o.uid);
}
void decode_value(Decoder& d, const json::value& v, ObjectReferenceLite& out) {
  ObjectReferenceFields f;
  decode_value(d, v, f);
  out = ObjectReferenceLite(f.kind, f.namespace_, f.name, f.uid);
}
json::value encode_value(const ObjectReferenceLite& r) {
  return encode_value(ObjectReferenceFields{std::string(r.kind()), std::string(r.namespace_()), std::string(r.name()),
                                            std::string(r.uid())});
}
KUBE_DESCRIBE(SliceEndpoint) {
  v("addresses", o.addresses, kAlways)("conditions", o.conditions)("hostname", o.hostname)
   ("targetRef", o.target_ref)("nodeName", o.node_name)("zone", o.zone)("hints", o.hints);
}
KUBE_DESCRIBE(SlicePort) {
  v("name", o.name)("protocol", o.protocol)("port", o.port)("appProtocol", o.app_protocol);
}
KUBE_DESCRIBE(EndpointSlice) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)
   ("addressType", o.address_type, kAlways)("endpoints", o.endpoints, kAlways)("ports", o.ports);
}

#undef KUBE_DESCRIBE

ObjectReferenceLite::ObjectReferenceLite(std::string_view kind, std::string_view namespace_name, std::string_view name,
                                         std::string_view uid) {
  text_.reserve(kind.size() + namespace_name.size() + name.size() + uid.size());
  size_t i = 0;
  for (std::string_view p : {kind, namespace_name, name}) {
    text_ += p;
    ends_[i++] = static_cast<uint32_t>(text_.size());
  }
  text_ += uid;
}

std::string_view ObjectReferenceLite::part(size_t i) const {
  const size_t begin = i == 0 ? 0 : ends_[i - 1];
  const size_t end = i < ends_.size() ? ends_[i] : text_.size();
  return std::string_view(text_).substr(begin, end - begin);
}

std::string EndpointSlice::service_name() const {
  auto it = metadata.labels.find(std::string(kServiceNameLabel));
  return it == metadata.labels.end() ? std::string() : it->second;
}

Result<EndpointSlice> decode_endpoint_slice(const json::value& v) {
  return decode_object<EndpointSlice>(v, DecodeOptions{.kind = "EndpointSlice", .api_version = "discovery.k8s.io/v1"});
}

Result<EndpointSlice> decode_endpoint_slice_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("endpointslice");
  return decode_endpoint_slice(*root);
}

std::string encode_endpoint_slice_json(const EndpointSlice& s) { return to_json_text(encode_value(s)); }

}  // namespace knode::kube
