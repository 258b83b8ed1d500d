#include "agent/kube/client/store.h"

#include <mutex>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace knode::kube {

namespace json = boost::json;

namespace {
const json::object* metadata(const json::value& obj) {
  auto* o = obj.if_object();
  if (!o) return nullptr;
  auto* md = o->if_contains("metadata");
  return md ? md->if_object() : nullptr;
}
std::string_view meta_string(const json::value& obj, std::string_view field) {
  auto* md = metadata(obj);
  if (!md) return {};
  auto* v = md->if_contains(field);
  if (!v || !v->is_string()) return {};
  return v->get_string();
}
}  // namespace

std::string object_key(const json::value& obj) {
  auto name = meta_string(obj, "name");
  if (name.empty()) return {};
  auto ns = meta_string(obj, "namespace");
  if (ns.empty()) return std::string(name);
  std::string k;
  k.reserve(ns.size() + 1 + name.size());
  k += ns;
  k += '/';
  k += name;
  return k;
}

std::string resource_version(const json::value& obj) { return std::string(meta_string(obj, "resourceVersion")); }

std::vector<std::string> namespace_index(const json::value& obj) {
  auto ns = meta_string(obj, "namespace");
  return {std::string(ns)};
}

Cached Cached::text_of(const json::value& v) {
  // One allocation for the count and the NUL-terminated text (JSON text has no raw NUL).
  const std::string text = json::serialize(v);
  auto buf = std::make_shared<char[]>(text.size() + 1);
  std::copy(text.begin(), text.end(), buf.get());
  Cached c;
  c.p_ = std::move(buf);
  c.text_ = true;
  return c;
}

ObjectPtr Cached::object() const {
  if (!p_) return nullptr;
  if (!text_) return std::static_pointer_cast<const json::value>(p_);
  boost::system::error_code ec;
  auto v = json::parse(std::string_view(static_cast<const char*>(p_.get())), ec);
  if (ec) return nullptr;  // not reached: the text was serialized here
  return std::make_shared<const json::value>(std::move(v));
}

Store::Store() = default;
Store::~Store() = default;

void Store::add_indexer(std::string name, IndexFunc fn) {
  std::unique_lock lk(mu_);
  Index idx{std::move(fn), {}};
  for (auto& [key, item] : items_)
    if (auto obj = item.object())
      for (auto& v : idx.fn(*obj)) idx.values[v].insert(key);
  indexes_[std::move(name)] = std::move(idx);
}

void Store::set_observer(Observer fn) {
  std::unique_lock lk(mu_);
  observer_ = std::move(fn);
}

void Store::set_retain(RetainFunc fn) {
  std::unique_lock lk(mu_);
  retain_ = std::move(fn);
}

