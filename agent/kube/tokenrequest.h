// authentication.k8s.io/v1 TokenRequest (the serviceaccounts/token subresource): audiences, lifetime
// and the object the token is bound to; the status carries the token and its expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kAuthenticationApiVersion = "authentication.k8s.io/v1";

struct BoundObjectReference {
  std::string kind;  // Pod, Secret, Node
  std::string api_version;
  std::string name;
  std::string uid;
  bool operator==(const BoundObjectReference&) const = default;
};

struct TokenRequestSpec {
  std::vector<std::string> audiences;
  std::optional<int64_t> expiration_seconds;
  std::optional<BoundObjectReference> bound_object_ref;
  bool operator==(const TokenRequestSpec&) const = default;
};

struct TokenRequestStatus {
  std::string token;
  Time expiration_timestamp;
  bool operator==(const TokenRequestStatus&) const = default;
};

struct TokenRequest {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  TokenRequestSpec spec;
  TokenRequestStatus status;
  bool operator==(const TokenRequest&) const = default;
};

// Errors read `tokenrequest "ns/default": spec.expirationSeconds: expected integer, got "1h"`.
Result<TokenRequest> decode_token_request(const boost::json::value& v);
Result<TokenRequest> decode_token_request_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_token_request_json(const TokenRequest& tr);

}  // namespace knode::kube
