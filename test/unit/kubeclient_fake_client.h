// A kube::Client for unit tests: a manual event loop with a fake clock. Calls are answered by a
// responder; watches are kept open for the test to feed events into.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/kube/client/client.h"

namespace knode::kube::testing {

class FakeClient : public Client {
 public:
  using Responder = std::function<ApiResult<boost::json::value>(const Request&)>;

  // Cancelling drops the callbacks (they hold the reflector, which holds this client), unless one of
  // them is running; then they are dropped when it returns. A stopped reflector is thus freed, as with
  // the real client.
  struct Watch : Cancelable {
    Request req;
    WatchCallbacks cb;
    bool cancelled = false;
    bool running = false;
    void cancel() override {
      cancelled = true;
      if (!running) cb = {};
    }
  };
  struct Timer : Cancelable {
    std::chrono::milliseconds at;
    std::function<void()> fn;
    bool cancelled = false;
    bool running = false;
    void cancel() override {
      cancelled = true;
      if (!running) fn = {};
    }
  };

  Responder responder;
  std::vector<Request> calls;
  std::vector<std::shared_ptr<Watch>> watches;
  std::vector<std::shared_ptr<Timer>> timers;
  std::chrono::milliseconds now{0};

  void call_async(Request req, Done done) override {
    std::lock_guard lk(mu_);
    calls.push_back(req);
    tasks_.push_back([this, req = std::move(req), done = std::move(done)] { done(responder(req)); });
  }
  std::shared_ptr<Cancelable> watch_async(Request req, WatchCallbacks cb) override {
    auto w = std::make_shared<Watch>();
    w->req = std::move(req);
    w->cb = std::move(cb);
    std::lock_guard lk(mu_);
    watches.push_back(w);
    return w;
  }
  void post(std::function<void()> fn) override {
    std::lock_guard lk(mu_);
    tasks_.push_back(std::move(fn));
  }
  std::shared_ptr<Cancelable> post_after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto t = std::make_shared<Timer>();
    t->at = now + delay;
    t->fn = std::move(fn);
    std::lock_guard lk(mu_);
    timers.push_back(t);
    return t;
  }
  // Tests drive the loop from their own thread, which therefore counts as the loop thread.
  bool on_loop_thread() const override { return true; }
  std::string host() const override { return "fake:443"; }

  // Runs queued tasks until none are left.
  void run() {
    in_loop_ = true;
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard lk(mu_);
        if (tasks_.empty()) break;
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      }
      fn();
    }
    in_loop_ = false;
  }
  // Advances the fake clock, firing due timers, then runs tasks.
  void advance(std::chrono::milliseconds d) {
    now += d;
    std::vector<std::shared_ptr<Timer>> due;
    {
      std::lock_guard lk(mu_);
      for (auto it = timers.begin(); it != timers.end();) {
        if ((*it)->at <= now) {
          if (!(*it)->cancelled) due.push_back(*it);
          it = timers.erase(it);
        } else {
          ++it;
        }
      }
    }
    in_loop_ = true;
    for (auto& t : due) {
      t->running = true;
      t->fn();
      t->running = false;
      t->fn = {};  // fired: a timer runs once
    }
    in_loop_ = false;
    run();
  }
  // The newest open (not cancelled) watch, or null.
  std::shared_ptr<Watch> open_watch() {
    for (auto it = watches.rbegin(); it != watches.rend(); ++it)
      if (!(*it)->cancelled) return *it;
    return nullptr;
  }
  // Delivers events to a watch as the loop would.
  void emit(const std::shared_ptr<Watch>& w, WatchEvent ev) {
    in_loop_ = true;
    if (!w->cancelled) {
      w->running = true;
      w->cb.on_event(std::move(ev));
      w->running = false;
      if (w->cancelled) w->cb = {};
    }
    in_loop_ = false;
    run();
  }
  void end(const std::shared_ptr<Watch>& w, std::optional<ApiError> err) {
    in_loop_ = true;
    if (!w->cancelled) {
      w->cancelled = true;
      w->running = true;
      w->cb.on_done(std::move(err));
      w->running = false;
      w->cb = {};
    }
    in_loop_ = false;
    run();
  }
  size_t pending_timers() const {
    size_t n = 0;
    for (auto& t : timers) n += !t->cancelled;
    return n;
  }

 private:
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
  bool in_loop_ = false;
};

inline std::string query_value(const Request& r, const std::string& key) {
  for (auto& [k, v] : r.query)
    if (k == key) return v;
  return {};
}

}  // namespace knode::kube::testing
