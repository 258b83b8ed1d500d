// EventRecorder — records events.k8s.io/v1 Events about objects (a Node, a Service) without ever
// blocking the caller, with the semantics of client-go's events library that kube-proxy uses:
//
//  - the first occurrence of an event is created as <regarding.name>.<unix nanoseconds in hex> in the
//    regarding object's namespace ("default" for cluster-scoped objects);
//  - an identical event again (same regarding object, related object, type, reason, action, note and
//    reporting controller) is not created again: it opens a series (count 2) that is PATCHed onto the
//    first Event; further repeats only bump the count locally, and every `series_refresh` the grown
//    count is written; a series not observed for `series_finish` is forgotten;
//  - a failed create/patch is retried (`max_attempts`, `retry_delay` apart); a 4xx other than 404 on a
//    patch is not retried; a 404 on a series patch re-creates the Event.
//
// Everything runs on the client's event loop; record() may be called from any thread. The cache is
// bounded (`max_cached`): when full, the oldest entry is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "agent/kube/client/client.h"
#include "agent/kube/object_reference.h"

namespace knode::kube {

struct EventRecorderOptions {
  std::string reporting_controller;  // "kube-proxy"
  std::string reporting_instance;    // "kube-proxy-<hostname>"
  std::chrono::milliseconds series_refresh{std::chrono::minutes(30)};
  std::chrono::milliseconds series_finish{std::chrono::minutes(6)};
  std::chrono::milliseconds retry_delay{std::chrono::seconds(10)};
  int max_attempts = 12;
  std::size_t max_cached = 4096;
  // Wall clock in Unix nanoseconds (tests replace it).
  std::function<int64_t()> now_ns;
};

class EventRecorder {
 public:
  EventRecorder(Client& client, EventRecorderOptions options);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // type: "Normal" or "Warning". `related` may be null.
  void record(const ObjectReference& regarding, const ObjectReference* related, std::string_view type,
              std::string_view reason, std::string_view action, std::string_view note);

  // Stops timers and retries; events not yet written are dropped.
  void stop();

  // For tests and the log: events created, series patches written, writes given up.
  struct Counts {
    uint64_t created = 0;
    uint64_t patched = 0;
    uint64_t dropped = 0;
  };
  Counts counts() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// "Node" reference as kube-proxy and the kubelet make it (UID = node name, no namespace).
ObjectReference node_reference(std::string_view node_name);

// meta/v1 MicroTime: "2026-11-27T20:41:00.123456Z".
std::string micro_time(int64_t unix_ns);

}  // namespace knode::kube
