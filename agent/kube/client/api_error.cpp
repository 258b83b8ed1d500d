#include "agent/kube/client/api_error.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace knode::kube {

namespace json = boost::json;

ApiError ApiError::transport(std::string message) { return ApiError(0, "", std::move(message)); }

bool ApiError::is_not_found() const { return code_ == 404 || reason_ == "NotFound"; }
bool ApiError::is_conflict() const { return code_ == 409 && reason_ != "AlreadyExists"; }
bool ApiError::is_already_exists() const { return reason_ == "AlreadyExists"; }
bool ApiError::is_gone() const {
  return code_ == 410 || reason_ == "Expired" || reason_ == "Gone";
}

std::string ApiError::to_string() const {
  if (code_ == 0) return "transport: " + message_;
  std::string s = "code " + std::to_string(code_);
  if (!reason_.empty()) s += " " + reason_;
  if (!message_.empty()) s += ": " + message_;
  return s;
}

std::string_view reason_for_code(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

namespace {
std::string summarise(std::string_view body) {
  constexpr size_t kMax = 256;
  std::string s(body.substr(0, kMax));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (body.size() > kMax) s += "...";
  return s;
}
}  // namespace

ApiError api_error_from_status(int http_code, const json::value& body) {
  const json::object* o = body.if_object();
  if (o != nullptr) {
    auto kind = o->find("kind");
    if (kind != o->end() && kind->value().is_string() && kind->value().get_string() == "Status") {
      std::string reason, message;
      int code = http_code;
      if (auto* r = o->if_contains("reason"); r && r->is_string()) reason = r->get_string();
      if (auto* m = o->if_contains("message"); m && m->is_string()) message = m->get_string();
      if (auto* c = o->if_contains("code"); c && c->is_int64() && c->get_int64() > 0) {
        // The server's HTTP code wins when present; a Status inside a watch ERROR event has none.
        if (http_code == 0) code = static_cast<int>(c->get_int64());
      }
      if (reason.empty()) reason = std::string(reason_for_code(code));
      ApiError e(code, std::move(reason), std::move(message));
      if (auto* d = o->if_contains("details"); d && d->is_object()) {
        if (auto* ra = d->as_object().if_contains("retryAfterSeconds"); ra && ra->is_int64())
          e.set_retry_after_seconds(static_cast<int>(ra->get_int64()));
      }
      return e;
    }
  }
  return ApiError(http_code, std::string(reason_for_code(http_code)),
                  summarise(json::serialize(body)));
}

ApiError api_error_from_response(int http_code, std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) return api_error_from_status(http_code, v);
  return ApiError(http_code, std::string(reason_for_code(http_code)), summarise(body));
}

}  // namespace knode::kube
