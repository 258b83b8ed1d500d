#include "agent/kube/client/reflector.h"

#include <future>
#include <random>

#include "agent/base/log.h"
#include "agent/kube/client/page_arena.h"

namespace knode::kube {

namespace json = boost::json;
using std::chrono::steady_clock;

namespace {
// Fires when the carrying closure has run or was dropped by a stopped loop.
struct Signal {
  std::shared_ptr<std::promise<void>> p;
  Signal(std::shared_ptr<std::promise<void>> pr) : p(std::move(pr)) {}
  Signal(Signal&& o) noexcept = default;
  ~Signal() {
    if (p) {
      try {
        p->set_value();
      } catch (...) {
      }
    }
  }
};

bool gone_error(const ApiError& e) {
  return e.is_gone() || e.message().find("too old resource version") != std::string::npos;
}
}  // namespace

struct Reflector::ListState {
  std::string rv_param;
  std::string cont;
  bool full = false;  // a continue token expired: one list without limit
  bool begun = false;  // the store's replacement has begun
  size_t items = 0;
  std::string list_rv;
};

std::shared_ptr<Reflector> Reflector::create(std::shared_ptr<Client> client, Store* store, ReflectorOptions options) {
  return std::shared_ptr<Reflector>(new Reflector(std::move(client), store, std::move(options)));
}

Reflector::Reflector(std::shared_ptr<Client> client, Store* store, ReflectorOptions options)
    : client_(std::move(client)), store_(store), opts_(std::move(options)), backoff_(opts_.backoff) {
  rng_state_ = std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32);
  if (opts_.name.empty()) opts_.name = opts_.path;
}

Reflector::~Reflector() = default;

double Reflector::random01() {
  // splitmix64
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return double(z >> 11) / double(1ULL << 53);
}

void Reflector::start() {
  auto self = shared_from_this();
  client_->post([self] {
    if (!self->stopped_ && !self->stop_requested_) self->list(false);
  });
}

void Reflector::stop() {
  stop_requested_ = true;
  auto self = shared_from_this();
  auto do_stop = [self] {
    self->stopped_ = true;
    ++self->watch_gen_;
    if (self->watch_) self->watch_->cancel();
    if (self->timer_) self->timer_->cancel();
    self->watch_.reset();
    self->timer_.reset();
  };
  if (client_->on_loop_thread()) {
    do_stop();
    return;
  }
  auto p = std::make_shared<std::promise<void>>();
  auto fut = p->get_future();
  client_->post([do_stop, sig = std::make_shared<Signal>(p)] { do_stop(); });
  fut.wait();
}

std::string Reflector::last_sync_resource_version() const {
  std::lock_guard lk(mu_);
  return rv_;
}

ReflectorStats Reflector::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Reflector::set_rv(std::string rv) {
  if (rv.empty()) return;
  std::lock_guard lk(mu_);
  rv_ = std::move(rv);
}

void Reflector::set_error(std::string e) {
  std::lock_guard lk(mu_);
  stats_.last_error = std::move(e);
}

void Reflector::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto self = shared_from_this();
  timer_ = client_->post_after(delay, [self, fn = std::move(fn)] {
    if (!self->stopped_) fn();
  });
}

void Reflector::retry_after_backoff(bool relist, const std::string& why) {
  if (stopped_) return;
  auto delay = backoff_.next(steady_clock::now(), random01());
  set_error(why);
  log::warning("Reflector failure; retrying", "reflector", opts_.name, "error", why, "action",
               relist ? "relist" : "watch", "delayMs", static_cast<int64_t>(delay.count()));
  schedule(delay, [this, relist] {
    if (relist) list(false);
    else watch();
  });
}

void Reflector::list(bool consistent) {
  if (stopped_) return;
  auto st = std::make_shared<ListState>();
  std::string rv = last_sync_resource_version();
  st->rv_param = consistent ? "" : (rv.empty() ? "0" : rv);
  relist_pending_ = consistent;
  list_page(st);
}

