// Bounded randomized inputs into the duration, quantity and YAML configuration parsers: they must
// return a value or an error, never crash, hang or throw. (Also run under ASan/UBSan.)
#include <catch2/catch.hpp>

#include <random>

#include "config/duration.h"
#include "config/kubelet_config.h"
#include "config/quantity.h"
#include "config/yaml_decode.h"

using namespace knode::config;
using knode::Error;
using knode::Result;

namespace {

std::string random_from(std::mt19937& rng, std::string_view alphabet, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len), pick(0, alphabet.size() - 1);
  std::string s;
  for (size_t n = len(rng); n > 0; --n) s += alphabet[pick(rng)];
  return s;
}

std::string mutate(std::mt19937& rng, std::string s) {
  std::uniform_int_distribution<int> op(0, 4), byte(0, 255);
  const int edits = std::uniform_int_distribution<int>(1, 6)(rng);
  for (int i = 0; i < edits; ++i) {
    const size_t pos = s.empty() ? 0 : std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
    switch (op(rng)) {
      case 0: if (!s.empty()) s.erase(pos, 1); break;
      case 1: s.insert(pos, 1, static_cast<char>(byte(rng))); break;
      case 2: if (!s.empty()) s[pos] = static_cast<char>(byte(rng)); break;
      case 3: s.insert(pos, std::string_view("0s: -[]{}\"'\n  ,.e9Mi%<")
                                .substr(std::uniform_int_distribution<size_t>(0, 22)(rng), 1)); break;
      case 4: if (s.size() > 1) s = s.substr(0, pos) + s.substr(pos, std::min<size_t>(8, s.size() - pos)) + s.substr(pos); break;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("fuzz: durations parse or fail cleanly, and round-trip when they parse", "[fuzz]") {
  std::mt19937 rng(0xD0);
  const std::vector<std::string> seeds = {"1h2m3.5s", "300ms", "-1.5h", "0", "9223372036854775807ns", "1\xC2\xB5s", ".5s"};
  for (int i = 0; i < 3000; ++i) {
    std::string s = i % 2 ? random_from(rng, "0123456789.+-hmsuµn \xCE\xBC", 24) : mutate(rng, seeds[i % seeds.size()]);
    Result<Duration> d = Result<Duration>(Error(""));
    REQUIRE_NOTHROW(d = parse_duration(s));
    if (d.ok()) {
      auto back = parse_duration(format_duration(*d));
      REQUIRE(back.ok());
      CHECK(back->ns == d->ns);
    }
  }
}

TEST_CASE("fuzz: quantities parse or fail cleanly, and canonical text re-parses equal", "[fuzz]") {
  std::mt19937 rng(0x0A);
  const std::vector<std::string> seeds = {"100Mi", "1.5Gi", "250m", "1e3", "-2Ki", "0.000000001", "8Ei", "+1"};
  for (int i = 0; i < 3000; ++i) {
    std::string s = i % 2 ? random_from(rng, "0123456789.+-eEinumkKMGTP", 30) : mutate(rng, seeds[i % seeds.size()]);
    Result<Quantity> q = Result<Quantity>(Error(""));
    REQUIRE_NOTHROW(q = Quantity::parse(s));
    if (q.ok()) {
      std::string text;
      REQUIRE_NOTHROW(text = q->string());
      (void)q->value();
      (void)q->milli_value();
      auto back = Quantity::parse(text);
      INFO(s << " -> " << text);
      REQUIRE(back.ok());
      CHECK(back->compare(*q) == 0);
    }
  }
}

TEST_CASE("fuzz: KubeletConfiguration documents never crash the decoder", "[fuzz]") {
  std::mt19937 rng(0xC0);
  const std::string base = std::string("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n") +
                           "authentication:\n  webhook:\n    cacheTTL: 0s\n    enabled: true\n"
                           "clusterDNS:\n- 10.96.0.10\nevictionHard:\n  memory.available: 100Mi\n"
                           "logging:\n  flushFrequency: 0\n  verbosity: 2\nmaxPods: 110\n"
                           "reservedMemory:\n- numaNode: 0\n  limits: {memory: 1Gi}\n"
                           "registerWithTaints: [{key: a, effect: NoSchedule}]\nfeatureGates: {A: true}\n";
  for (int i = 0; i < 2000; ++i) {
    std::string doc = mutate(rng, base);
    REQUIRE_NOTHROW([&] {
      auto d = decode_kubelet_config(doc, "fuzz.yaml");
      if (!d) return;
      set_kubelet_defaults(d->config);
      (void)validate_kubelet_config(d->config);
      std::string printed = encode_kubelet_config(d->config);
      auto again = decode_kubelet_config(printed, "printed.yaml");
      REQUIRE(again.ok());
    }());
  }
}
