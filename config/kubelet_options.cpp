// Placeholder: replaced by the KubeletConfiguration loader.
#include "config/kubelet_options.h"

namespace knode::config {

Result<KubeletOptions> load_kubelet_options(const std::vector<std::string>& args) {
  KubeletOptions o;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") o.help = true;
    else if (a == "--version") o.version = true;
    else return Error("unknown flag: " + a);
  }
  return o;
}
std::string kubelet_usage() { return "Usage:\n  kubelet [flags]\n"; }

}  // namespace knode::config
