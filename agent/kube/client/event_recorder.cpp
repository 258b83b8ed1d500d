#include "agent/kube/client/event_recorder.h"

#include <time.h>

#include <chrono>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "agent/base/log.h"

namespace knode::kube {

namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object reference_json(const ObjectReference& r) {
  json::object o;
  if (!r.kind.empty()) o["kind"] = r.kind;
  if (!r.namespace_.empty()) o["namespace"] = r.namespace_;
  if (!r.name.empty()) o["name"] = r.name;
  if (!r.uid.empty()) o["uid"] = r.uid;
  if (!r.api_version.empty()) o["apiVersion"] = r.api_version;
  if (!r.resource_version.empty()) o["resourceVersion"] = r.resource_version;
  if (!r.field_path.empty()) o["fieldPath"] = r.field_path;
  return o;
}

std::string reference_key(const ObjectReference& r) {
  return fmt::format("{}/{}/{}/{}/{}/{}", r.kind, r.namespace_, r.name, r.uid, r.api_version, r.field_path);
}

// A write is retried only when no HTTP response came back (client-go's events library gives up on
// any status the server sent).
bool retryable(const ApiError& e) { return e.is_transport(); }

}  // namespace

std::string micro_time(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1'000'000'000);
  int64_t micros = (unix_ns % 1'000'000'000) / 1000;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

ObjectReference node_reference(std::string_view node_name) {
  ObjectReference r;
  r.kind = "Node";
  r.name = std::string(node_name);
  r.uid = std::string(node_name);
  return r;
}

struct EventRecorder::State : std::enable_shared_from_this<EventRecorder::State> {
  struct Entry {
    json::object event;       // the body created (metadata.name/namespace set)
    int32_t count = 1;        // occurrences seen
    int32_t written = 0;      // series count last written (0: none)
    int64_t first_ns = 0;
    int64_t last_ns = 0;
    bool created = false;     // the create succeeded
    bool in_flight = false;   // a create or patch is on its way
    uint64_t age = 0;         // insertion order, for eviction
  };

  Client& client;
  EventRecorderOptions opt;
  // Recursive: a client that is shutting down answers call_async inline, on the caller's stack.
  mutable std::recursive_mutex mu;
  std::map<std::string, Entry> cache;
  uint64_t next_age = 0;
  bool stopped = false;
  Counts counts;
  std::shared_ptr<Cancelable> finish_timer;
  std::shared_ptr<Cancelable> refresh_timer;
  std::vector<std::shared_ptr<Cancelable>> retries;

  State(Client& c, EventRecorderOptions o) : client(c), opt(std::move(o)) {
    if (!opt.now_ns) opt.now_ns = system_now_ns;
  }

  std::string collection(const json::object& ev) const {
    return resource_path("events.k8s.io/v1", "events", ev.at("metadata").at("namespace").as_string());
  }

  void evict_oldest_locked() {
    auto oldest = cache.end();
    for (auto it = cache.begin(); it != cache.end(); ++it) {
      if (oldest == cache.end() || it->second.age < oldest->second.age) oldest = it;
    }
    if (oldest != cache.end()) cache.erase(oldest);
  }

  void record(std::string key, json::object event, int64_t now) {
    std::lock_guard lk(mu);
    if (stopped) return;
    auto it = cache.find(key);
    if (it == cache.end()) {
      if (cache.size() >= opt.max_cached) evict_oldest_locked();
      Entry e;
      e.event = std::move(event);
      e.first_ns = e.last_ns = now;
      e.age = next_age++;
      e.in_flight = true;
      json::object body = e.event;
      cache.emplace(key, std::move(e));
      post_create(key, std::move(body), 1);
      return;
    }
    Entry& e = it->second;
    ++e.count;
    e.last_ns = now;
    // The second occurrence opens the series at once; later ones wait for the refresh.
    if (e.count == 2 && e.created && !e.in_flight) {
      e.in_flight = true;
      post_patch(key, series_patch(e), e.count, 1);
    }
  }

  static std::string series_patch(const Entry& e) {
    json::object series{{"count", e.count}, {"lastObservedTime", micro_time(e.last_ns)}};
    return json::serialize(json::object{{"series", std::move(series)}});
  }

  void post_create(const std::string& key, json::object body, int attempt) {
    std::weak_ptr<State> weak = shared_from_this();
    Request req;
    req.method = "POST";
    req.path = collection(body);
    req.body = json::serialize(body);
    client.call_async(std::move(req), [weak, key, attempt, body = std::move(body)](ApiResult<json::value> r) mutable {
      if (auto self = weak.lock()) self->create_done(key, std::move(body), attempt, r);
    });
  }

  void create_done(const std::string& key, json::object body, int attempt, const ApiResult<json::value>& r) {
    std::lock_guard lk(mu);
    if (stopped) return;
    auto it = cache.find(key);
    if (r.ok() || r.error().is_already_exists()) {
      ++counts.created;
      if (it == cache.end()) return;
      Entry& e = it->second;
      e.created = true;
      e.in_flight = false;
      e.written = 1;
      if (auto* series = body.if_contains("series")) e.written = static_cast<int32_t>(series->at("count").to_number<int64_t>());
      if (e.count > e.written) {  // repeated while the create was on its way
        e.in_flight = true;
        post_patch(key, series_patch(e), e.count, 1);
      }
      return;
    }
    const ApiError& err = r.error();
    if (retryable(err) && attempt < opt.max_attempts) {
      log::warning("Unable to write event (may retry after sleeping)", "event", key_name(body), "err",
                   err.to_string());
      schedule([self = shared_from_this(), key, body = std::move(body), attempt]() mutable {
        std::lock_guard lk(self->mu);
        if (!self->stopped) self->post_create(key, std::move(body), attempt + 1);
      });
      return;
    }
    ++counts.dropped;
    log::warning("Server rejected event (will not retry)", "event", key_name(body), "err", err.to_string());
    if (it != cache.end()) cache.erase(it);
  }

  void post_patch(const std::string& key, std::string patch, int32_t count, int attempt) {
    auto it = cache.find(key);
    if (it == cache.end()) return;
    const json::object& ev = it->second.event;
    std::weak_ptr<State> weak = shared_from_this();
    Request req;
    req.method = "PATCH";
    req.path = resource_path("events.k8s.io/v1", "events", ev.at("metadata").at("namespace").as_string(),
                             ev.at("metadata").at("name").as_string());
    req.body = patch;
    req.content_type = std::string(content_type(PatchType::StrategicMerge));
    client.call_async(std::move(req), [weak, key, count, attempt, patch](ApiResult<json::value> r) mutable {
      if (auto self = weak.lock()) self->patch_done(key, std::move(patch), count, attempt, r);
    });
  }

  void patch_done(const std::string& key, std::string patch, int32_t count, int attempt,
                  const ApiResult<json::value>& r) {
    std::lock_guard lk(mu);
    if (stopped) return;
    if (r.ok()) ++counts.patched;
    auto it = cache.find(key);
    if (it == cache.end()) return;  // a series' final write after it was forgotten
    Entry& e = it->second;
    if (r.ok()) {
      e.in_flight = false;
      e.written = count;
      return;
    }
    const ApiError& err = r.error();
    if (err.is_not_found()) {
      // The Event expired on the server (its TTL) or was deleted: create it again, with its series.
      json::object body = e.event;
      body["series"] = json::object{{"count", e.count}, {"lastObservedTime", micro_time(e.last_ns)}};
      e.created = false;
      post_create(key, std::move(body), 1);
      return;
    }
    if (retryable(err) && attempt < opt.max_attempts) {
      schedule([self = shared_from_this(), key, patch = std::move(patch), count, attempt]() mutable {
        std::lock_guard lk(self->mu);
        if (!self->stopped) self->post_patch(key, std::move(patch), count, attempt + 1);
      });
      return;
    }
    ++counts.dropped;
    e.in_flight = false;
    log::warning("Server rejected event (will not retry)", "event", key_name(e.event), "err", err.to_string());
  }

  static std::string key_name(const json::object& ev) {
    const auto& md = ev.at("metadata").as_object();
    return fmt::format("{}/{}", std::string_view(md.at("namespace").as_string()),
                       std::string_view(md.at("name").as_string()));
  }

  void schedule(std::function<void()> fn) {
    retries.push_back(client.post_after(opt.retry_delay, std::move(fn)));
    // Forget fired timers now and then (each holds only a finished callback).
    if (retries.size() > 64) retries.erase(retries.begin(), retries.begin() + 32);
  }

  // Every series_finish: write the last count of series not observed for that long and forget them,
  // and forget single events older than that.
  void finish_tick() {
    std::lock_guard lk(mu);
    if (stopped) return;
    int64_t horizon = opt.now_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(opt.series_finish).count();
    for (auto it = cache.begin(); it != cache.end();) {
      Entry& e = it->second;
      if (e.in_flight || e.last_ns >= horizon) {
        ++it;
        continue;
      }
      if (e.count >= 2 && e.created && e.count != e.written) post_patch(it->first, series_patch(e), e.count, 1);
      it = cache.erase(it);
    }
    arm_finish();
  }

  // Every series_refresh: write the grown count of every open series.
  void refresh_tick() {
    std::lock_guard lk(mu);
    if (stopped) return;
    for (auto& [key, e] : cache) {
      if (e.count >= 2 && e.created && !e.in_flight && e.count != e.written) {
        e.in_flight = true;
        post_patch(key, series_patch(e), e.count, 1);
      }
    }
    arm_refresh();
  }

  void arm_finish() {
    std::weak_ptr<State> weak = shared_from_this();
    finish_timer = client.post_after(opt.series_finish, [weak] {
      if (auto self = weak.lock()) self->finish_tick();
    });
  }
  void arm_refresh() {
    std::weak_ptr<State> weak = shared_from_this();
    refresh_timer = client.post_after(opt.series_refresh, [weak] {
      if (auto self = weak.lock()) self->refresh_tick();
    });
  }
};

EventRecorder::EventRecorder(Client& client, EventRecorderOptions options)
    : state_(std::make_shared<State>(client, std::move(options))) {
  std::lock_guard lk(state_->mu);
  state_->arm_finish();
  state_->arm_refresh();
}

EventRecorder::~EventRecorder() { stop(); }

void EventRecorder::stop() {
  std::vector<std::shared_ptr<Cancelable>> timers;
  {
    std::lock_guard lk(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    timers = std::move(state_->retries);
    timers.push_back(std::move(state_->finish_timer));
    timers.push_back(std::move(state_->refresh_timer));
  }
  for (auto& t : timers) {
    if (t) t->cancel();
  }
}

EventRecorder::Counts EventRecorder::counts() const {
  std::lock_guard lk(state_->mu);
  return state_->counts;
}

void EventRecorder::record(const ObjectReference& regarding, const ObjectReference* related, std::string_view type,
                           std::string_view reason, std::string_view action, std::string_view note) {
  const int64_t now = state_->opt.now_ns();
  const std::string ns = regarding.namespace_.empty() ? std::string("default") : regarding.namespace_;
  json::object event;
  event["apiVersion"] = "events.k8s.io/v1";
  event["kind"] = "Event";
  event["metadata"] = json::object{{"name", fmt::format("{}.{:x}", regarding.name, now)}, {"namespace", ns}};
  event["eventTime"] = micro_time(now);
  event["reportingController"] = state_->opt.reporting_controller;
  event["reportingInstance"] = state_->opt.reporting_instance;
  event["action"] = action;
  event["reason"] = reason;
  event["regarding"] = reference_json(regarding);
  if (related != nullptr) event["related"] = reference_json(*related);
  if (!note.empty()) event["note"] = note;
  event["type"] = type;

  std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}", reference_key(regarding),
                                related != nullptr ? reference_key(*related) : std::string(), type, reason, action,
                                note, state_->opt.reporting_controller);
  state_->record(std::move(key), std::move(event), now);
}

}  // namespace knode::kube
