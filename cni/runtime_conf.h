// What one attachment is invoked with, besides the network configuration.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/result.h"

namespace knode::cni {

using CniArgs = std::vector<std::pair<std::string, std::string>>;

struct RuntimeConf {
  std::string container_id;
  std::string netns;  // path, e.g. /var/run/netns/cni-1234
  std::string ifname = "eth0";
  CniArgs args;       // CNI_ARGS, in order
  // Capability → its value as JSON text (e.g. "portMappings" → "[{...}]"). A plugin gets in its
  // runtimeConfig only the capabilities its configuration declares.
  std::map<std::string, std::string> capability_args;
};

// One (container, interface) a GC must keep.
struct Attachment {
  std::string container_id;
  std::string ifname;
  bool operator==(const Attachment&) const = default;
};

// "K=V;K2=V2".
std::string format_cni_args(const CniArgs& args);
Result<CniArgs> parse_cni_args(std::string_view text);
// The arguments the kubelet passes: IgnoreUnknown=1 and the K8S_POD_* keys.
CniArgs kubernetes_cni_args(std::string_view pod_namespace, std::string_view pod_name,
                            std::string_view infra_container_id, std::string_view pod_uid);

}  // namespace knode::cni
