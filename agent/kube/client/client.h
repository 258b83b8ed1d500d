// kube::Client — the boundary to the Kubernetes API server. A plain interface (no Asio/Beast here):
// asynchronous calls and watches whose callbacks run on the client's event-loop thread (used by the
// reflector), an event loop's post/post_after, and synchronous helpers for any other thread
// (get/list/create/update/patch/remove, status subresources) returning ApiResult.
//
//   auto c = kube::make_rest_client(cfg, {.registry = &registry});
//   auto pod = (*c)->get(kube::resource_path("v1", "pods", "default", "web-1"));
//   if (!pod && pod.error().is_not_found()) ...
//   auto st = kube::retry_on_conflict([&] { ...get, modify, update... });
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/storage_ptr.hpp>

#include <boost/json/value.hpp>

#include "agent/kube/client/api_error.h"
#include "agent/kube/client/watch_decoder.h"

namespace knode::kube {

using Query = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";           // GET, POST, PUT, PATCH, DELETE
  std::string path;                     // "/api/v1/namespaces/default/pods" (before the server's prefix)
  Query query;
  std::string body;
  std::string content_type;             // defaults to application/json when body is set
  std::chrono::milliseconds timeout{0}; // 0: the client's default (not used by watches)
  // Where a JSON response body is parsed to (default: the heap), e.g. make_page_arena().
  boost::json::storage_ptr storage;
};

enum class PatchType { Merge, StrategicMerge, Json, Apply };
std::string_view content_type(PatchType t);

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<std::string> propagation_policy;  // "Orphan", "Background", "Foreground"
  bool dry_run = false;
};
std::string to_json(const DeleteOptions& o);

// Something started on the event loop that can be stopped from any thread (a watch, a timer).
class Cancelable {
 public:
  virtual ~Cancelable() = default;
  virtual void cancel() = 0;
};

struct WatchCallbacks {
  // Each decoded event, in order, on the event-loop thread.
  std::function<void(WatchEvent&&)> on_event;
  // The stream ended: nullopt when the server closed it cleanly (timeoutSeconds), else why
  // (HTTP status with the server's Status, transport failure, or an undecodable event). Not called
  // after cancel().
  std::function<void(std::optional<ApiError>)> on_done;
};

class Client {
 public:
  using Done = std::function<void(ApiResult<boost::json::value>)>;
  virtual ~Client() = default;

  // ---- asynchronous; callbacks run on the event-loop thread ----
  virtual void call_async(Request req, Done done) = 0;
  // `req` is a GET on a collection; watch=true is added by the client.
  virtual std::shared_ptr<Cancelable> watch_async(Request req, WatchCallbacks cb) = 0;
  virtual void post(std::function<void()> fn) = 0;
  virtual std::shared_ptr<Cancelable> post_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual bool on_loop_thread() const = 0;
  // "host:port" of the server (metrics label, log lines).
  virtual std::string host() const = 0;

  // ---- synchronous; block the calling thread, which must not be the event-loop thread ----
  ApiResult<boost::json::value> call(Request req);
  ApiResult<boost::json::value> get(std::string path, Query query = {});
  ApiResult<boost::json::value> list(std::string path, Query query = {}) { return get(std::move(path), std::move(query)); }
  ApiResult<boost::json::value> create(std::string collection_path, const boost::json::value& obj, Query query = {});
  // PUT; the object's metadata.resourceVersion makes it conditional (409 Conflict when stale).
  ApiResult<boost::json::value> update(std::string path, const boost::json::value& obj, Query query = {});
  ApiResult<boost::json::value> patch(std::string path, PatchType type, std::string_view patch, Query query = {});
  ApiResult<boost::json::value> remove(std::string path, const DeleteOptions& options = {});
  // PUT/PATCH on the status subresource of `path`.
  ApiResult<boost::json::value> update_status(std::string path, const boost::json::value& obj);
  ApiResult<boost::json::value> patch_status(std::string path, PatchType type, std::string_view patch);
};

// "/api/v1/namespaces/ns/pods/name/status", "/apis/apps/v1/deployments", "/api/v1/nodes/n1".
// group_version is "v1" for the core group or "group/version".
std::string resource_path(std::string_view group_version, std::string_view resource,
                          std::string_view ns = {}, std::string_view name = {},
                          std::string_view subresource = {});
// Percent-encodes as Go's url.Values.Encode does (keys in the given order).
std::string encode_query(const Query& q);

// client-go's retry.RetryOnConflict with DefaultRetry (5 steps, 10 ms, jitter 0.1): calls fn until it
// returns something other than a Conflict error.
template <class F>
auto retry_on_conflict(F&& fn, int steps = 5, std::chrono::milliseconds delay = std::chrono::milliseconds(10)) {
  auto r = fn();
  for (int i = 1; i < steps && !r.ok() && r.error().is_conflict(); ++i) {
    std::this_thread::sleep_for(delay + delay * (i % 3) / 20);
    r = fn();
  }
  return r;
}

}  // namespace knode::kube
