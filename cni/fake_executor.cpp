#include "cni/fake_executor.h"

#include "cni/plugin_error.h"

namespace knode::cni {

std::string FakeCall::env_value(std::string_view key) const {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
  }
  return {};
}

Result<std::string> FakeExecutor::find_plugin(std::string_view type, const std::vector<std::string>& dirs) {
  if (plugins_.find(type) == plugins_.end()) {
    std::string searched;
    for (const auto& d : dirs) searched += (searched.empty() ? "" : " ") + d;
    return Error("failed to find plugin \"" + std::string(type) + "\" in path [" + searched + "]");
  }
  return "/fake/" + std::string(type);
}

Result<ExecOutput> FakeExecutor::run(const ExecRequest& req) {
  std::string type = req.path.substr(req.path.rfind('/') + 1);
  auto it = plugins_.find(type);
  if (it == plugins_.end()) return Error("exec " + req.path + ": no such file or directory");
  FakeCall call{.type = type, .env = req.env, .stdin_data = req.stdin_data};
  call.command = call.env_value("CNI_COMMAND");
  calls_.push_back(call);
  return it->second(call);
}

ExecOutput FakeExecutor::fail(int code, const std::string& msg, const std::string& details) {
  return ExecOutput{.exit_code = 1, .stdout_data = plugin_error_json({code, msg, details}, "1.0.0")};
}

ExecOutput FakeExecutor::all_versions() {
  return ok(R"({"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})");
}

}  // namespace knode::cni
