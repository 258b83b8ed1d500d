#include "agent/kube/client/client.h"

#include <future>

#include <boost/json/serialize.hpp>

#include "agent/kube/client/rest_client.h"

namespace knode::kube {

namespace json = boost::json;

std::string_view content_type(PatchType t) {
  switch (t) {
    case PatchType::Merge: return "application/merge-patch+json";
    case PatchType::StrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::Json: return "application/json-patch+json";
    case PatchType::Apply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

std::string to_json(const DeleteOptions& o) {
  json::object d{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (o.grace_period_seconds) d["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (o.precondition_uid || o.precondition_resource_version) {
    json::object p;
    if (o.precondition_uid) p["uid"] = *o.precondition_uid;
    if (o.precondition_resource_version) p["resourceVersion"] = *o.precondition_resource_version;
    d["preconditions"] = std::move(p);
  }
  if (o.propagation_policy) d["propagationPolicy"] = *o.propagation_policy;
  if (o.dry_run) d["dryRun"] = json::array{"All"};
  return json::serialize(d);
}

std::string resource_path(std::string_view gv, std::string_view resource, std::string_view ns,
                          std::string_view name, std::string_view sub) {
  std::string p = gv.find('/') == std::string_view::npos ? "/api/" : "/apis/";
  p += gv;
  if (!ns.empty()) {
    p += "/namespaces/";
    p += ns;
  }
  p += "/";
  p += resource;
  if (!name.empty()) {
    p += "/";
    p += name;
    if (!sub.empty()) {
      p += "/";
      p += sub;
    }
  }
  return p;
}

namespace {
void escape(std::string& out, std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
}
}  // namespace

std::string encode_query(const Query& q) {
  std::string out;
  for (auto& [k, v] : q) {
    if (!out.empty()) out += '&';
    escape(out, k);
    out += '=';
    escape(out, v);
  }
  return out;
}

ApiResult<json::value> Client::call(Request req) {
  if (on_loop_thread())
    return ApiError::transport("synchronous API call on the client's event-loop thread (would deadlock)");
  auto promise = std::make_shared<std::promise<ApiResult<json::value>>>();
  auto fut = promise->get_future();
  call_async(std::move(req), [promise](ApiResult<json::value> r) { promise->set_value(std::move(r)); });
  return fut.get();
}

ApiResult<json::value> Client::get(std::string path, Query query) {
  return call(Request{.method = "GET", .path = std::move(path), .query = std::move(query)});
}

ApiResult<json::value> Client::create(std::string path, const json::value& obj, Query query) {
  return call(Request{.method = "POST", .path = std::move(path), .query = std::move(query),
                      .body = json::serialize(obj)});
}

ApiResult<json::value> Client::update(std::string path, const json::value& obj, Query query) {
  return call(Request{.method = "PUT", .path = std::move(path), .query = std::move(query),
                      .body = json::serialize(obj)});
}

ApiResult<json::value> Client::patch(std::string path, PatchType type, std::string_view patch, Query query) {
  return call(Request{.method = "PATCH", .path = std::move(path), .query = std::move(query),
                      .body = std::string(patch), .content_type = std::string(content_type(type))});
}

ApiResult<json::value> Client::remove(std::string path, const DeleteOptions& options) {
  return call(Request{.method = "DELETE", .path = std::move(path), .body = to_json(options)});
}

ApiResult<json::value> Client::update_status(std::string path, const json::value& obj) {
  return update(std::move(path) + "/status", obj);
}

ApiResult<json::value> Client::patch_status(std::string path, PatchType type, std::string_view p) {
  return patch(std::move(path) + "/status", type, p);
}

// ---- server URL ----

std::string ServerUrl::host_port() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

Result<ServerUrl> parse_server_url(std::string_view url) {
  ServerUrl u;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return Error("server URL \"" + std::string(url) + "\" must start with https:// or http://");
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    u.prefix = std::string(prefix);
  }
  if (hostport.empty()) return Error("server URL \"" + std::string(url) + "\" has no host");
  if (hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Error("server URL \"" + std::string(url) + "\": unterminated IPv6 address");
    u.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (after.starts_with(":")) u.port = std::string(after.substr(1));
  } else {
    size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      u.host = std::string(hostport.substr(0, colon));
      u.port = std::string(hostport.substr(colon + 1));
    } else {
      u.host = std::string(hostport);
    }
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  for (char c : u.port)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return Error("server URL \"" + std::string(url) + "\": invalid port \"" + u.port + "\"");
  return u;
}

}  // namespace knode::kube
