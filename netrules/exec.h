// Runs a helper program (iptables-restore, conntrack, …), optionally inside a network namespace
// (setns in the child), feeding stdin and collecting stdout/stderr.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"

namespace knode::netrules {

struct ExecOutput {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. netns: a path such as /run/netns/NAME, or "" for the caller's.
Result<ExecOutput> run_program(const std::vector<std::string>& argv, std::string_view stdin_data = {},
                               const std::string& netns = {});

// "/run/netns/NAME" for a name made by `ip netns add NAME`.
std::string netns_path(std::string_view name);

}  // namespace knode::netrules
