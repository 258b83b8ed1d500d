// The reflector keeps a Store equal to a collection on the API server, as client-go's
// tools/cache/reflector.go: LIST in pages (limit/continue), then WATCH from the list's
// resourceVersion with bookmarks and a randomized timeoutSeconds (5–10 min), resuming from the last
// seen resourceVersion after any disconnect; on 410 Gone (HTTP, ERROR event, "too old resource
// version") it relists and replaces the store, so that objects deleted meanwhile are reported as
// deletions. Failures back off exponentially with jitter. Runs on the client's event loop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "agent/kube/client/backoff.h"
#include "agent/kube/client/client.h"
#include "agent/kube/client/store.h"

namespace knode::kube {

struct ReflectorOptions {
  std::string name;                 // for logs, e.g. "pods"
  std::string path;                 // collection, e.g. "/api/v1/pods" or "/api/v1/namespaces/ns/pods"
  std::string label_selector;
  std::string field_selector;       // e.g. "spec.nodeName=node1"
  int page_size = 500;
  BackoffPolicy backoff;
  std::chrono::seconds min_watch_timeout{300};  // timeoutSeconds is drawn from [min, 2*min)
  // A watch that ends within this time without any event counts as a failure (backs off).
  std::chrono::milliseconds short_watch{1000};
  // Applied to every listed or watched object before it is cached (client-go's SetTransform), e.g. to
  // drop metadata.managedFields and save memory. Runs on the event-loop thread: keep it cheap.
  std::function<boost::json::value(boost::json::value&&)> transform;
  // Called between two pages of a list, after a page went into the store; the next page is
  // requested once `resume` is called (from any thread). The informer uses it to let its handlers
  // catch up, so that a list holds a page or two of whole objects rather than all of them.
  std::function<void(std::function<void()> resume)> between_pages;
  // Parse each list page into its own PageArena (page_arena.h) instead of the heap. Only when the
  // listed objects are not kept whole by the store or the handlers.
  bool page_arena = false;
};

struct ReflectorStats {
  uint64_t lists = 0;            // completed (re)lists
  uint64_t list_pages = 0;
  uint64_t watches = 0;          // watch requests started
  uint64_t gone = 0;             // 410 / Expired seen
  uint64_t watch_errors = 0;     // watch failures other than 410 (incl. undecodable events)
  uint64_t events = 0;           // ADDED/MODIFIED/DELETED applied
  uint64_t bookmarks = 0;
  std::string last_error;
};

class Reflector : public std::enable_shared_from_this<Reflector> {
 public:
  // `store` must outlive the reflector's stop().
  static std::shared_ptr<Reflector> create(std::shared_ptr<Client> client, Store* store, ReflectorOptions options);
  ~Reflector();

  void start();
  // Stops listing and watching; no store call happens after it returns (when called off the loop).
  void stop();

  // True once the first list was put into the store.
  bool synced() const { return synced_.load(); }
  std::string last_sync_resource_version() const;
  ReflectorStats stats() const;
  // Called on the loop thread after each (re)list was put into the store (the informer marks sync).
  void on_replaced(std::function<void()> fn) { on_replaced_ = std::move(fn); }

 private:
  Reflector(std::shared_ptr<Client> client, Store* store, ReflectorOptions options);
  struct ListState;

  void list(bool consistent);
  void list_page(std::shared_ptr<ListState> st);
  void watch();
  void on_watch_event(uint64_t gen, WatchEvent&& ev);
  void on_watch_done(uint64_t gen, std::optional<ApiError> err);
  void retry_after_backoff(bool relist, const std::string& why);
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  double random01();
  void set_rv(std::string rv);
  void set_error(std::string e);

  std::shared_ptr<Client> client_;
  Store* store_;
  ReflectorOptions opts_;
  Backoff backoff_;
  uint64_t rng_state_;

  // Loop-thread state.
  bool stopped_ = false;
  uint64_t watch_gen_ = 0;
  std::shared_ptr<Cancelable> watch_;
  std::shared_ptr<Cancelable> timer_;
  std::chrono::steady_clock::time_point watch_started_{};
  uint64_t watch_events_ = 0;
  bool relist_pending_ = false;
  std::function<void()> on_replaced_;

  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_requested_{false};
  mutable std::mutex mu_;  // guards rv_ and stats_ for readers on other threads
  std::string rv_;
  ReflectorStats stats_;
};

}  // namespace knode::kube
