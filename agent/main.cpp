// knode's multi-call entry: dispatch on argv[0] (kubelet, kube-proxy) or on the first argument.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/signals.h"
#include "agent/roles.h"

namespace {

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

struct Command {
  std::string_view name;
  int (*run)(const std::vector<std::string>&);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"kubelet", knode::kubelet_main, "run the kubelet role (same flags as kubelet)"},
    {"proxy", knode::proxy_main, "run the kube-proxy role (same flags as kube-proxy)"},
    {"config", knode::config_main, "print the effective configuration: config print kubelet|proxy [flags]"},
    {"version", knode::version_main, "print the version"},
    {"cni", knode::cni_main, "run CNI plugins like cnitool: cni add|check|del|status|gc|plugin [flags]"},
};

void usage(FILE* out) {
  std::fprintf(out, "knode: a node agent for Kubernetes (kubelet and kube-proxy in one binary).\n\n"
                    "Usage:\n  knode <command> [flags]\n\nCommands:\n");
  for (const auto& c : kCommands) {
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out, "\nInstalled as `kubelet` or `kube-proxy`, knode runs that role directly.\n");
}

}  // namespace

int main(int argc, char** argv) {
  knode::block_shutdown_signals();
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string_view self = base_name(argc > 0 ? argv[0] : "knode");
  if (self == "kubelet") return knode::kubelet_main(args);
  if (self == "kube-proxy") return knode::proxy_main(args);
  if (self == "knode-cni") return knode::cni_main({"plugin"});

  if (args.empty()) {
    usage(stderr);
    return 1;
  }
  const std::string cmd = args.front();
  if (cmd == "--version" || cmd == "-version") return knode::version_main({});
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (cmd == c.name) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "knode: unknown command %s\n\n", cmd.c_str());
  usage(stderr);
  return 1;
}
