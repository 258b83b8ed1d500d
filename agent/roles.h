// Entry points of knode's commands; main.cpp dispatches to them. `args` excludes the command words.
#pragma once

#include <string>
#include <vector>

namespace knode {

int kubelet_main(const std::vector<std::string>& args);
int proxy_main(const std::vector<std::string>& args);
int config_main(const std::vector<std::string>& args);   // knode config print kubelet|proxy ...
int version_main(const std::vector<std::string>& args);
int cni_main(const std::vector<std::string>& args);      // knode cni add|check|del|status|gc|plugin ...
// Subcommands that later layers register (cni, doctor) live in their own files and are listed in
// main.cpp's table.

// "knode v0.1.0 (kubelet/kube-proxy compatible)" etc.
std::string version_string();

}  // namespace knode
