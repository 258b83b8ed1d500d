// An informer: a Reflector filling a Store, and event handlers that receive {old, new} for every
// add/update/delete on their own thread through a bounded queue, so a slow handler never blocks the
// network thread. When the queue overflows, it turns into a resync: changes are then kept per
// object (the latest one replaces an earlier one of the same key, so what waits is bounded by the
// number of objects), and the handlers get the difference between what they last saw and each
// changed object's latest state (adds, updates and deletions), so nothing is silently lost. What
// they last saw is the store's previous state carried by each change (the first change of a key
// after an overflow keeps it): the informer keeps no copy of the cache of its own. A list is
// applied page by page and fetches its next page once at most `list_backlog` changes wait.
//
// With a `retain` function the store keeps only part of each object (Store::set_retain): handlers
// still receive the full new object, while `old` in on_update and the object of an on_delete that
// a relist noticed are the retained part. Handlers must then use `old` only for what is retained.
//
//   kube::Informer pods(client, {.reflector = {.name = "pods", .path = "/api/v1/pods",
//                                              .field_selector = "spec.nodeName=node1"}});
//   pods.add_handler({.on_add = ..., .on_update = ..., .on_delete = ...});
//   pods.start();
//   pods.wait_for_sync(std::chrono::seconds(30));
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/kube/client/client.h"
#include "agent/kube/client/reflector.h"
#include "agent/kube/client/store.h"

namespace knode::kube {

struct EventHandler {
  std::function<void(const ObjectPtr& obj)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  // The object's last known state (the DELETED event's object when there was one).
  std::function<void(const ObjectPtr& obj)> on_delete;
  // After the handlers were brought up to date by a resync (queue overflow); optional.
  std::function<void()> on_resync;
};

struct InformerOptions {
  ReflectorOptions reflector;
  size_t queue_capacity = 65536;  // queued changes before an overflow turns into a resync
  Store::RetainFunc retain;       // what the cache keeps of each object (default: all of it)
  // A list fetches its next page only once at most this many changes wait for the handlers, so
  // that a large list holds a few pages of whole objects at a time, not all of them.
  size_t list_backlog = 1000;
};

struct InformerStats {
  uint64_t delivered = 0;   // handler calls made (per change, not per handler)
  uint64_t overflows = 0;   // times the queue overflowed
  uint64_t resyncs = 0;     // resyncs delivered
  size_t queued = 0;
};

class Informer {
 public:
  Informer(std::shared_ptr<Client> client, InformerOptions options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before start().
  void add_handler(EventHandler handler);
  void add_indexer(std::string name, Store::IndexFunc fn) { store_.add_indexer(std::move(name), std::move(fn)); }

  void start();
  // Stops the reflector and the handler thread (pending changes are dropped). Idempotent.
  void stop();

  // The first list is in the store and its changes were handed to the handlers.
  bool has_synced() const;
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  const Store& store() const { return store_; }
  Reflector& reflector() { return *reflector_; }
  InformerStats stats() const;

 private:
  struct Item {
    Delta::Type type;
    std::string key;
    ObjectPtr obj;  // the new object (Added, Updated) or the last state (Deleted)
    ObjectPtr old;  // what the store held before (Updated, Deleted): what the handlers have seen
    uint64_t seq;
  };
  // After an overflow, per key: what the handlers saw (the `old` of its first undelivered change;
  // null when they did not see the object) and its latest change.
  struct Pending {
    ObjectPtr seen;
    Item latest;
  };
  void enqueue(Delta&& d);
  void run_handlers();
  void deliver(const Item& item);
  void deliver_coalesced(const Pending& p);
  void resync();

  Store store_;
  std::shared_ptr<Reflector> reflector_;
  InformerOptions opts_;
  std::vector<EventHandler> handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Item> queue_;
  bool resync_needed_ = false;
  std::unordered_map<std::string, Pending> pending_;  // after an overflow
  bool stopping_ = false;
  std::function<void()> resume_list_;  // a list waiting for the queue to drain
  uint64_t seq_ = 0;              // sequence of enqueued changes
  uint64_t sync_seq_ = 0;         // the first list's last change
  bool sync_marked_ = false;
  uint64_t done_seq_ = 0;         // delivered up to (including resyncs)
  InformerStats stats_;
  std::thread thread_;
  bool started_ = false;
};

}  // namespace knode::kube
