#include "agent/kube/node.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(Taint) {
  v("key", o.key, kAlways)("value", o.value)("effect", o.effect, kAlways)("timeAdded", o.time_added);
}
KUBE_DESCRIBE(NodeSpec) {
  v("podCIDR", o.pod_cidr)("podCIDRs", o.pod_cidrs)("providerID", o.provider_id)
   ("unschedulable", o.unschedulable)("taints", o.taints);
}
KUBE_DESCRIBE(NodeAddress) { v("type", o.type, kAlways)("address", o.address, kAlways); }
KUBE_DESCRIBE(NodeStatusLite) { v("addresses", o.addresses); }
KUBE_DESCRIBE(Node) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec)("status", o.status);
}

#undef KUBE_DESCRIBE

std::string Node::zone() const {
  auto it = metadata.labels.find(std::string(kTopologyZoneLabel));
  return it == metadata.labels.end() ? std::string() : it->second;
}

std::vector<std::string> Node::all_pod_cidrs() const {
  if (!spec.pod_cidrs.empty()) return spec.pod_cidrs;
  if (!spec.pod_cidr.empty()) return {spec.pod_cidr};
  return {};
}

std::string Node::address(std::string_view type) const {
  for (const auto& a : status.addresses)
    if (a.type == type) return a.address;
  return {};
}

Result<Node> decode_node(const json::value& v) {
  return decode_object<Node>(v, DecodeOptions{.kind = "Node", .api_version = "v1"});
}

Result<Node> decode_node_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("node");
  return decode_node(*root);
}

std::string encode_node_json(const Node& n) { return to_json_text(encode_value(n)); }

}  // namespace knode::kube
