// Runs plugins as child processes: fork/exec without a shell, stdin/stdout/stderr through pipes,
// every other fd closed, signals reset, its own process group (killed whole at the deadline), reaped.
#pragma once

#include "cni/executor.h"

namespace knode::cni {

class ProcessExecutor : public Executor {
 public:
  Result<std::string> find_plugin(std::string_view type, const std::vector<std::string>& dirs) override;
  Result<ExecOutput> run(const ExecRequest& req) override;
};

}  // namespace knode::cni
