// Runs a helper program (iptables-restore, conntrack, …), optionally inside a network namespace
// (setns in the child), feeding stdin and collecting stdout/stderr.
#pragma once

#include <functional>
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

// The same, with stdin given as pieces written one after another (a large payload need not be
// one string), and stdout handed to `on_stdout` as it arrives instead of collected (when set).
struct ExecIo {
  std::vector<std::string_view> stdin_pieces;
  std::function<void(std::string_view)> on_stdout;
};
Result<ExecOutput> run_program_io(const std::vector<std::string>& argv, const ExecIo& io, const std::string& netns = {});

// "/run/netns/NAME" for a name made by `ip netns add NAME`.
std::string netns_path(std::string_view name);

}  // namespace knode::netrules
