#include <catch2/catch.hpp>

#include "config/flags.h"

using knode::config::FlagSet;
using namespace std::chrono_literals;

namespace {
struct Vals {
  bool b = false;
  bool t = true;
  std::string s = "def";
  int32_t i32 = 14;
  int64_t i64 = 0;
  uint32_t u32 = 0;
  float f32 = 5;
  double f64 = 0;
  std::chrono::nanoseconds d = 30s;
  int verbosity = 0;
  std::vector<std::string> slice{"a", "b"};
  std::map<std::string, std::string> labels;
  std::map<std::string, bool> gates;
};

void define(FlagSet& fs, Vals& v) {
  fs.add_bool("masquerade-all", &v.b, "Masquerade all.");
  fs.add_bool("iptables-localhost-nodeports", &v.t, "Allow localhost nodeports.");
  fs.add_string("config", &v.s, "Config file.");
  fs.add_int32("iptables-masquerade-bit", &v.i32, "The bit.");
  fs.add_int64("big", &v.i64, "A big number.");
  fs.add_uint32("small", &v.u32, "An unsigned number.");
  fs.add_float32("kube-api-qps", &v.f32, "QPS.");
  fs.add_float64("ratio", &v.f64, "A ratio.");
  fs.add_duration("iptables-sync-period", &v.d, "The sync period.");
  fs.add_custom("v", [&v](std::string_view s) -> knode::Status {
    auto n = knode::config::parse_go_int(s, 32);
    if (!n) return n.error();
    v.verbosity = static_cast<int>(*n);
    return {};
  }, "Log level.", false, "Level", "0");
  fs.set_shorthand("v", 'v');
  fs.add_string_slice("nodeport-addresses", &v.slice, "Addresses.");
  fs.add_string_map("node-labels", &v.labels, "Labels.");
  fs.add_bool_map("feature-gates", &v.gates, "Gates.");
}

knode::Status parse(FlagSet& fs, std::vector<std::string> args) { return fs.parse(args); }
}  // namespace

TEST_CASE("flags: long forms with = and with a separate value", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--config=/etc/a.yaml", "--iptables-masquerade-bit", "7", "--big=-5",
                     "--kube-api-qps", "2.5", "--iptables-sync-period=1m30s"}));
  CHECK(v.s == "/etc/a.yaml");
  CHECK(v.i32 == 7);
  CHECK(v.i64 == -5);
  CHECK(v.f32 == 2.5f);
  CHECK(v.d == 90s);
  CHECK(fs.changed("config"));
  CHECK(fs.changed("iptables-sync-period"));
  CHECK_FALSE(fs.changed("masquerade-all"));
  CHECK(fs.changed_flags() == std::vector<std::string>{"config", "iptables-masquerade-bit", "big",
                                                       "kube-api-qps", "iptables-sync-period"});
}

TEST_CASE("flags: a separate value may start with a dash", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--iptables-masquerade-bit", "-3"}));
  CHECK(v.i32 == -3);
}

TEST_CASE("flags: booleans never consume the next argument", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--masquerade-all", "false", "--iptables-localhost-nodeports=false"}));
  CHECK(v.b == true);
  CHECK(v.t == false);
  CHECK(fs.args() == std::vector<std::string>{"false"});
  FlagSet fs2("t");
  Vals v2;
  define(fs2, v2);
  REQUIRE(parse(fs2, {"--masquerade-all=T", "--iptables-localhost-nodeports=0"}));
  CHECK(v2.b);
  CHECK_FALSE(v2.t);
  auto st = parse(fs2, {"--masquerade-all=yes"});
  REQUIRE_FALSE(st);
  CHECK(st.message() ==
        "invalid argument \"yes\" for \"--masquerade-all\" flag: strconv.ParseBool: parsing \"yes\": invalid syntax");
}

