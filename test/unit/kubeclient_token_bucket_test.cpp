#include <catch2/catch.hpp>

#include "agent/kube/client/backoff.h"
#include "agent/kube/client/token_bucket.h"

using namespace knode::kube;
using namespace std::chrono;
using Clock = steady_clock;

namespace {
double secs(Clock::duration d) { return duration<double>(d).count(); }
}

TEST_CASE("burst requests pass at once, the rest are spaced at 1/qps", "[kubeclient][ratelimit]") {
  Clock::time_point t0{};
  TokenBucket b(5.0, 10, t0);
  for (int i = 0; i < 10; ++i) CHECK(b.reserve(t0) == Clock::duration::zero());
  // 11th..15th wait 0.2, 0.4, ... seconds.
  for (int i = 1; i <= 5; ++i) CHECK(secs(b.reserve(t0)) == Approx(0.2 * i).margin(1e-6));
  CHECK(b.tokens(t0) == Approx(-5.0));
}

TEST_CASE("N requests at once take (N-burst)/qps in total", "[kubeclient][ratelimit]") {
  Clock::time_point t0{};
  TokenBucket b(50.0, 100, t0);
  Clock::duration last{};
  for (int i = 0; i < 300; ++i) last = b.reserve(t0);
  CHECK(secs(last) == Approx((300 - 100) / 50.0).margin(1e-6));
}

TEST_CASE("tokens refill at qps up to burst", "[kubeclient][ratelimit]") {
  Clock::time_point t0{};
  TokenBucket b(10.0, 3, t0);
  for (int i = 0; i < 3; ++i) CHECK(b.reserve(t0) == Clock::duration::zero());
  CHECK(secs(b.reserve(t0)) == Approx(0.1));
  // Much later: the reserved token is paid back and the bucket refilled to burst.
  auto t1 = t0 + seconds(10);
  CHECK(b.tokens(t1) == Approx(3.0));
  for (int i = 0; i < 3; ++i) CHECK(b.reserve(t1) == Clock::duration::zero());
  // Half a token after 50 ms: the next request waits the other 50 ms.
  auto t2 = t1 + milliseconds(50);
  CHECK(secs(b.reserve(t2)) == Approx(0.05).margin(1e-6));
}

TEST_CASE("steady requests at exactly qps never wait", "[kubeclient][ratelimit]") {
  Clock::time_point t{};
  TokenBucket b(5.0, 1, t);
  for (int i = 0; i < 100; ++i) {
    CHECK(b.reserve(t) == Clock::duration::zero());
    t += milliseconds(200);
  }
}

TEST_CASE("qps <= 0 disables limiting", "[kubeclient][ratelimit]") {
  Clock::time_point t0{};
  TokenBucket b(0, 1, t0);
  for (int i = 0; i < 1000; ++i) REQUIRE(b.reserve(t0) == Clock::duration::zero());
}

TEST_CASE("backoff doubles from 0.8 s to the 30 s cap, with jitter", "[kubeclient][backoff]") {
  Backoff b;
  Clock::time_point t{};
  std::vector<int64_t> got;
  for (int i = 0; i < 8; ++i) {
    got.push_back(b.next(t, 0.0).count());
    t += seconds(1);
  }
  CHECK(got == std::vector<int64_t>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000});
  // Jitter stretches a delay by up to (1 + jitter) but never beyond the cap.
  Backoff j;
  CHECK(j.next(t, 0.5).count() == 1200);
  CHECK(j.next(t + seconds(1), 0.99).count() == 3184);
}

TEST_CASE("backoff resets after a healthy period", "[kubeclient][backoff]") {
  Backoff b;
  Clock::time_point t{};
  b.next(t, 0);
  b.next(t + seconds(1), 0);
  CHECK(b.next(t + seconds(2), 0).count() == 3200);
  // Two minutes without a failure: back to the initial delay.
  CHECK(b.next(t + seconds(2) + minutes(2), 0).count() == 800);
  b.reset();
  CHECK(b.next(t + minutes(3), 0).count() == 800);
}
