#include "agent/kube/client/informer.h"

#include "agent/base/log.h"

namespace knode::kube {

Informer::Informer(std::shared_ptr<Client> client, InformerOptions options) : opts_(std::move(options)) {
  if (opts_.queue_capacity == 0) opts_.queue_capacity = 1;
  if (opts_.retain) store_.set_retain(opts_.retain);
  if (!opts_.reflector.between_pages) {
    opts_.reflector.between_pages = [this](std::function<void()> resume) {
      {
        std::lock_guard lk(mu_);
        if (!stopping_ && queue_.size() + pending_.size() > opts_.list_backlog) {
          resume_list_ = std::move(resume);
          return;
        }
      }
      resume();
    };
  }
  reflector_ = Reflector::create(std::move(client), &store_, opts_.reflector);
  store_.set_observer([this](Delta&& d) { enqueue(std::move(d)); });
  reflector_->on_replaced([this] {
    std::lock_guard lk(mu_);
    if (!sync_marked_) {
      sync_marked_ = true;
      sync_seq_ = seq_;
      cv_.notify_all();
    }
  });
}

Informer::~Informer() { stop(); }

void Informer::add_handler(EventHandler handler) { handlers_.push_back(std::move(handler)); }

void Informer::start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run_handlers(); });
  reflector_->start();
}

void Informer::stop() {
  if (reflector_) reflector_->stop();
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    resume_list_ = nullptr;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Informer::has_synced() const {
  std::lock_guard lk(mu_);
  return sync_marked_ && done_seq_ >= sync_seq_;
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return stopping_ || (sync_marked_ && done_seq_ >= sync_seq_); }) &&
         !stopping_;
}

InformerStats Informer::stats() const {
  std::lock_guard lk(mu_);
  InformerStats s = stats_;
  s.queued = queue_.size();
  return s;
}

// Runs with the store's lock held (on the reflector's thread).
void Informer::enqueue(Delta&& d) {
  std::lock_guard lk(mu_);
  uint64_t seq = ++seq_;
  if (stopping_) return;
  Item item{d.type, std::move(d.key), std::move(d.obj), std::move(d.old), seq};
  // Coalesces a change per key: the first change of a key keeps what the handlers saw (every
  // change before it was delivered), the latest replaces the rest.
  auto coalesce = [this](Item&& it) {
    auto [p, fresh] = pending_.try_emplace(it.key);
    if (fresh) p->second.seen = it.type == Delta::Type::Added ? nullptr : it.old;
    p->second.latest = std::move(it);
  };
  if (!resync_needed_ && queue_.size() >= opts_.queue_capacity) {
    for (auto& q : queue_) coalesce(std::move(q));
    queue_.clear();
    resync_needed_ = true;
    ++stats_.overflows;
    cv_.notify_all();
  }
  if (resync_needed_) {
    coalesce(std::move(item));
    return;
  }
  queue_.push_back(std::move(item));
  if (queue_.size() == 1) cv_.notify_all();
}

void Informer::run_handlers() {
  for (;;) {
    std::unique_lock lk(mu_);
    auto list_may_go_on = [&] { return resume_list_ && queue_.size() + pending_.size() <= opts_.list_backlog / 2; };
    cv_.wait(lk, [&] { return stopping_ || resync_needed_ || !queue_.empty() || list_may_go_on(); });
    if (stopping_) return;
    if (list_may_go_on()) {
      auto resume = std::move(resume_list_);
      resume_list_ = nullptr;
      lk.unlock();
      resume();
      continue;
    }
    if (resync_needed_) {
      lk.unlock();
      resync();
      continue;
    }
    Item item = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    deliver(item);
    lk.lock();
    done_seq_ = item.seq;
    ++stats_.delivered;
    if (sync_marked_ && done_seq_ == sync_seq_) cv_.notify_all();
  }
}

namespace {
template <class F>
void guarded(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log::error_msg("Event handler threw", "handler", what, "error", std::string(e.what()));
  }
}
}  // namespace

// In order, with nothing coalesced: `old` is what the handlers saw.
void Informer::deliver(const Item& item) {
  switch (item.type) {
    case Delta::Type::Added:
      for (auto& h : handlers_)
        if (h.on_add) guarded("add", [&] { h.on_add(item.obj); });
      break;
    case Delta::Type::Updated:
      for (auto& h : handlers_)
        if (h.on_update) guarded("update", [&] { h.on_update(item.old, item.obj); });
      break;
    case Delta::Type::Deleted: {
      const ObjectPtr& last = item.obj ? item.obj : item.old;
      for (auto& h : handlers_)
        if (h.on_delete) guarded("delete", [&] { h.on_delete(last); });
      break;
    }
  }
}

// After an overflow: from what the handlers saw to the latest state.
void Informer::deliver_coalesced(const Pending& p) {
  const Item& item = p.latest;
  if (item.type == Delta::Type::Deleted) {
    if (!p.seen) return;  // added and deleted while queued: the handlers never saw it
    const ObjectPtr& last = item.obj ? item.obj : p.seen;
    for (auto& h : handlers_)
      if (h.on_delete) guarded("delete", [&] { h.on_delete(last); });
    return;
  }
  if (!p.seen) {
    for (auto& h : handlers_)
      if (h.on_add) guarded("add", [&] { h.on_add(item.obj); });
    return;
  }
  for (auto& h : handlers_)
    if (h.on_update) guarded("update", [&] { h.on_update(p.seen, item.obj); });
}

void Informer::resync() {
  uint64_t upto = 0;
  std::unordered_map<std::string, Pending> changed;
  {
    std::lock_guard lk(mu_);
    changed.swap(pending_);
    resync_needed_ = false;
    upto = seq_;
  }
  log::warning("Informer handler queue overflowed; resyncing handlers to the latest state of each changed object",
               "informer", opts_.reflector.name, "objects", changed.size());
  for (auto& [_, p] : changed) deliver_coalesced(p);
  for (auto& h : handlers_)
    if (h.on_resync) guarded("resync", [&] { h.on_resync(); });
  std::lock_guard lk(mu_);
  if (upto > done_seq_) done_seq_ = upto;
  stats_.delivered += changed.size();
  ++stats_.resyncs;
  cv_.notify_all();
}

}  // namespace knode::kube
