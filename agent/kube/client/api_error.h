// Errors from the Kubernetes API: the HTTP code and the metav1.Status the server sent (reason,
// message), or a transport failure (code 0). ApiResult<T> carries either a value or an ApiError so
// that callers can branch on is_conflict(), is_not_found(), is_gone() as client-go's apierrors do.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/json/value.hpp>

#include "agent/base/result.h"

namespace knode::kube {

class ApiError {
 public:
  ApiError() = default;
  // A transport-level failure (no HTTP response): connection refused, TLS, timeout, ...
  static ApiError transport(std::string message);
  ApiError(int code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  int code() const { return code_; }                // HTTP status, 0 for transport errors
  const std::string& reason() const { return reason_; }  // StatusReason ("NotFound", "Conflict", ...)
  const std::string& message() const { return message_; }
  int retry_after_seconds() const { return retry_after_seconds_; }
  void set_retry_after_seconds(int s) { retry_after_seconds_ = s; }

  bool is_transport() const { return code_ == 0; }
  bool is_not_found() const;
  bool is_conflict() const;
  bool is_already_exists() const;
  // 410 Gone / reason Expired or Gone: the resourceVersion is too old (relist).
  bool is_gone() const;
  bool is_unauthorized() const { return code_ == 401; }
  bool is_forbidden() const { return code_ == 403; }
  bool is_too_many_requests() const { return code_ == 429; }
  bool is_invalid() const { return code_ == 422; }
  bool is_server_timeout() const { return code_ == 504 || reason_ == "Timeout" || reason_ == "ServerTimeout"; }

  // "code 404 NotFound: pods \"x\" not found" / "transport: connection refused".
  std::string to_string() const;
  Error to_error() const { return Error(to_string()); }

 private:
  int code_ = 0;
  std::string reason_;
  std::string message_;
  int retry_after_seconds_ = 0;
};

// Builds an ApiError from an HTTP status and a response body. A metav1.Status body gives reason and
// message; any other body is summarised (first 256 bytes) and the reason is derived from the code.
ApiError api_error_from_response(int http_code, std::string_view body);
// The same from an already-parsed body (a Status object, or anything else).
ApiError api_error_from_status(int http_code, const boost::json::value& body);
// StatusReason upstream associates with an HTTP code ("NotFound" for 404, ...), "" if none.
std::string_view reason_for_code(int http_code);

// Either a T or an ApiError.
template <class T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
  ApiResult(ApiError error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ApiError& error() const { return std::get<1>(v_); }
  // Adapts to the project's Result<T>.
  Result<T> to_result() && {
    if (ok()) return std::move(*this).value();
    return error().to_error();
  }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace knode::kube
