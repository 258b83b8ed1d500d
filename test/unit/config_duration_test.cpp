#include <catch2/catch.hpp>

#include "config/duration.h"

using knode::config::Duration;
using knode::config::format_duration;
using knode::config::parse_duration;

namespace {
int64_t ns(std::string_view s) {
  auto d = parse_duration(s);
  REQUIRE(d.ok());
  return d->ns;
}
std::string err(std::string_view s) {
  auto d = parse_duration(s);
  REQUIRE_FALSE(d.ok());
  return d.error().message();
}
}  // namespace

TEST_CASE("parse_duration accepts Go syntax", "[duration]") {
  CHECK(ns("0") == 0);
  CHECK(ns("-0") == 0);
  CHECK(ns("+0") == 0);
  CHECK(ns("0s") == 0);
  CHECK(ns("300ms") == 300'000'000);
  CHECK(ns("1h2m3.5s") == 3'723'500'000'000);
  CHECK(ns("1.5h") == 5'400'000'000'000);
  CHECK(ns("-1s") == -1'000'000'000);
  CHECK(ns("+5s") == 5'000'000'000);
  CHECK(ns("1ns") == 1);
  CHECK(ns("1us") == 1'000);
  CHECK(ns("1\xC2\xB5s") == 1'000);  // micro sign
  CHECK(ns("1\xCE\xBCs") == 1'000);  // Greek mu
  CHECK(ns("2m") == 120'000'000'000);
  CHECK(ns(".5s") == 500'000'000);
  CHECK(ns("1.s") == 1'000'000'000);
  CHECK(ns("1h1h") == 7'200'000'000'000);
  CHECK(ns("0.000000001s") == 1);
  CHECK(ns("0.0000000001s") == 0);  // below a nanosecond truncates
  CHECK(ns("9223372036854775807ns") == INT64_MAX);
  CHECK(ns("-9223372036854775808ns") == INT64_MIN);
  CHECK(ns("2562047h47m16.854775807s") == INT64_MAX);
}

TEST_CASE("parse_duration errors match Go", "[duration]") {
  CHECK(err("") == "time: invalid duration \"\"");
  CHECK(err("10") == "time: missing unit in duration \"10\"");
  CHECK(err("10x") == "time: unknown unit \"x\" in duration \"10x\"");
  CHECK(err("1S") == "time: unknown unit \"S\" in duration \"1S\"");
  CHECK(err("s") == "time: invalid duration \"s\"");
  CHECK(err(".s") == "time: invalid duration \".s\"");
  CHECK(err("-") == "time: invalid duration \"-\"");
  CHECK(err("1 s") == "time: unknown unit \" s\" in duration \"1 s\"");
  CHECK(err("9223372036854775808ns") == "time: invalid duration \"9223372036854775808ns\"");
  CHECK(err("3000000h") == "time: invalid duration \"3000000h\"");
  CHECK(err("99999999999999999999s") == "time: invalid duration \"99999999999999999999s\"");
}

TEST_CASE("format_duration matches Go's Duration.String", "[duration]") {
  CHECK(format_duration(Duration{0}) == "0s");
  CHECK(format_duration(Duration::seconds(10)) == "10s");
  CHECK(format_duration(Duration::minutes(1)) == "1m0s");
  CHECK(format_duration(Duration::hours(24)) == "24h0m0s");
  CHECK(format_duration(Duration::hours(4)) == "4h0m0s");
  CHECK(format_duration(Duration::milliseconds(1500)) == "1.5s");
  CHECK(format_duration(Duration::milliseconds(100)) == "100ms");
  CHECK(format_duration(Duration{1}) == "1ns");
  CHECK(format_duration(Duration{1500}) == "1.5\xC2\xB5s");
  CHECK(format_duration(Duration{1'000'001}) == "1.000001ms");
  CHECK(format_duration(Duration{-2000}) == "-2\xC2\xB5s");
  CHECK(format_duration(Duration{3'723'500'000'000}) == "1h2m3.5s");
  CHECK(format_duration(Duration::seconds(-90)) == "-1m30s");
  CHECK(format_duration(Duration{INT64_MAX}) == "2562047h47m16.854775807s");
  CHECK(format_duration(Duration{INT64_MIN}) == "-2562047h47m16.854775808s");
}

TEST_CASE("durations round-trip through text", "[duration]") {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1'000'000}, int64_t{59'999'999'999},
                    int64_t{3'600'000'000'001}, int64_t{-7}, INT64_MAX, INT64_MIN}) {
    auto back = parse_duration(format_duration(Duration{v}));
    REQUIRE(back.ok());
    CHECK(back->ns == v);
  }
}
