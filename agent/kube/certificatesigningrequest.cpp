#include "agent/kube/certificatesigningrequest.h"

#include "agent/kube/bytes_codec.h"
#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(CertificateSigningRequestSpec) {
  v("request", o.request, kAlways)("signerName", o.signer_name, kAlways)
   ("expirationSeconds", o.expiration_seconds)("usages", o.usages)("username", o.username)("uid", o.uid)
   ("groups", o.groups)("extra", o.extra);
}
KUBE_DESCRIBE(CertificateSigningRequestCondition) {
  v("type", o.type, kAlways)("status", o.status, kAlways)("reason", o.reason)("message", o.message)
   ("lastUpdateTime", o.last_update_time)("lastTransitionTime", o.last_transition_time);
}
KUBE_DESCRIBE(CertificateSigningRequestStatus) { v("conditions", o.conditions)("certificate", o.certificate); }
KUBE_DESCRIBE(CertificateSigningRequest) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec, kAlways)
   ("status", o.status);
}

#undef KUBE_DESCRIBE

bool CertificateSigningRequest::has_condition(std::string_view type) const {
  for (const auto& c : status.conditions)
    if (c.type == type && c.status == "True") return true;
  return false;
}

Result<CertificateSigningRequest> decode_certificate_signing_request(const json::value& v) {
  return decode_object<CertificateSigningRequest>(
      v, DecodeOptions{.kind = "CertificateSigningRequest", .api_version = kCsrApiVersion});
}

Result<CertificateSigningRequest> decode_certificate_signing_request_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("certificatesigningrequest");
  return decode_certificate_signing_request(*root);
}

std::string encode_certificate_signing_request_json(const CertificateSigningRequest& csr) {
  CertificateSigningRequest out = csr;
  if (out.api_version.empty()) out.api_version = kCsrApiVersion;
  if (out.kind.empty()) out.kind = "CertificateSigningRequest";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
