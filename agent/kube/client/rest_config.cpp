#include "agent/kube/client/rest_config.h"

namespace knode::kube {

std::string default_user_agent(std::string_view component, std::string_view kube_version,
                               std::string_view knode_version) {
#if defined(__x86_64__)
  constexpr std::string_view arch = "amd64";
#elif defined(__aarch64__)
  constexpr std::string_view arch = "arm64";
#else
  constexpr std::string_view arch = "unknown";
#endif
  std::string ua(component);
  ua += "/";
  ua += kube_version;
  ua += " (linux/";
  ua += arch;
  ua += ") knode/";
  ua += knode_version;
  return ua;
}

}  // namespace knode::kube
