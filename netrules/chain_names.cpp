#include "netrules/chain_names.h"

#include <openssl/evp.h>

#include <array>

namespace knode::netrules {
namespace {

std::string hash16(std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  // Fetched once: EVP_sha256() makes every EVP_Digest look the algorithm up again (and lock).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_Digest(input.data(), input.size(), md.data(), &len, sha256 ? sha256 : EVP_sha256(), nullptr);
  // Only 16 base32 characters (80 bits = the first 10 bytes) are needed.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve(16);
  uint64_t buffer = 0;
  int bits = 0;
  for (unsigned i = 0; i < len && out.size() < 16; ++i) {
    buffer = (buffer << 8) | md[i];
    bits += 8;
    while (bits >= 5 && out.size() < 16) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return out;
}

}  // namespace

std::string port_proto_hash(std::string_view service_port_name, std::string_view protocol) {
  std::string in;
  in.reserve(service_port_name.size() + protocol.size());
  in.append(service_port_name).append(protocol);
  return hash16(in);
}

ServiceChainNames service_chain_names(const ServicePortName& name) {
  std::string h = port_proto_hash(name.str(), protocol_lower(name.protocol));
  return {.cluster = "KUBE-SVC-" + h, .local = "KUBE-SVL-" + h, .external = "KUBE-EXT-" + h,
          .firewall = "KUBE-FW-" + h};
}

std::string endpoint_chain_name(const ServicePortName& name, const Endpoint& ep) {
  std::string in = name.str();
  in += protocol_lower(name.protocol);
  in += ep.str();
  return "KUBE-SEP-" + hash16(in);
}

bool is_service_chain_name(std::string_view c) {
  for (std::string_view p : {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"})
    if (c.starts_with(p)) return true;
  return false;
}

}  // namespace knode::netrules
