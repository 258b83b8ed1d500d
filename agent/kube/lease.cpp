#include "agent/kube/lease.h"

#include "agent/kube/codec.h"
#include "agent/kube/meta_codec.h"

namespace knode::kube {

#define KUBE_DESCRIBE(T) \
  template <class V, class O> requires Is<O, T> void visit_fields(V& v, O& o)

KUBE_DESCRIBE(LeaseSpec) {
  v("holderIdentity", o.holder_identity)("leaseDurationSeconds", o.lease_duration_seconds)
   ("acquireTime", o.acquire_time)("renewTime", o.renew_time)("leaseTransitions", o.lease_transitions)
   ("strategy", o.strategy)("preferredHolder", o.preferred_holder);
}
KUBE_DESCRIBE(Lease) { v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec); }

#undef KUBE_DESCRIBE

Result<Lease> decode_lease(const json::value& v) {
  return decode_object<Lease>(v, DecodeOptions{.kind = "Lease", .api_version = kLeaseApiVersion});
}

Result<Lease> decode_lease_json(std::string_view text) {
  auto root = parse_json(text);
  if (!root) return root.error().wrap("lease");
  return decode_lease(*root);
}

std::string encode_lease_json(const Lease& l) {
  Lease out = l;
  if (out.api_version.empty()) out.api_version = kLeaseApiVersion;
  if (out.kind.empty()) out.kind = "Lease";
  return to_json_text(encode_value(out));
}

}  // namespace knode::kube
