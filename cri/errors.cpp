#include "cri/errors.h"

#include <array>
#include <fmt/format.h>

namespace knode::cri {
namespace {

constexpr std::array<std::string_view, 17> kCodeNames = {
    "OK",           "Canceled",         "Unknown",           "InvalidArgument",
    "DeadlineExceeded", "NotFound",     "AlreadyExists",     "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Aborted",    "OutOfRange",
    "Unimplemented", "Internal",        "Unavailable",       "DataLoss",
    "Unauthenticated"};

constexpr std::string_view kMarker = "rpc error: code = ";

}  // namespace

std::string code_name(Code code) {
  auto i = static_cast<int>(code);
  if (i >= 0 && i < static_cast<int>(kCodeNames.size())) return std::string(kCodeNames[i]);
  return fmt::format("Code({})", i);
}

Error rpc_error(std::string_view what, Code code, std::string_view message) {
  std::string text = fmt::format("{}{} desc = {}", kMarker, code_name(code), message);
  if (what.empty()) return Error(std::move(text));
  return Error(fmt::format("{}: {}", what, text));
}

Code code_of(const Error& error) {
  // The first marker is ours: context is only ever prepended, while the runtime's own message
  // (after "desc = ") may quote further errors.
  std::string_view m = error.message();
  auto at = m.find(kMarker);
  if (at == std::string_view::npos) return Code::Unknown;
  std::string_view rest = m.substr(at + kMarker.size());
  auto end = rest.find(' ');
  std::string_view name = rest.substr(0, end);
  for (size_t i = 0; i < kCodeNames.size(); ++i) {
    if (kCodeNames[i] == name) return static_cast<Code>(i);
  }
  return Code::Unknown;
}

std::string for_pod(std::string_view op, std::string_view ns, std::string_view name) {
  return fmt::format("{} for pod \"{}/{}\"", op, ns, name);
}

std::string on(std::string_view op, std::string_view id) {
  return fmt::format("{} \"{}\"", op, id);
}

}  // namespace knode::cri