ObjectPtr Store::get(std::string_view key) const {
  std::shared_lock lk(mu_);
  auto it = items_.find(std::string(key));
  return it == items_.end() ? nullptr : it->second.object();
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock lk(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (auto& [_, item] : items_)
    if (auto o = item.object()) out.push_back(std::move(o));
  return out;
}

std::vector<std::string> Store::keys() const {
  std::shared_lock lk(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (auto& [k, _] : items_) out.push_back(k);
  return out;
}

std::vector<ObjectPtr> Store::by_index(std::string_view index, std::string_view value) const {
  std::shared_lock lk(mu_);
  std::vector<ObjectPtr> out;
  auto it = indexes_.find(index);
  if (it == indexes_.end()) return out;
  auto vit = it->second.values.find(std::string(value));
  if (vit == it->second.values.end()) return out;
  for (auto& key : vit->second) {
    auto o = items_.find(key);
    if (o != items_.end())
      if (auto obj = o->second.object()) out.push_back(std::move(obj));
  }
  return out;
}

std::vector<std::string> Store::index_values(std::string_view index) const {
  std::shared_lock lk(mu_);
  std::vector<std::string> out;
  auto it = indexes_.find(index);
  if (it == indexes_.end()) return out;
  for (auto& [v, keys] : it->second.values)
    if (!keys.empty()) out.push_back(v);
  return out;
}

size_t Store::size() const {
  std::shared_lock lk(mu_);
  return items_.size();
}

Store::Snapshot Store::snapshot(const std::function<void()>& under_lock) const {
  std::shared_lock lk(mu_);
  if (under_lock) under_lock();
  Snapshot out;
  out.reserve(items_.size());
  for (auto& [key, item] : items_)
    if (auto o = item.object()) out.emplace(key, std::move(o));
  return out;
}

void Store::index_add(const std::string& key, const json::value& obj) {
  for (auto& [_, idx] : indexes_)
    for (auto& v : idx.fn(obj)) idx.values[v].insert(key);
}

void Store::index_remove(const std::string& key, const json::value& obj) {
  for (auto& [_, idx] : indexes_) {
    for (auto& v : idx.fn(obj)) {
      auto it = idx.values.find(v);
      if (it == idx.values.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) idx.values.erase(it);
    }
  }
}

void Store::emit(Delta&& d) {
  if (observer_) observer_(std::move(d));
}

void Store::put_locked(std::string key, ObjectPtr obj) {
  auto it = items_.find(key);
  ObjectPtr prev;  // the cached state (parsed again when kept as text)
  if (it != items_.end()) {
    if (it->second == Cached(obj)) return;
    prev = it->second.object();
    const std::string rv = resource_version(*obj);
    if (!rv.empty() && prev && rv == resource_version(*prev)) return;
  }
  ObjectPtr retained = retain_ ? std::make_shared<const json::value>(retain_(*obj)) : obj;
  Cached kept = retain_ ? Cached::text_of(*retained) : Cached(obj);
  if (it == items_.end()) {
    index_add(key, *retained);
    items_.emplace(key, kept);
    emit(Delta{Delta::Type::Added, std::move(key), nullptr, std::move(obj), std::move(kept)});
    return;
  }
  if (prev) index_remove(key, *prev);
  index_add(key, *retained);
  it->second = kept;
  emit(Delta{Delta::Type::Updated, std::move(key), std::move(prev), std::move(obj), std::move(kept)});
}

void Store::erase_locked(const std::string& key, ObjectPtr final_state) {
  auto it = items_.find(key);
  if (it == items_.end()) return;
  ObjectPtr old_obj = it->second.object();
  items_.erase(it);
  if (old_obj) index_remove(key, *old_obj);
  emit(Delta{Delta::Type::Deleted, key, old_obj, final_state ? std::move(final_state) : old_obj});
}

void Store::apply(WatchEventType type, ObjectPtr obj) {
  if (!obj) return;
  std::string key = object_key(*obj);
  if (key.empty()) return;
  std::unique_lock lk(mu_);
  switch (type) {
    case WatchEventType::Added:
    case WatchEventType::Modified:
      put_locked(std::move(key), std::move(obj));
      break;
    case WatchEventType::Deleted:
      erase_locked(key, std::move(obj));
      break;
    default:
      break;
  }
}

void Store::replace(std::vector<ObjectPtr> items) {
  replace_begin();
  replace_page(std::move(items));
  replace_end();
}

void Store::replace_begin() {
  std::unique_lock lk(mu_);
  listed_.clear();
}

void Store::replace_page(std::vector<ObjectPtr> items) {
  std::unique_lock lk(mu_);
  for (auto& obj : items) {
    if (!obj) continue;
    std::string key = object_key(*obj);
    if (key.empty()) continue;
    listed_.insert(key);
    put_locked(std::move(key), std::move(obj));
  }
}

void Store::replace_end() {
  std::unique_lock lk(mu_);
  std::vector<std::string> gone;
  for (auto& [k, _] : items_)
    if (!listed_.count(k)) gone.push_back(k);
  std::unordered_set<std::string>().swap(listed_);
  for (auto& k : gone) erase_locked(k, nullptr);
}

Store::RetainFunc retain_metadata(std::vector<std::string> labels, std::vector<std::string> fields) {
  return [labels = std::move(labels), fields = std::move(fields)](const json::value& obj) {
    json::object out;
    auto* o = obj.if_object();
    if (!o) return json::value(std::move(out));
    json::object md;
    if (auto* m = metadata(obj)) {
      for (std::string_view f : {"name", "namespace", "resourceVersion"})
        if (auto* v = m->if_contains(f)) md.emplace(f, *v);
      auto* all = m->if_contains("labels");
      if (all && all->is_object() && !labels.empty()) {
        json::object kept;
        for (const auto& l : labels)
          if (auto* v = all->get_object().if_contains(l)) kept.emplace(l, *v);
        if (!kept.empty()) md.emplace("labels", std::move(kept));
      }
    }
    out.emplace("metadata", std::move(md));
    for (const auto& f : fields)
      if (auto* v = o->if_contains(f)) out.emplace(f, *v);
    return json::value(std::move(out));
  };
}

}  // namespace knode::kube
