#include "agent/kube/serviceaccount.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"
#include "agent/kube/object_reference_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(ServiceAccount) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("secrets", o.secrets)
   ("imagePullSecrets", o.image_pull_secrets)("automountServiceAccountToken", o.automount_service_account_token);
}

#undef KUBE_DESCRIBE

Result<ServiceAccount> decode_service_account(const json::value& v) {
  return decode_object<ServiceAccount>(v, DecodeOptions{.kind = "ServiceAccount", .api_version = "v1"});
}

Result<ServiceAccount> decode_service_account_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("serviceaccount");
  return decode_service_account(*root);
}

std::string encode_service_account_json(const ServiceAccount& sa) {
  ServiceAccount out = sa;
  if (out.api_version.empty()) out.api_version = "v1";
  if (out.kind.empty()) out.kind = "ServiceAccount";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
