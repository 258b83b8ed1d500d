// meta []byte fields as JSON carries them (standard base64 with padding), held decoded: Secret and
// ConfigMap binary data, a CSR's request and certificate.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/base/result.h"

namespace knode::kube {

struct Bytes {
  std::string data;  // raw bytes
  bool empty() const { return data.empty(); }
  bool operator==(const Bytes&) const = default;
};

// Standard base64 with padding, as Go's encoding/base64.StdEncoding writes it.
std::string base64_encode(std::string_view raw);
// Decodes as Go's StdEncoding does (padding required, CR and LF ignored); the error reads
// `illegal base64 data at input byte 5`.
Result<std::string> base64_decode(std::string_view text);

}  // namespace knode::kube
