// authorization.k8s.io/v1 SubjectAccessReview: how the kubelet's server authorizes a request
// (webhook authorization): the user and the resource or non-resource attributes asked about; the
// status says allowed or denied and why.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kAuthorizationApiVersion = "authorization.k8s.io/v1";

struct ResourceAttributes {
  std::string namespace_;
  std::string verb;
  std::string group;
  std::string version;
  std::string resource;
  std::string subresource;
  std::string name;
  bool operator==(const ResourceAttributes&) const = default;
};

struct NonResourceAttributes {
  std::string path;
  std::string verb;
  bool operator==(const NonResourceAttributes&) const = default;
};

struct SubjectAccessReviewSpec {
  std::optional<ResourceAttributes> resource_attributes;
  std::optional<NonResourceAttributes> non_resource_attributes;
  std::string user;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  std::string uid;
  bool operator==(const SubjectAccessReviewSpec&) const = default;
};

struct SubjectAccessReviewStatus {
  bool allowed = false;
  bool denied = false;
  std::string reason;
  std::string evaluation_error;
  bool operator==(const SubjectAccessReviewStatus&) const = default;
};

struct SubjectAccessReview {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  SubjectAccessReviewSpec spec;
  SubjectAccessReviewStatus status;
  bool operator==(const SubjectAccessReview&) const = default;
};

// Errors read `subjectaccessreview: status.allowed: expected boolean, got "true"`.
Result<SubjectAccessReview> decode_subject_access_review(const boost::json::value& v);
Result<SubjectAccessReview> decode_subject_access_review_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_subject_access_review_json(const SubjectAccessReview& sar);

}  // namespace knode::kube
