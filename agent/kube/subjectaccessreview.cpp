#include "agent/kube/subjectaccessreview.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(ResourceAttributes) {
  v("namespace", o.namespace_)("verb", o.verb)("group", o.group)("version", o.version)
   ("resource", o.resource)("subresource", o.subresource)("name", o.name);
}
KUBE_DESCRIBE(NonResourceAttributes) { v("path", o.path)("verb", o.verb); }
KUBE_DESCRIBE(SubjectAccessReviewSpec) {
  v("resourceAttributes", o.resource_attributes)("nonResourceAttributes", o.non_resource_attributes)
   ("user", o.user)("groups", o.groups)("extra", o.extra)("uid", o.uid);
}
KUBE_DESCRIBE(SubjectAccessReviewStatus) {
  v("allowed", o.allowed, kAlways)("denied", o.denied)("reason", o.reason)("evaluationError", o.evaluation_error);
}
KUBE_DESCRIBE(SubjectAccessReview) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec, kAlways)
   ("status", o.status);
}

#undef KUBE_DESCRIBE

Result<SubjectAccessReview> decode_subject_access_review(const json::value& v) {
  return decode_object<SubjectAccessReview>(
      v, DecodeOptions{.kind = "SubjectAccessReview", .api_version = kAuthorizationApiVersion});
}

Result<SubjectAccessReview> decode_subject_access_review_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("subjectaccessreview");
  return decode_subject_access_review(*root);
}

std::string encode_subject_access_review_json(const SubjectAccessReview& sar) {
  SubjectAccessReview out = sar;
  if (out.api_version.empty()) out.api_version = kAuthorizationApiVersion;
  if (out.kind.empty()) out.kind = "SubjectAccessReview";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
