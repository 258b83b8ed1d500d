#include <catch2/catch.hpp>

#include "agent/kubelet/backoff.h"

using knode::kubelet::Backoff;
constexpr int64_t S = Backoff::kSecond;

TEST_CASE("backoff: first failure retries at once, then 10s doubling to 5 min", "[kubelet][backoff]") {
  Backoff b;
  int64_t t = 1000 * S;
  CHECK_FALSE(b.in_backoff_since("c", t, t));
  b.next("c", t, t);
  CHECK(b.get("c") == 10 * S);
  CHECK(b.in_backoff_since("c", t, t + 9 * S));
  CHECK_FALSE(b.in_backoff_since("c", t, t + 10 * S));
  int64_t expect = 10 * S;
  for (int i = 0; i < 10; ++i) {
    t += expect;
    b.next("c", t, t);
    expect = std::min(expect * 2, 300 * S);
    CHECK(b.get("c") == expect);
  }
  CHECK(b.get("c") == 300 * S);
}

TEST_CASE("backoff: resets after the container ran 10 minutes", "[kubelet][backoff]") {
  Backoff b;
  int64_t t = 1000 * S;
  b.next("c", t, t);
  b.next("c", t + 10 * S, t + 10 * S);
  CHECK(b.get("c") == 20 * S);
  // The next failure happens 11 minutes after the last restart: a fresh 10 s.
  int64_t finished = t + 10 * S + 660 * S;
  CHECK_FALSE(b.in_backoff_since("c", finished, finished));
  b.next("c", finished, finished);
  CHECK(b.get("c") == 10 * S);
}

TEST_CASE("backoff: since-update window for image pulls", "[kubelet][backoff]") {
  Backoff b;
  int64_t t = 1000 * S;
  CHECK_FALSE(b.in_backoff_since_update("img", t));
  b.next("img", t, t);
  CHECK(b.in_backoff_since_update("img", t + 5 * S));
  CHECK_FALSE(b.in_backoff_since_update("img", t + 10 * S));
  b.gc(t + 700 * S);
  CHECK(b.get("img") == 0);
}
