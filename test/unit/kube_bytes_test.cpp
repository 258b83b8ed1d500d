#include <catch2/catch.hpp>

#include "agent/kube/bytes.h"

using namespace knode::kube;

TEST_CASE("base64 as Go's StdEncoding: round trip, padding, line breaks", "[kube][bytes]") {
  for (std::string raw : {std::string(), std::string("f"), std::string("fo"), std::string("foo"),
                          std::string("foob"), std::string("fooba"), std::string("foobar"),
                          std::string("\x00\xff\x10\x80", 4)}) {
    auto back = base64_decode(base64_encode(raw));
    REQUIRE(back.ok());
    CHECK(*back == raw);
  }
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  // CR and LF are skipped (PEM-style wrapped input).
  auto wrapped = base64_decode("Zm9v\r\nYmFy\n");
  REQUIRE(wrapped.ok());
  CHECK(*wrapped == "foobar");
}

TEST_CASE("base64 errors give the offset of the bad input", "[kube][bytes]") {
  CHECK(base64_decode("Zm9v!mFy").error().message() == "illegal base64 data at input byte 4");
  CHECK(base64_decode("Zm9vYg").error().message() == "illegal base64 data at input byte 4");   // missing padding
  CHECK(base64_decode("Zm9vYm=x").error().message() == "illegal base64 data at input byte 6");
  CHECK(base64_decode("Zm9vY===").error().message() == "illegal base64 data at input byte 5");
  CHECK(base64_decode("Zg==Zg==").error().message() == "illegal base64 data at input byte 4");  // data after padding
  CHECK(base64_decode("Zm9vYg=").error().message() == "illegal base64 data at input byte 7");
  CHECK_FALSE(base64_decode("Zm9v-_==").ok());  // URL alphabet is not accepted
}
