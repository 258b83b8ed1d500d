// core/v1 ConfigMap: text data, binary data (base64 on the wire, bytes here) and immutability, as
// configMap volumes and environment variables read them.
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

struct ConfigMap {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  std::map<std::string, std::string> data;
  std::map<std::string, Bytes> binary_data;
  std::optional<bool> immutable;
  bool operator==(const ConfigMap&) const = default;
};

// Errors read `configmap "ns/cfg": binaryData.blob: illegal base64 data at input byte 3`.
Result<ConfigMap> decode_config_map(const boost::json::value& v);
Result<ConfigMap> decode_config_map_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_config_map_json(const ConfigMap& c);

}  // namespace knode::kube
