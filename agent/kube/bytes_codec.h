// The codec of Bytes for visit_fields descriptions (internal header: pulls in Boost.JSON).
#pragma once

#include "agent/kube/bytes.h"
#include "agent/kube/codec.h"

namespace knode::kube {

void decode_value(Decoder& d, const json::value& v, Bytes& out);
json::value encode_value(const Bytes& v);
inline bool is_empty_value(const Bytes& v) { return v.empty(); }

}  // namespace knode::kube
