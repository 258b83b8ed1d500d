// core/v1 ServiceAccount: the secrets and image pull secrets it names and whether its token is
// mounted into pods by default.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/meta.h"
#include "agent/kube/object_reference.h"

namespace knode::kube {

struct ServiceAccount {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::vector<ObjectReference> secrets;
  std::vector<LocalObjectReference> image_pull_secrets;
  std::optional<bool> automount_service_account_token;
  bool operator==(const ServiceAccount&) const = default;
};

// Errors read `serviceaccount "ns/default": imagePullSecrets[0]: expected object, got "x"`.
Result<ServiceAccount> decode_service_account(const boost::json::value& v);
Result<ServiceAccount> decode_service_account_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_service_account_json(const ServiceAccount& sa);

}  // namespace knode::kube
