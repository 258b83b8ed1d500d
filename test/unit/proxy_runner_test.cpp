#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "agent/proxy/bounded_runner.h"

using namespace knode::proxy;
using namespace std::chrono_literals;

TEST_CASE("BoundedFrequencyRunner honours min interval, max interval and retries", "[proxy][runner]") {
  FakeClock clock;
  int calls = 0;
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 1s, 30s, 1, clock);

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
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 10s, 60s, 1, clock);
  r.run();
  CHECK(r.run_if_due());
  CHECK(calls == 1);
}

TEST_CASE("BoundedFrequencyRunner allows a burst of runs, then one per min interval", "[proxy][runner]") {
  FakeClock clock;
  int calls = 0;
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 10s, 1h, 2, clock);

  // A full bucket: two requests in a row both run at once.
  r.run();
  CHECK(r.run_if_due());
  r.run();
  CHECK(r.next_due() == clock.now());
  CHECK(r.run_if_due());
  CHECK(calls == 2);

  // The bucket is empty: the third request waits for one token (min interval), not two.
  r.run();
  CHECK_FALSE(r.run_if_due());
  CHECK(r.next_due() == clock.now() + 10s);
  clock.advance(9999ms);
  CHECK_FALSE(r.run_if_due());
  clock.advance(1ms);
  CHECK(r.run_if_due());
  CHECK(calls == 3);

  // A steady stream of requests runs once per min interval.
  for (int i = 0; i < 5; ++i) {
    r.run();
    CHECK_FALSE(r.run_if_due());
    CHECK(r.next_due() == clock.now() + 10s);
    clock.advance(10s);
    CHECK(r.run_if_due());
  }
  CHECK(calls == 8);

  // Refill is one token per min interval, capped at the burst: after a long quiet time two
  // requests run at once again, the third waits.
  clock.advance(5min);
  for (int i = 0; i < 2; ++i) {
    r.run();
    CHECK(r.run_if_due());
  }
  r.run();
  CHECK_FALSE(r.run_if_due());
  CHECK(calls == 10);

  // Half-refilled: 15 s after the burst one token is back (the next came at 10 s), so the
  // waiting request runs; a further one waits until 20 s.
  clock.advance(15s);
  CHECK(r.run_if_due());
  r.run();
  CHECK(r.next_due() == clock.now() + 5s);
  clock.advance(5s);
  CHECK(r.run_if_due());
  CHECK(calls == 12);

  // Periodic runs and retries take tokens too: a retry right after a periodic run waits.
  clock.advance(1h);
  CHECK(r.run_if_due());  // periodic
  r.retry_after(0s);
  CHECK(r.run_if_due());  // second token
  r.retry_after(0s);
  CHECK(r.next_due() == clock.now() + 10s);
  CHECK(r.runs() == 14);
}

TEST_CASE("BoundedFrequencyRunner with min interval 0 is not limited", "[proxy][runner]") {
  FakeClock clock;
  int calls = 0;
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 0s, 1h, 2, clock);
  for (int i = 0; i < 10; ++i) {
    r.run();
    CHECK(r.run_if_due());
  }
  CHECK(calls == 10);
  CHECK_FALSE(r.run_if_due());
  CHECK(r.next_due() == clock.now() + 1h);
}

TEST_CASE("BoundedFrequencyRunner thread runs requested work", "[proxy][runner]") {
  SystemClock clock;
  std::atomic<int> calls{0};
  BoundedFrequencyRunner r("test", [&] { ++calls; }, 0ms, 1h, 2, clock);
  r.start();
  r.run();
  for (int i = 0; i < 200 && calls.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(calls.load() == 1);
  r.stop();
}
