#include "cni/runtime_conf.h"

namespace knode::cni {

std::string format_cni_args(const CniArgs& args) {
  std::string out;
  for (const auto& [k, v] : args) {
    if (!out.empty()) out.push_back(';');
    out += k + "=" + v;
  }
  return out;
}

Result<CniArgs> parse_cni_args(std::string_view text) {
  CniArgs out;
  while (!text.empty()) {
    auto semi = text.find(';');
    std::string_view pair = text.substr(0, semi);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return Error("invalid CNI_ARGS pair \"" + std::string(pair) + "\": want KEY=VALUE");
      }
      out.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    }
    if (semi == std::string_view::npos) break;
    text = text.substr(semi + 1);
  }
  return out;
}

CniArgs kubernetes_cni_args(std::string_view pod_namespace, std::string_view pod_name,
                            std::string_view infra_container_id, std::string_view pod_uid) {
  return {{"IgnoreUnknown", "1"},
          {"K8S_POD_NAMESPACE", std::string(pod_namespace)},
          {"K8S_POD_NAME", std::string(pod_name)},
          {"K8S_POD_INFRA_CONTAINER_ID", std::string(infra_container_id)},
          {"K8S_POD_UID", std::string(pod_uid)}};
}

}  // namespace knode::cni