TEST_CASE("flags: -v in every upstream form", "[flags]") {
  for (auto args : std::vector<std::vector<std::string>>{{"-v=3"}, {"-v", "3"}, {"-v3"}, {"--v=3"}, {"--v", "3"}}) {
    FlagSet fs("t");
    Vals v;
    define(fs, v);
    INFO(args[0]);
    REQUIRE(parse(fs, args));
    CHECK(v.verbosity == 3);
    CHECK(fs.changed("v"));
  }
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  auto st = parse(fs, {"-v=x"});
  REQUIRE_FALSE(st);
  CHECK(st.message() == "invalid argument \"x\" for \"-v, --v\" flag: strconv.ParseInt: parsing \"x\": invalid syntax");
}

TEST_CASE("flags: error texts match pflag", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  CHECK(parse(fs, {"--foo"}).message() == "unknown flag: --foo");
  CHECK(parse(fs, {"--foo=1"}).message() == "unknown flag: --foo");
  CHECK(parse(fs, {"-x"}).message() == "unknown shorthand flag: 'x' in -x");
  CHECK(parse(fs, {"--config"}).message() == "flag needs an argument: --config");
  CHECK(parse(fs, {"-v"}).message() == "flag needs an argument: 'v' in -v");
  CHECK(parse(fs, {"---config"}).message() == "bad flag syntax: ---config");
  CHECK(parse(fs, {"--iptables-masquerade-bit=x"}).message() ==
        "invalid argument \"x\" for \"--iptables-masquerade-bit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax");
  CHECK(parse(fs, {"--iptables-masquerade-bit=3000000000"}).message() ==
        "invalid argument \"3000000000\" for \"--iptables-masquerade-bit\" flag: strconv.ParseInt: parsing \"3000000000\": value out of range");
  CHECK(parse(fs, {"--small=-1"}).message() ==
        "invalid argument \"-1\" for \"--small\" flag: strconv.ParseUint: parsing \"-1\": invalid syntax");
  CHECK(parse(fs, {"--iptables-sync-period=10"}).message() ==
        "invalid argument \"10\" for \"--iptables-sync-period\" flag: time: missing unit in duration \"10\"");
  CHECK(parse(fs, {"--iptables-sync-period=10x"}).message() ==
        "invalid argument \"10x\" for \"--iptables-sync-period\" flag: time: unknown unit \"x\" in duration \"10x\"");
  CHECK(parse(fs, {"--kube-api-qps=fast"}).message() ==
        "invalid argument \"fast\" for \"--kube-api-qps\" flag: strconv.ParseFloat: parsing \"fast\": invalid syntax");
  CHECK(parse(fs, {"--node-labels=a"}).message() ==
        "invalid argument \"a\" for \"--node-labels\" flag: malformed pair, expect string=string");
}

TEST_CASE("flags: integers use Go's base prefixes", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--iptables-masquerade-bit=0x1f", "--big=1_000", "--small=010"}));
  CHECK(v.i32 == 31);
  CHECK(v.i64 == 1000);
  CHECK(v.u32 == 8);
  CHECK_FALSE(parse(fs, {"--small=08"}));
  CHECK_FALSE(parse(fs, {"--small=4294967296"}));
}

TEST_CASE("flags: string slices replace the default, then append", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--nodeport-addresses=10.0.0.0/8,primary", "--nodeport-addresses", "\"x,y\""}));
  CHECK(v.slice == std::vector<std::string>{"10.0.0.0/8", "primary", "x,y"});
  FlagSet fs2("t");
  Vals v2;
  define(fs2, v2);
  REQUIRE(parse(fs2, {"--nodeport-addresses="}));
  CHECK(v2.slice.empty());
}

TEST_CASE("flags: maps merge and trim", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--node-labels", "a=b, c = d", "--node-labels=e=f=g", "--feature-gates=A=true,B=false",
                     "--feature-gates", "C=1"}));
  CHECK(v.labels == std::map<std::string, std::string>{{"a", "b"}, {"c", "d"}, {"e", "f=g"}});
  CHECK(v.gates == std::map<std::string, bool>{{"A", true}, {"B", false}, {"C", true}});
  auto st = parse(fs, {"--feature-gates=A=maybe"});
  CHECK(st.message() ==
        "invalid argument \"A=maybe\" for \"--feature-gates\" flag: invalid value of A: maybe, err: "
        "strconv.ParseBool: parsing \"maybe\": invalid syntax");
}