void Reflector::list_page(std::shared_ptr<ListState> st) {
  Query q;
  if (!st->cont.empty()) {
    q.emplace_back("limit", std::to_string(opts_.page_size));
    q.emplace_back("continue", st->cont);
  } else {
    if (opts_.page_size > 0 && !st->full) q.emplace_back("limit", std::to_string(opts_.page_size));
    if (!st->rv_param.empty()) q.emplace_back("resourceVersion", st->rv_param);
  }
  if (!opts_.label_selector.empty()) q.emplace_back("labelSelector", opts_.label_selector);
  if (!opts_.field_selector.empty()) q.emplace_back("fieldSelector", opts_.field_selector);
  auto self = shared_from_this();
  Request req{.method = "GET", .path = opts_.path, .query = std::move(q)};
  if (opts_.page_arena) req.storage = make_page_arena();
  client_->call_async(std::move(req), [self, st](ApiResult<json::value> r) {
    if (self->stopped_) return;
    if (!r) {
      const ApiError& e = r.error();
      if (gone_error(e)) {
        {
          std::lock_guard lk(self->mu_);
          ++self->stats_.gone;
        }
        if (!st->cont.empty()) {
          // The continue token expired: fall back to one full list at the same resourceVersion.
          log::infov(2, "Continue token expired; listing without limit", "reflector", self->opts_.name);
          st->cont.clear();
          st->begun = false;  // starts the store's replacement over
          st->items = 0;
          st->full = true;
          self->list_page(st);
          return;
        }
        if (!st->rv_param.empty()) {
          log::infov(1, "Resource version too old for list; relisting consistently", "reflector", self->opts_.name);
          self->list(true);
          return;
        }
      }
      self->retry_after_backoff(true, "list " + self->opts_.path + ": " + e.to_string());
      return;
    }
    json::object* o = r->if_object();
    json::value* items = o ? o->if_contains("items") : nullptr;
    if (!o || (items && !items->is_array() && !items->is_null())) {
      self->retry_after_backoff(true, "list " + self->opts_.path + ": response is not a list");
      return;
    }
    std::string cont;
    if (auto* md = o->if_contains("metadata"); md && md->is_object()) {
      if (auto* v = md->get_object().if_contains("resourceVersion"); v && v->is_string())
        if (st->list_rv.empty() || st->cont.empty()) st->list_rv = std::string(v->get_string());
      if (auto* v = md->get_object().if_contains("continue"); v && v->is_string()) cont = std::string(v->get_string());
    }
    if (!st->begun) {
      self->store_->replace_begin();
      st->begun = true;
    }
    if (items && items->is_array()) {
      auto& arr = items->get_array();
      std::vector<ObjectPtr> page;
      page.reserve(arr.size());
      for (auto& item : arr)
        page.push_back(std::make_shared<const json::value>(
            self->opts_.transform ? self->opts_.transform(std::move(item)) : std::move(item)));
      st->items += page.size();
      *r = json::value();  // the moved-from page
      self->store_->replace_page(std::move(page));
    }
    {
      std::lock_guard lk(self->mu_);
      ++self->stats_.list_pages;
    }
    if (!cont.empty()) {
      st->cont = std::move(cont);
      if (!self->opts_.between_pages) {
        self->list_page(st);
        return;
      }
      std::weak_ptr<Reflector> weak = self;
      self->opts_.between_pages([weak, st] {
        auto me = weak.lock();
        if (!me) return;
        me->client_->post([me, st] {
          if (!me->stopped_) me->list_page(st);
        });
      });
      return;
    }
    size_t n = st->items;
    self->store_->replace_end();
    {
      std::lock_guard lk(self->mu_);
      ++self->stats_.lists;
      if (!st->list_rv.empty()) self->rv_ = st->list_rv;
    }
    self->relist_pending_ = false;
    self->synced_ = true;
    log::infov(2, "Listed", "reflector", self->opts_.name, "items", n, "resourceVersion", st->list_rv);
    if (self->on_replaced_) self->on_replaced_();
    self->watch();
  });
}

