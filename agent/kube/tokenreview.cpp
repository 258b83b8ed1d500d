#include "agent/kube/tokenreview.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"
#include "agent/kube/tokenrequest.h"  // kAuthenticationApiVersion

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(TokenReviewSpec) { v("token", o.token)("audiences", o.audiences); }
KUBE_DESCRIBE(UserInfo) { v("username", o.username)("uid", o.uid)("groups", o.groups)("extra", o.extra); }
KUBE_DESCRIBE(TokenReviewStatus) {
  v("authenticated", o.authenticated)("user", o.user)("audiences", o.audiences)("error", o.error);
}
KUBE_DESCRIBE(TokenReview) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec, kAlways)
   ("status", o.status);
}

#undef KUBE_DESCRIBE

Result<TokenReview> decode_token_review(const json::value& v) {
  return decode_object<TokenReview>(v, DecodeOptions{.kind = "TokenReview", .api_version = kAuthenticationApiVersion});
}

Result<TokenReview> decode_token_review_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("tokenreview");
  return decode_token_review(*root);
}

std::string encode_token_review_json(const TokenReview& tr) {
  TokenReview out = tr;
  if (out.api_version.empty()) out.api_version = kAuthenticationApiVersion;
  if (out.kind.empty()) out.kind = "TokenReview";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
