// authentication.k8s.io/v1 TokenReview: how the kubelet's server authenticates a bearer token
// (webhook token authentication): the token and audiences; the status says who it belongs to.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

struct TokenReviewSpec {
  std::string token;
  std::vector<std::string> audiences;
  bool operator==(const TokenReviewSpec&) const = default;
};

struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool operator==(const UserInfo&) const = default;
};

struct TokenReviewStatus {
  bool authenticated = false;
  UserInfo user;
  std::vector<std::string> audiences;
  std::string error;
  bool operator==(const TokenReviewStatus&) const = default;
};

struct TokenReview {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  TokenReviewSpec spec;
  TokenReviewStatus status;
  bool operator==(const TokenReview&) const = default;
};

// Errors read `tokenreview: status.authenticated: expected boolean, got "yes"` (reviews have no name).
Result<TokenReview> decode_token_review(const boost::json::value& v);
Result<TokenReview> decode_token_review_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_token_review_json(const TokenReview& tr);

}  // namespace knode::kube
