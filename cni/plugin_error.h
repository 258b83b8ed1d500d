// The error a plugin prints on stdout when it fails: {"cniVersion", "code", "msg", "details"}.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace knode::cni {

// Well-known codes (spec "Error" section); plugins may use 100+.
enum ErrorCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIOFailure = 5,
  kDecodeFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kPluginNotAvailable = 50,
  kLimitedConnectivity = 51,
  kInternal = 999,  // knode's own failures when it answers as a plugin
};

struct PluginError {
  int code = 0;
  std::string msg;
  std::string details;
  // "msg; details" as libcni renders it (details omitted when empty).
  std::string text() const { return details.empty() ? msg : msg + "; " + details; }
  bool operator==(const PluginError&) const = default;
};

// Reads a plugin's error JSON; nullopt when `out` is not one (no "code" or not JSON).
std::optional<PluginError> parse_plugin_error(std::string_view out);
// The error JSON a plugin prints (knode itself, in plugin mode).
std::string plugin_error_json(const PluginError& e, std::string_view cni_version);

}  // namespace knode::cni
