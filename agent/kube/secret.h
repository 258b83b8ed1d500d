// core/v1 Secret: type, data (base64 on the wire, bytes here), stringData (write-only convenience
// the API server merges into data) and immutability, as secret volumes and pull secrets read them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/bytes.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kSecretTypeOpaque = "Opaque";
inline constexpr std::string_view kSecretTypeDockerConfigJson = "kubernetes.io/dockerconfigjson";
inline constexpr std::string_view kSecretTypeDockerConfig = "kubernetes.io/dockercfg";
inline constexpr std::string_view kSecretTypeServiceAccountToken = "kubernetes.io/service-account-token";
inline constexpr std::string_view kSecretTypeTLS = "kubernetes.io/tls";

struct Secret {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::optional<bool> immutable;
  std::map<std::string, Bytes> data;
  std::map<std::string, std::string> string_data;
  std::string type;  // Opaque when empty
  bool operator==(const Secret&) const = default;
};

// Errors name the key: `secret "ns/tls": data.tls.key: illegal base64 data at input byte 4`.
Result<Secret> decode_secret(const boost::json::value& v);
Result<Secret> decode_secret_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_secret_json(const Secret& s);

}  // namespace knode::kube
