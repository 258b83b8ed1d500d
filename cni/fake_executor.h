// An Executor for tests: plugins are functions registered by type; every call is recorded.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cni/executor.h"

namespace knode::cni {

struct FakeCall {
  std::string type;
  std::string command;  // CNI_COMMAND
  std::vector<std::string> env;
  std::string stdin_data;
  std::string env_value(std::string_view key) const;  // "" when absent
};

class FakeExecutor : public Executor {
 public:
  using Plugin = std::function<ExecOutput(const FakeCall&)>;

  // Registers a plugin reachable in every dir as "/fake/<type>".
  void add_plugin(const std::string& type, Plugin fn) { plugins_[type] = std::move(fn); }
  const std::vector<FakeCall>& calls() const { return calls_; }
  void clear_calls() { calls_.clear(); }

  Result<std::string> find_plugin(std::string_view type, const std::vector<std::string>& dirs) override;
  Result<ExecOutput> run(const ExecRequest& req) override;

  // Helpers for plugin bodies.
  static ExecOutput ok(std::string stdout_data = {}) { return ExecOutput{.stdout_data = std::move(stdout_data)}; }
  static ExecOutput fail(int code, const std::string& msg, const std::string& details = {});
  // A plugin's VERSION answer listing every version knode speaks (0.3.0 … 1.1.0).
  static ExecOutput all_versions();

 private:
  std::map<std::string, Plugin, std::less<>> plugins_;
  std::vector<FakeCall> calls_;
};

}  // namespace knode::cni
