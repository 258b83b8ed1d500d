// The boundary to plugin binaries: find one by type in the bin dirs, and run it with an environment
// and stdin. ProcessExecutor runs real processes; FakeExecutor answers from test code.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"

namespace knode::cni {

struct ExecRequest {
  std::string path;              // the plugin binary
  std::vector<std::string> env;  // "CNI_COMMAND=ADD", ... (the executor adds the inherited environment)
  std::string stdin_data;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

struct ExecOutput {
  int exit_code = 0;       // valid when !signaled && !timed_out
  int term_signal = 0;     // the signal that ended it, if any
  bool timed_out = false;  // killed by the executor at the deadline
  std::string stdout_data;
  std::string stderr_data;
  bool success() const { return !timed_out && term_signal == 0 && exit_code == 0; }
};

class Executor {
 public:
  virtual ~Executor() = default;
  // The first executable `dirs[i]/type`; the error names the type and the dirs searched.
  virtual Result<std::string> find_plugin(std::string_view type, const std::vector<std::string>& dirs) = 0;
  // Runs it to completion (or the timeout); an Error only when it could not be started.
  virtual Result<ExecOutput> run(const ExecRequest& req) = 0;
};

}  // namespace knode::cni
