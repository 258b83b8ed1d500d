#include "agent/kube/tokenrequest.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(BoundObjectReference) {
  v("kind", o.kind)("apiVersion", o.api_version)("name", o.name)("uid", o.uid);
}
KUBE_DESCRIBE(TokenRequestSpec) {
  v("audiences", o.audiences, kAlways)("expirationSeconds", o.expiration_seconds)
   ("boundObjectRef", o.bound_object_ref);
}
KUBE_DESCRIBE(TokenRequestStatus) {
  v("token", o.token, kAlways)("expirationTimestamp", o.expiration_timestamp);
}
KUBE_DESCRIBE(TokenRequest) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec, kAlways)
   ("status", o.status);
}

#undef KUBE_DESCRIBE

Result<TokenRequest> decode_token_request(const json::value& v) {
  return decode_object<TokenRequest>(v, DecodeOptions{.kind = "TokenRequest", .api_version = kAuthenticationApiVersion});
}

Result<TokenRequest> decode_token_request_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("tokenrequest");
  return decode_token_request(*root);
}

std::string encode_token_request_json(const TokenRequest& tr) {
  TokenRequest out = tr;
  if (out.api_version.empty()) out.api_version = kAuthenticationApiVersion;
  if (out.kind.empty()) out.kind = "TokenRequest";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
