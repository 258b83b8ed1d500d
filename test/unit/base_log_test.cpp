#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/base/log.h"

using namespace knode;

namespace {
struct Capture {
  std::vector<std::string> lines;
  static void sink(std::string_view line, void* ctx) {
    static_cast<Capture*>(ctx)->lines.emplace_back(line);
  }
};
}  // namespace

TEST_CASE("text format matches klog's layout", "[log]") {
  // 2026-11-27 18:36:40.123456 UTC
  setenv("TZ", "UTC", 1);
  tzset();
  std::vector<log::Field> kv{log::detail::field("pod", "kube-system/etcd"),
                             log::detail::field("count", 3), log::detail::field("ready", true)};
  std::string line = log::format_text(log::Severity::Info, 1795804600123456LL, 1234, "file.cpp", 42,
                                      "Pod started", nullptr, kv);
  CHECK(line == "I1127 18:36:40.123456    1234 file.cpp:42] \"Pod started\" pod=\"kube-system/etcd\" "
                "count=3 ready=true");
  Error err("boom \"x\"\n");
  std::string eline = log::format_text(log::Severity::Error, 1795804600000001LL, 7, "a.cpp", 1,
                                       "Sync failed", &err, {});
  CHECK(eline == "E1127 18:36:40.000001       7 a.cpp:1] \"Sync failed\" err=\"boom \\\"x\\\"\\n\"");
}

TEST_CASE("json format matches component-base's layout", "[log]") {
  std::vector<log::Field> kv{log::detail::field("pod", "a/b"), log::detail::field("n", 2)};
  CHECK(log::format_json(log::Severity::Info, 2, 1700000000000500LL, "x.cpp", 9, "hello", nullptr, kv) ==
        "{\"ts\":1700000000.000500,\"caller\":\"x.cpp:9\",\"msg\":\"hello\",\"v\":2,\"pod\":\"a/b\",\"n\":2}");
  Error err("bad");
  CHECK(log::format_json(log::Severity::Error, 0, 1700000000000000LL, "x.cpp", 9, "m", &err, {}) ==
        "{\"ts\":1700000000.000000,\"caller\":\"x.cpp:9\",\"msg\":\"m\",\"err\":\"bad\"}");
}

TEST_CASE("verbosity and vmodule gate messages", "[log]") {
  Capture cap;
  log::set_sink(&Capture::sink, &cap);
  REQUIRE(log::configure({.verbosity = 1}).ok());
  log::infov(1, "shown");
  log::infov(2, "hidden");
  REQUIRE(cap.lines.size() == 1);
  CHECK(cap.lines[0].find("\"shown\"") != std::string::npos);

  // This file's module name is base_log_test.
  REQUIRE(log::configure({.verbosity = 0, .vmodule = "base_log*=4"}).ok());
  log::infov(4, "module-level");
  log::infov(5, "too-verbose");
  CHECK(cap.lines.size() == 2);
  CHECK(cap.lines[1].find("module-level") != std::string::npos);

  CHECK_FALSE(log::configure({.vmodule = "nolevel"}).ok());
  CHECK(log::configure({.vmodule = "x=abc"}).message().find("invalid level \"abc\"") != std::string::npos);
  log::reset_sink();
  REQUIRE(log::configure({}).ok());
}
