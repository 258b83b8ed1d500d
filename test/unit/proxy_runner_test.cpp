#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "agent/proxy/bounded_runner.h"

using namespace knode::proxy;
using namespace std::chrono_literals;

TEST_CASE("BoundedFrequencyRunner honours min interval, max interval and retries", "[proxy][runner]") {
  FakeClock clock;
  int calls = 0;
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 1s, 30s, clock);

  // Nothing requested: the periodic run comes after max interval.
  CHECK_FALSE(r.run_if_due());
  clock.advance(29s);
  CHECK_FALSE(r.run_if_due());
  clock.advance(1s);
  CHECK(r.run_if_due());
  CHECK(calls == 1);

  // A request right after a run waits for min interval.
  r.run();
  CHECK_FALSE(r.run_if_due());
  clock.advance(500ms);
  CHECK_FALSE(r.run_if_due());
  clock.advance(500ms);
  CHECK(r.run_if_due());
  CHECK(calls == 2);

  // Many requests coalesce into one run.
  clock.advance(5s);
  for (int i = 0; i < 10; ++i) r.run();
  CHECK(r.run_if_due());
  CHECK_FALSE(r.run_if_due());
  CHECK(calls == 3);

  // retry_after: a run no later than the delay (but never sooner than min interval).
  r.retry_after(3s);
  CHECK(r.next_due() == clock.now() + 3s);
  clock.advance(3s);
  CHECK(r.run_if_due());
  r.retry_after(100ms);
  CHECK(r.next_due() == clock.now() + 1s);  // min interval wins
  clock.advance(1s);
  CHECK(r.run_if_due());
  CHECK(calls == 5);

  // After a run the periodic timer restarts.
  CHECK(r.next_due() == clock.now() + 30s);
  CHECK(r.runs() == 5);
}

TEST_CASE("BoundedFrequencyRunner runs the first request at once", "[proxy][runner]") {
  FakeClock clock;
  int calls = 0;
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 10s, 60s, clock);
  r.run();
  CHECK(r.run_if_due());
  CHECK(calls == 1);
}

TEST_CASE("BoundedFrequencyRunner thread runs requested work", "[proxy][runner]") {
  SystemClock clock;
  std::atomic<int> calls{0};
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 0ms, 1h, clock);
  r.start();
  r.run();
  for (int i = 0; i < 200 && calls.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(calls.load() == 1);
  r.stop();
}
