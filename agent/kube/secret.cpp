#include "agent/kube/secret.h"

#include "agent/kube/bytes_codec.h"
#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(Secret) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("immutable", o.immutable)
   ("data", o.data)("stringData", o.string_data)("type", o.type);
}

#undef KUBE_DESCRIBE

Result<Secret> decode_secret(const json::value& v) {
  return decode_object<Secret>(v, DecodeOptions{.kind = "Secret", .api_version = "v1"});
}

Result<Secret> decode_secret_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("secret");
  return decode_secret(*root);
}

std::string encode_secret_json(const Secret& s) {
  Secret out = s;
  if (out.api_version.empty()) out.api_version = "v1";
  if (out.kind.empty()) out.kind = "Secret";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