void Reflector::watch() {
  if (stopped_) return;
  uint64_t gen = ++watch_gen_;
  auto min_s = opts_.min_watch_timeout.count();
  auto timeout_s = min_s + static_cast<int64_t>(random01() * static_cast<double>(min_s));
  Query q{{"resourceVersion", last_sync_resource_version()},
          {"allowWatchBookmarks", "true"},
          {"timeoutSeconds", std::to_string(timeout_s)}};
  if (!opts_.label_selector.empty()) q.emplace_back("labelSelector", opts_.label_selector);
  if (!opts_.field_selector.empty()) q.emplace_back("fieldSelector", opts_.field_selector);
  watch_started_ = steady_clock::now();
  watch_events_ = 0;
  {
    std::lock_guard lk(mu_);
    ++stats_.watches;
  }
  auto self = shared_from_this();
  watch_ = client_->watch_async(
      Request{.method = "GET", .path = opts_.path, .query = std::move(q)},
      WatchCallbacks{
          .on_event = [self, gen](WatchEvent&& ev) { self->on_watch_event(gen, std::move(ev)); },
          .on_done = [self, gen](std::optional<ApiError> err) { self->on_watch_done(gen, std::move(err)); },
      });
}

void Reflector::on_watch_event(uint64_t gen, WatchEvent&& ev) {
  if (stopped_ || gen != watch_gen_) return;
  ++watch_events_;
  switch (ev.type) {
    case WatchEventType::Added:
    case WatchEventType::Modified:
    case WatchEventType::Deleted: {
      std::string key = object_key(ev.object);
      std::string rv = resource_version(ev.object);
      if (key.empty()) {
        std::string what = "watch " + opts_.path + ": " + std::string(to_string(ev.type)) + " event for " +
                           (describe_object(ev.object).empty() ? std::string("an object") : describe_object(ev.object)) +
                           " without metadata.name";
        ++watch_gen_;
        if (watch_) watch_->cancel();
        watch_.reset();
        {
          std::lock_guard lk(mu_);
          ++stats_.watch_errors;
        }
        retry_after_backoff(false, what);
        return;
      }
      store_->apply(ev.type, std::make_shared<const json::value>(
                                 opts_.transform ? opts_.transform(std::move(ev.object)) : std::move(ev.object)));
      std::lock_guard lk(mu_);
      if (!rv.empty()) rv_ = std::move(rv);
      ++stats_.events;
      return;
    }
    case WatchEventType::Bookmark: {
      std::string rv = resource_version(ev.object);
      std::lock_guard lk(mu_);
      if (!rv.empty()) rv_ = std::move(rv);
      ++stats_.bookmarks;
      return;
    }
    case WatchEventType::Error: {
      ApiError e = api_error_from_status(0, ev.object);
      ++watch_gen_;
      if (watch_) watch_->cancel();
      watch_.reset();
      if (gone_error(e)) {
        {
          std::lock_guard lk(mu_);
          ++stats_.gone;
        }
        log::infov(1, "Watch closed: resource version too old; relisting", "reflector", opts_.name,
                   "message", e.message());
        list(true);
        return;
      }
      {
        std::lock_guard lk(mu_);
        ++stats_.watch_errors;
      }
      retry_after_backoff(false, "watch " + opts_.path + ": ERROR event: " + e.to_string());
      return;
    }
  }
}

void Reflector::on_watch_done(uint64_t gen, std::optional<ApiError> err) {
  if (stopped_ || gen != watch_gen_) return;
  watch_.reset();
  if (!err) {
    if (watch_events_ == 0 && steady_clock::now() - watch_started_ < opts_.short_watch) {
      retry_after_backoff(false, "watch " + opts_.path + ": very short watch with no events");
      return;
    }
    log::infov(4, "Watch ended; resuming", "reflector", opts_.name, "resourceVersion", last_sync_resource_version());
    watch();
    return;
  }
  if (gone_error(*err)) {
    {
      std::lock_guard lk(mu_);
      ++stats_.gone;
    }
    log::infov(1, "Watch: resource version too old; relisting", "reflector", opts_.name, "message", err->message());
    list(true);
    return;
  }
  {
    std::lock_guard lk(mu_);
    ++stats_.watch_errors;
  }
  if (err->is_transport() && err->message().starts_with("cannot decode"))
    log::error_msg("Watch stream carried an undecodable event; restarting the watch", "reflector", opts_.name,
                   "error", err->message(), "resourceVersion", last_sync_resource_version());
  retry_after_backoff(false, "watch " + opts_.path + ": " + err->to_string());
}

}  // namespace knode::kube
