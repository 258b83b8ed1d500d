#include "agent/kube/configmap.h"

#include "agent/kube/bytes_codec.h"
#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(ConfigMap) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("immutable", o.immutable)
   ("data", o.data)("binaryData", o.binary_data);
}

#undef KUBE_DESCRIBE

Result<ConfigMap> decode_config_map(const json::value& v) {
  return decode_object<ConfigMap>(v, DecodeOptions{.kind = "ConfigMap", .api_version = "v1"});
}

Result<ConfigMap> decode_config_map_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("configmap");
  return decode_config_map(*root);
}

std::string encode_config_map_json(const ConfigMap& c) {
  ConfigMap out = c;
  if (out.api_version.empty()) out.api_version = "v1";
  if (out.kind.empty()) out.kind = "ConfigMap";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
