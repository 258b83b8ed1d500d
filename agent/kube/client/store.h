// The informer cache: objects keyed by "namespace/name" (or "name" for cluster-scoped objects) with
// named indexers, safe for concurrent readers. The reflector writes it; every change is reported to
// an observer while the store's lock is held, so that a snapshot and the stream of changes after it
// never overlap.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/json/value.hpp>

#include "agent/kube/client/watch_decoder.h"

namespace knode::kube {

// Objects in the cache are immutable and shared with handlers.
using ObjectPtr = std::shared_ptr<const boost::json::value>;

// "namespace/name" or "name" (client-go's MetaNamespaceKeyFunc); "" when metadata.name is missing.
std::string object_key(const boost::json::value& obj);
// metadata.resourceVersion, "" when missing.
std::string resource_version(const boost::json::value& obj);

// What a store keeps of one object: the object itself, or (with a retain function) the retained
// part as compact JSON text, a few hundred bytes instead of a tree of nodes, parsed again when it
// is read. Copies share it; equality is identity.
class Cached {
 public:
  Cached() = default;
  explicit Cached(ObjectPtr obj) : p_(std::move(obj)) {}
  static Cached text_of(const boost::json::value& v);
  // The object (a fresh parse for text; null when empty or when the text does not parse).
  ObjectPtr object() const;
  bool is_text() const { return text_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(const Cached& o) const { return p_ == o.p_; }

 private:
  std::shared_ptr<const void> p_;  // const boost::json::value, or NUL-terminated text
  bool text_ = false;
};

struct Delta {
  enum class Type { Added, Updated, Deleted };
  Type type = Type::Added;
  std::string key;
  ObjectPtr old;   // previous cached object (Updated, Deleted)
  ObjectPtr obj;   // new object (Added, Updated) or the final state (Deleted)
  Cached kept;     // what the store cached of `obj` (Added, Updated): `obj` itself without a retain function
};

class Store {
 public:
  using IndexFunc = std::function<std::vector<std::string>(const boost::json::value&)>;
  using Observer = std::function<void(Delta&&)>;
  using Snapshot = std::unordered_map<std::string, ObjectPtr>;
  // What the store keeps of an object. Unlike the reflector's transform, it applies to the cached
  // copy only: deltas still carry the full new object (Delta::obj), while `old` and the last state of
  // a deletion noticed by a relist are what was kept. The result must keep metadata.name,
  // metadata.namespace and metadata.resourceVersion (keys and change detection) and whatever the
  // indexers read; it is kept as JSON text (Cached), so that
  // reads (get, list, by_index, snapshot) parse it again.
  using RetainFunc = std::function<boost::json::value(const boost::json::value&)>;

  Store();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Configuration, before the store is filled.
  void add_indexer(std::string name, IndexFunc fn);
  void set_observer(Observer fn);
  void set_retain(RetainFunc fn);

  // ---- reads (any thread) ----
  ObjectPtr get(std::string_view key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<std::string> keys() const;
  std::vector<ObjectPtr> by_index(std::string_view index, std::string_view value) const;
  std::vector<std::string> index_values(std::string_view index) const;
  size_t size() const;
  // A copy of the contents; `under_lock` runs while no change can happen.
  Snapshot snapshot(const std::function<void()>& under_lock = {}) const;

  // ---- writes (the reflector) ----
  // A watch event. Added/Modified of an unchanged resourceVersion is ignored.
  void apply(WatchEventType type, ObjectPtr obj);
  // A full list: reports Added/Updated for new or changed objects and Deleted for cached objects
  // that are no longer listed.
  void replace(std::vector<ObjectPtr> items);
  // The same, for a list that arrives in pages: each page's additions and updates are applied (and
  // reported) as it comes, so that a page's objects can be freed before the next one is fetched;
  // replace_end() reports the cached objects no page listed as deleted. A replace_begin() during a
  // replacement starts it over (pages already applied stay).
  void replace_begin();
  void replace_page(std::vector<ObjectPtr> items);
  void replace_end();

 private:
  void index_add(const std::string& key, const boost::json::value& obj);
  void index_remove(const std::string& key, const boost::json::value& obj);
  void put_locked(std::string key, ObjectPtr obj);
  void erase_locked(const std::string& key, ObjectPtr final_state);
  void emit(Delta&& d);

  struct Index {
    IndexFunc fn;
    std::unordered_map<std::string, std::unordered_set<std::string>> values;  // value -> keys
  };
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Cached> items_;
  std::map<std::string, Index, std::less<>> indexes_;
  Observer observer_;
  RetainFunc retain_;
  std::unordered_set<std::string> listed_;  // keys listed by the replacement in progress
};

// A retain function keeping metadata {name, namespace, resourceVersion, the labels named in
// `labels`} and the top-level fields named in `fields` (e.g. an EndpointSlice's addressType).
Store::RetainFunc retain_metadata(std::vector<std::string> labels, std::vector<std::string> fields = {});

// Indexes objects by metadata.namespace (client-go's "namespace" indexer).
std::vector<std::string> namespace_index(const boost::json::value& obj);

}  // namespace knode::kube