TEST_CASE("flags: custom setters with their own separators", "[flags]") {
  FlagSet fs("t");
  std::map<std::string, std::string> eviction;
  fs.add_custom("eviction-hard", [&](std::string_view s) -> knode::Status {
    auto lt = s.find('<');
    if (lt == std::string_view::npos) return knode::Error("malformed pair, expect string<string");
    eviction[std::string(s.substr(0, lt))] = std::string(s.substr(lt + 1));
    return {};
  }, "Hard eviction thresholds.", false, "mapStringString");
  REQUIRE(fs.parse({"--eviction-hard", "memory.available<100Mi"}));
  CHECK(eviction.at("memory.available") == "100Mi");
  bool flag = false;
  fs.add_custom("legacy-bool", [&](std::string_view s) -> knode::Status {
    flag = s == "true";
    return {};
  }, "A bool-like custom flag.", true);
  REQUIRE(fs.parse({"--legacy-bool", "positional"}));
  CHECK(flag);
  CHECK(fs.args() == std::vector<std::string>{"positional"});
}

TEST_CASE("flags: deprecated flags still apply and warn; hidden flags parse", "[flags]") {
  FlagSet fs("t");
  int32_t port = 10256;
  std::string secret;
  fs.add_int32("healthz-port", &port, "The port.");
  fs.mark_deprecated("healthz-port", "use --healthz-bind-address instead.");
  fs.add_string("secret", &secret, "Hidden.");
  fs.mark_hidden("secret");
  REQUIRE(fs.parse({"--healthz-port=1234", "--secret=x"}));
  CHECK(port == 1234);
  CHECK(secret == "x");
  REQUIRE(fs.warnings().size() == 1);
  CHECK(fs.warnings()[0] ==
        "Flag --healthz-port has been deprecated, use --healthz-bind-address instead.");
  CHECK(fs.usage().empty());
}

TEST_CASE("flags: -- ends flags; positionals interspersed", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"pos1", "--masquerade-all", "-", "--", "--config=x", "-v"}));
  CHECK(v.b);
  CHECK(v.s == "def");
  CHECK(fs.args() == std::vector<std::string>{"pos1", "-", "--config=x", "-v"});
  CHECK(fs.args_len_at_dash() == 2);
}

TEST_CASE("flags: underscores normalise to dashes", "[flags]") {
  FlagSet fs("t");
  Vals v;
  define(fs, v);
  REQUIRE(parse(fs, {"--masquerade_all", "--iptables_masquerade_bit=3"}));
  CHECK(v.b);
  CHECK(v.i32 == 3);
  CHECK(fs.changed("iptables-masquerade-bit"));
}

