#include <catch2/catch.hpp>

#include "config/quantity.h"

using knode::config::Quantity;

namespace {
std::string canon(std::string_view s) {
  auto q = Quantity::parse(s);
  INFO(s);
  REQUIRE(q.ok());
  return q->string();
}
Quantity q(std::string_view s) {
  auto r = Quantity::parse(s);
  INFO(s);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("quantities print in upstream's canonical form", "[quantity]") {
  CHECK(canon("0") == "0");
  CHECK(canon("100Mi") == "100Mi");
  CHECK(canon("1.5Gi") == "1536Mi");
  CHECK(canon("1024Mi") == "1Gi");
  CHECK(canon("8Ki") == "8Ki");
  CHECK(canon("1000m") == "1");
  CHECK(canon("0.5") == "500m");
  CHECK(canon(".5") == "500m");
  CHECK(canon("250m") == "250m");
  CHECK(canon("1e3") == "1e3");   // canonical already: kept
  CHECK(canon("1E3") == "1E3");
  CHECK(canon("1000") == "1k");
  CHECK(canon("1500") == "1500");
  CHECK(canon("100") == "100");
  CHECK(canon("10e3") == "10e3");
  CHECK(canon("1e4") == "10e3");
  CHECK(canon("+1") == "+1");     // upstream keeps the spelling of a canonical input
  CHECK(canon("-2Ki") == "-2Ki");
  CHECK(canon("-1000") == "-1k");
  CHECK(canon("0.5Ki") == "512");
  CHECK(canon("1.1Ki") == "1126400m");  // not a whole number: DecimalSI
  CHECK(canon("1n") == "1n");
  CHECK(canon("0.1n") == "1n");        // rounded up to the smallest unit
  CHECK(canon("1.5") == "1500m");
  CHECK(canon("12M") == "12M");
  CHECK(canon("12000k") == "12M");
  CHECK(canon("1Ei") == "1Ei");
  CHECK(canon("2Pi") == "2Pi");
  CHECK(canon("100Ti") == "100Ti");
  CHECK(canon("8Ei") == "9223372036854775807");  // binary values cap at 2^63-1
  CHECK(canon("00") == "0");
  CHECK(canon("0Mi") == "0");
  CHECK(canon("1e-3") == "1e-3");
  CHECK(canon("123456789012345678901234567890") == "123456789012345678901234567890");
  CHECK(canon("1.000000000001") == "1000000001n");
}

TEST_CASE("quantity parse errors carry upstream's messages", "[quantity]") {
  auto bad = [](std::string_view s) {
    auto r = Quantity::parse(s);
    INFO(s);
    REQUIRE_FALSE(r.ok());
    return r.error().message();
  };
  CHECK(bad("").starts_with("quantities must match the regular expression"));
  CHECK(bad("abc").starts_with("quantities must match the regular expression"));
  CHECK(bad("1Kx").starts_with("quantities must match the regular expression"));
  CHECK(bad("1.5.5").starts_with("quantities must match the regular expression"));
  CHECK(bad("1 Mi").starts_with("quantities must match the regular expression"));
  CHECK(bad("1ki") == "unable to parse quantity's suffix");
  CHECK(bad("1e") == "unable to parse quantity's suffix");
  CHECK(bad("1MiB").starts_with("quantities must match"));
  CHECK(bad("10%") .starts_with("quantities must match the regular expression"));
}

TEST_CASE("quantity values and comparison", "[quantity]") {
  CHECK(q("100Mi").value() == 100 * 1024 * 1024);
  CHECK(q("1.5Gi").value() == 1610612736);
  CHECK(q("250m").milli_value() == 250);
  CHECK(q("250m").value() == 1);  // rounds up
  CHECK(q("-250m").value() == -1);  // away from zero
  CHECK(q("1k").value() == 1000);
  CHECK(q("1e3").value() == 1000);
  CHECK(q("1").milli_value() == 1000);
  CHECK(q("0").value() == 0);
  CHECK(q("1n").milli_value() == 1);
  CHECK(q("100E").value() == INT64_MAX);  // saturates
  CHECK(q("1Gi").compare(q("1024Mi")) == 0);
  CHECK(q("1G") < q("1Gi"));
  CHECK(q("-1") < q("0"));
  CHECK(q("-2") < q("-1"));
  CHECK(q("1e3") == q("1k"));
  CHECK(q("0.5") == q("500m"));
  CHECK(Quantity::from_int(1024, Quantity::Format::BinarySI).string() == "1Ki");
  CHECK(Quantity::from_int(0).string() == "0");
  CHECK(Quantity::from_int(-1500).string() == "-1500");
  CHECK(q("1Mi").format() == Quantity::Format::BinarySI);
  CHECK(q("1e3").format() == Quantity::Format::DecimalExponent);
}
