// certificates.k8s.io/v1 CertificateSigningRequest: how the kubelet asks for its client and serving
// certificates (PEM request, signer, usages, requested lifetime) and reads back the approval
// conditions and the issued certificate. request and certificate travel base64-encoded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "agent/base/result.h"
#include "agent/kube/bytes.h"
#include "agent/kube/meta.h"

namespace knode::kube {

inline constexpr std::string_view kCsrApiVersion = "certificates.k8s.io/v1";
inline constexpr std::string_view kKubeAPIServerClientKubeletSigner = "kubernetes.io/kube-apiserver-client-kubelet";
inline constexpr std::string_view kKubeletServingSigner = "kubernetes.io/kubelet-serving";

struct CertificateSigningRequestSpec {
  Bytes request;  // PEM "CERTIFICATE REQUEST"
  std::string signer_name;
  std::optional<int32_t> expiration_seconds;
  std::vector<std::string> usages;  // "digital signature", "key encipherment", "client auth", "server auth"
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool operator==(const CertificateSigningRequestSpec&) const = default;
};

struct CertificateSigningRequestCondition {
  std::string type;    // Approved, Denied, Failed
  std::string status;  // True, False, Unknown
  std::string reason;
  std::string message;
  Time last_update_time;
  Time last_transition_time;
  bool operator==(const CertificateSigningRequestCondition&) const = default;
};

struct CertificateSigningRequestStatus {
  std::vector<CertificateSigningRequestCondition> conditions;
  Bytes certificate;  // PEM chain, issued certificate first
  bool operator==(const CertificateSigningRequestStatus&) const = default;
};

struct CertificateSigningRequest {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  CertificateSigningRequestSpec spec;
  CertificateSigningRequestStatus status;
  bool operator==(const CertificateSigningRequest&) const = default;

  // True when a condition of this type has status True ("Approved", "Denied", "Failed").
  bool has_condition(std::string_view type) const;
};

// Errors read `certificatesigningrequest "csr-x": spec.request: illegal base64 data at input byte 7`.
Result<CertificateSigningRequest> decode_certificate_signing_request(const boost::json::value& v);
Result<CertificateSigningRequest> decode_certificate_signing_request_json(std::string_view text);
// apiVersion and kind are filled in when empty.
std::string encode_certificate_signing_request_json(const CertificateSigningRequest& csr);

}  // namespace knode::kube