TEST_CASE("flags: usage in pflag's layout", "[flags]") {
  FlagSet fs("t");
  bool b = false;
  bool t = true;
  std::string s = "application/vnd.kubernetes.protobuf";
  std::string empty;
  int32_t n = 14;
  float q = 5;
  std::chrono::nanoseconds d = 15min;
  std::vector<std::string> sl;
  int level = 0;
  fs.add_bool("cleanup", &b, "Clean up and exit.");
  fs.add_bool("iptables-localhost-nodeports", &t, "Allow it.");
  fs.add_string("kube-api-content-type", &s, "Request encoding.");
  fs.add_string("config", &empty, "Config file.");
  fs.add_int32("iptables-masquerade-bit", &n, "The bit.");
  fs.add_float32("kube-api-qps", &q, "Requests per second.");
  fs.add_duration("config-sync-period", &d, "How often.");
  fs.add_string_slice("nodeport-addresses", &sl, "A list of CIDR ranges.");
  fs.add_custom("v", [&](std::string_view) -> knode::Status { return {}; },
                "Log level.", false, "Level", "0");
  fs.set_shorthand("v", 'v');
  fs.add_custom("vmodule", [&](std::string_view) -> knode::Status { return {}; },
                "Per-file levels as `pattern=N` items.", false,
                "pattern=N,...");
  fs.add_custom("version", [&](std::string_view) -> knode::Status { return {}; },
                "Print the version.",
                true, "version", "false");
  (void)level;
  const std::string expected =
      "      --cleanup                         "
      "Clean up and exit.\n"
      "      --config string                   "
      "Config file.\n"
      "      --config-sync-period duration     "
      "How often. (default 15m0s)\n"
      "      --iptables-localhost-nodeports    "
      "Allow it. (default true)\n"
      "      --iptables-masquerade-bit int32   "
      "The bit. (default 14)\n"
      "      --kube-api-content-type string    "
      "Request encoding. (default \"application/vnd.kubernetes.protobuf\")\n"
      "      --kube-api-qps float32            "
      "Requests per second. (default 5)\n"
      "      --nodeport-addresses strings      "
      "A list of CIDR ranges.\n"
      "  -v, --v Level                         "
      "Log level.\n"
      "      --version version[=true]          "
      "Print the version.\n"
      "      --vmodule pattern=N               "
      "Per-file levels as pattern=N items.\n";
  CHECK(fs.usage() == expected);
}

TEST_CASE("flags: config::Duration flags", "[flags]") {
  FlagSet fs("t");
  knode::config::Duration d = knode::config::Duration::minutes(15);
  fs.add_duration("config-sync-period", &d, "How often.");
  CHECK(fs.usage().find("(default 15m0s)") != std::string::npos);
  REQUIRE(fs.parse({"--config-sync-period=90s"}));
  CHECK(d == knode::config::Duration::seconds(90));
  CHECK(fs.parse({"--config-sync-period=1"}).message() ==
        "invalid argument \"1\" for \"--config-sync-period\" flag: time: missing unit in duration \"1\"");
}

TEST_CASE("flags: Go durations parse and print as Go does", "[flags]") {
  using knode::config::format_go_duration;
  using knode::config::parse_go_duration;
  CHECK(format_go_duration(0s) == "0s");
  CHECK(format_go_duration(15min) == "15m0s");
  CHECK(format_go_duration(24h) == "24h0m0s");
  CHECK(format_go_duration(90s) == "1m30s");
  CHECK(format_go_duration(1500ms) == "1.5s");
  CHECK(format_go_duration(500ms) == "500ms");
  CHECK(format_go_duration(1500us) == "1.5ms");
  CHECK(format_go_duration(2us) == "2\u00b5s");
  CHECK(format_go_duration(7ns) == "7ns");
  CHECK(format_go_duration(-90s) == "-1m30s");
  CHECK(*parse_go_duration("1h2m3.5s") == 3723500ms);
  CHECK(*parse_go_duration("0") == 0s);
  CHECK(*parse_go_duration("-1.5h") == -90min);
  CHECK(*parse_go_duration(".5s") == 500ms);
  CHECK(*parse_go_duration("3\u00b5s") == 3us);
  CHECK(parse_go_duration("").error().message() == "time: invalid duration \"\"");
  CHECK(parse_go_duration("s").error().message() == "time: invalid duration \"s\"");
  CHECK(parse_go_duration("1.s").ok());
  CHECK_FALSE(parse_go_duration("1h ").ok());
}

TEST_CASE("flags: Go float formatting", "[flags]") {
  using knode::config::format_go_float;
  CHECK(format_go_float(5, 32) == "5");
  CHECK(format_go_float(0.1f, 32) == "0.1");
  CHECK(format_go_float(0.1, 64) == "0.1");
  CHECK(format_go_float(1e6, 64) == "1e+06");
  CHECK(format_go_float(100000, 64) == "100000");
  CHECK(format_go_float(123456789, 64) == "1.23456789e+08");
  CHECK(format_go_float(0.00001, 64) == "1e-05");
  CHECK(format_go_float(-2.5, 64) == "-2.5");
}
