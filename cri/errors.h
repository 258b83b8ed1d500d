// Errors from the container runtime: the gRPC status code and message, with what knode was doing.
//
//   RunPodSandbox for pod "default/web": rpc error: code = Unknown desc = failed to setup network
//
// The text after "rpc error:" follows the format Go's gRPC uses, so messages read the same as in
// upstream kubelet logs. Callers that must act on the code (NotFound on a removed container, say)
// recover it with code_of(), which also sees through context added later with Error::wrap().
#pragma once

#include <string>
#include <string_view>

#include "agent/base/result.h"

namespace knode::cri {

// The gRPC status codes (same numbers as grpc::StatusCode; kept here so callers need no gRPC header).
enum class Code : int {
  Ok = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
};

// "NotFound", "DeadlineExceeded", ...; "Code(42)" for numbers outside the table.
std::string code_name(Code code);

// `<what>: rpc error: code = <Code> desc = <message>`; `what` may be empty.
Error rpc_error(std::string_view what, Code code, std::string_view message);

// The code carried by an error made with rpc_error (wrapped or not); Unknown for any other error.
Code code_of(const Error& error);
inline bool is_not_found(const Error& error) { return code_of(error) == Code::NotFound; }
inline bool is_unavailable(const Error& error) { return code_of(error) == Code::Unavailable; }
inline bool is_deadline_exceeded(const Error& error) {
  return code_of(error) == Code::DeadlineExceeded;
}

// Descriptions of what was being done, shared by every Runtime implementation:
//   for_pod("RunPodSandbox", "ns", "name")  -> RunPodSandbox for pod "ns/name"
//   on("StartContainer", id)                -> StartContainer "id"
std::string for_pod(std::string_view op, std::string_view ns, std::string_view name);
std::string on(std::string_view op, std::string_view id);

}  // namespace knode::cri
