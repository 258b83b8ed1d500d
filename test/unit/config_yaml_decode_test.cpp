// The decoding framework on a small schema of its own.
#include <catch2/catch.hpp>

#include "config/yaml_decode.h"

namespace knode::config {
namespace {

struct Inner {
  std::optional<bool> enabled;
  Duration ttl;
};
template <class V>
void visit_fields(V& v, Inner& x) {
  v("enabled", x.enabled);
  v("cacheTTL", x.ttl);
}

struct Sample {
  std::string name;
  int32_t port = 0;
  std::optional<int32_t> qps;
  int64_t big = 0;
  uint32_t level = 0;
  double factor = 0;
  bool flag = false;
  Duration every;
  Quantity size;
  std::vector<std::string> dns;
  std::map<std::string, std::string> labels;
  std::map<std::string, bool> gates;
  Inner inner;
  std::vector<Inner> list;
  std::optional<Inner> maybe;
};
template <class V>
void visit_fields(V& v, Sample& s) {
  v("name", s.name);
  v("port", s.port);
  v("qps", s.qps);
  v("big", s.big);
  v("level", s.level, kAlways);
  v("factor", s.factor);
  v("flag", s.flag);
  v("every", s.every);
  v("size", s.size);
  v("dns", s.dns);
  v("labels", s.labels);
  v("gates", s.gates);
  v("inner", s.inner);
  v("list", s.list);
  v("maybe", s.maybe);
}

DecodeState decode(std::string_view text, Sample& s) {
  auto doc = load_yaml(text, "c.yaml");
  REQUIRE(doc.ok());
  return decode_document(*doc, "c.yaml", s);
}
std::string decode_error(std::string_view text) {
  Sample s;
  auto st = decode(text, s);
  REQUIRE(st.failed());
  return st.error->message();
}

}  // namespace

TEST_CASE("decodes typed fields from YAML", "[yaml]") {
  Sample s;
  auto st = decode(R"(
name: node-1
port: 10250
qps: 0
big: 0x10
level: 3
factor: 0.9
flag: yes
every: 1m30s
size: 1.5Gi
dns: [10.96.0.10, "fd00::a"]
labels: {a: "1", b: x}
gates:
  Foo: true
  Bar: false
inner:
  enabled: false
  cacheTTL: 2m
list:
- cacheTTL: 1s
- enabled: true
)", s);
  REQUIRE_FALSE(st.failed());
  CHECK(st.unknown.empty());
  CHECK(s.name == "node-1");
  CHECK(s.port == 10250);
  REQUIRE(s.qps.has_value());  // zero but set
  CHECK(*s.qps == 0);
  CHECK(s.big == 16);
  CHECK(s.level == 3);
  CHECK(s.factor == 0.9);
  CHECK(s.flag);
  CHECK(s.every == Duration::seconds(90));
  CHECK(s.size.string() == "1536Mi");
  CHECK(s.dns == std::vector<std::string>{"10.96.0.10", "fd00::a"});
  CHECK(s.labels == std::map<std::string, std::string>{{"a", "1"}, {"b", "x"}});
  CHECK(s.gates == std::map<std::string, bool>{{"Bar", false}, {"Foo", true}});
  CHECK(s.inner.enabled == std::optional<bool>(false));
  CHECK(s.inner.ttl == Duration::minutes(2));
  REQUIRE(s.list.size() == 2);
  CHECK(s.list[0].ttl == Duration::seconds(1));
  CHECK(s.list[1].enabled == std::optional<bool>(true));
  CHECK_FALSE(s.maybe.has_value());
}

TEST_CASE("JSON input decodes the same", "[yaml]") {
  Sample s;
  auto st = decode(R"({"name": "n", "port": 1, "inner": {"cacheTTL": "5s"}, "dns": ["a"], "qps": null})", s);
  REQUIRE_FALSE(st.failed());
  CHECK(s.name == "n");
  CHECK(s.port == 1);
  CHECK(s.inner.ttl == Duration::seconds(5));
  CHECK(s.dns == std::vector<std::string>{"a"});
  CHECK_FALSE(s.qps.has_value());
}

TEST_CASE("null and absent leave defaults; present values overlay", "[yaml]") {
  Sample s;
  s.port = 7;
  s.qps = 5;
  s.labels = {{"keep", "me"}};
  s.dns = {"old"};
  auto st = decode("port: null\nqps: ~\nname:\nlabels: {new: v}\ndns: [new]\n", s);
  REQUIRE_FALSE(st.failed());
  CHECK(s.port == 7);
  CHECK(s.qps == std::optional<int32_t>(5));
  CHECK(s.labels == std::map<std::string, std::string>{{"keep", "me"}, {"new", "v"}});  // maps merge
  CHECK(s.dns == std::vector<std::string>{"new"});                                     // lists replace
}

TEST_CASE("unknown and duplicate fields are collected with their paths", "[yaml]") {
  Sample s;
  auto st = decode("name: a\nbogus: 1\ninner: {extra: 2}\nlist: [{nope: 1}]\nname: b\n", s);
  REQUIRE_FALSE(st.failed());
  CHECK(st.unknown == std::vector<std::string>{"inner.extra", "list[0].nope", "bogus"});
  CHECK(st.duplicate == std::vector<std::string>{"name"});
  CHECK(s.name == "b");  // the last occurrence wins
}

TEST_CASE("malformed values name file, field path and value", "[yaml]") {
  CHECK(decode_error("every: 10x") == "c.yaml: every: invalid duration \"10x\"");
  CHECK(decode_error("every: 10") ==
        "c.yaml: every: invalid duration (an integer, want a string such as \"10s\") \"10\"");
  CHECK(decode_error("inner:\n  cacheTTL: 1y") == "c.yaml: inner.cacheTTL: invalid duration \"1y\"");
  CHECK(decode_error("list: [{cacheTTL: 1s}, {cacheTTL: x}]") == "c.yaml: list[1].cacheTTL: invalid duration \"x\"");
  CHECK(decode_error("port: abc") == "c.yaml: port: invalid integer \"abc\"");
  CHECK(decode_error("port: \"10\"") == "c.yaml: port: invalid integer \"10\"");
  CHECK(decode_error("port: 1.5") == "c.yaml: port: invalid integer \"1.5\"");
  CHECK(decode_error("port: 2147483648") == "c.yaml: port: integer out of range \"2147483648\"");
  CHECK(decode_error("level: -1") == "c.yaml: level: integer out of range \"-1\"");
  CHECK(decode_error("big: 99999999999999999999") == "c.yaml: big: integer out of range \"99999999999999999999\"");
  CHECK(decode_error("flag: maybe") == "c.yaml: flag: invalid boolean \"maybe\"");
  CHECK(decode_error("flag: \"true\"") == "c.yaml: flag: invalid boolean \"true\"");
  CHECK(decode_error("factor: x") == "c.yaml: factor: invalid number \"x\"");
  CHECK(decode_error("size: 1.5GB") == "c.yaml: size: invalid quantity \"1.5GB\"");
  CHECK(decode_error("gates: {Foo: 1}") == "c.yaml: gates[Foo]: invalid boolean \"1\"");
  CHECK(decode_error("dns: a") == "c.yaml: dns: expected a list, got \"a\"");
  CHECK(decode_error("dns: [[a]]") == "c.yaml: dns[0]: expected a string, got \"[a]\"");
  CHECK(decode_error("inner: 5") == "c.yaml: inner: expected a mapping, got \"5\"");
  CHECK(decode_error("- a") == "c.yaml: (document): expected a mapping, got \"[a]\"");
}

TEST_CASE("load_yaml and type meta checks", "[yaml]") {
  CHECK(load_yaml("", "f.yaml").error().message() == "f.yaml: file is empty");
  auto bad = load_yaml("a: [1, 2", "f.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().starts_with("f.yaml: invalid YAML: line 1"));
  auto doc = load_yaml("apiVersion: g/v1\nkind: K\n", "f.yaml");
  REQUIRE(doc.ok());
  CHECK(check_type_meta(*doc, "f.yaml", "g/v1", "K").ok());
  CHECK(check_type_meta(*doc, "f.yaml", "g/v2", "K").message() ==
        "f.yaml: apiVersion: unsupported apiVersion \"g/v1\", want \"g/v2\"");
  CHECK(check_type_meta(*doc, "f.yaml", "g/v1", "L").message() == "f.yaml: kind: unsupported kind \"K\", want \"L\"");
  auto nokind = load_yaml("apiVersion: g/v1\n", "f.yaml");
  CHECK(check_type_meta(*nokind, "f.yaml", "g/v1", "K").message() == "f.yaml: kind: missing, want \"K\"");
}

TEST_CASE("encodes sorted YAML as sigs.k8s.io/yaml prints it", "[yaml]") {
  Sample s;
  s.name = "true";  // would read back as a boolean: quoted
  s.port = 0;       // omitempty
  s.qps = 0;        // set pointer: printed
  s.every = Duration::minutes(1);
  s.size = *Quantity::parse("0");
  s.dns = {"10.96.0.10"};
  s.labels = {{"b", "x y"}, {"a", "1"}, {"memory.available", "100Mi"}};
  s.gates = {};
  s.list = {Inner{true, Duration::seconds(2)}};
  s.factor = 0.9;
  std::string y = encode_document(s, "g/v1", "K");
  CHECK(y ==
        "apiVersion: g/v1\n"
        "dns:\n"
        "- 10.96.0.10\n"
        "every: 1m0s\n"
        "factor: 0.9\n"
        "inner:\n"
        "  cacheTTL: 0s\n"
        "kind: K\n"
        "labels:\n"
        "  a: \"1\"\n"
        "  b: x y\n"
        "  memory.available: 100Mi\n"
        "level: 0\n"
        "list:\n"
        "- cacheTTL: 2s\n"
        "  enabled: true\n"
        "name: \"true\"\n"
        "qps: 0\n"
        "size: \"0\"\n");
}

TEST_CASE("go-yaml key order", "[yaml]") {
  CHECK(yaml_key_less("a", "b"));
  CHECK(yaml_key_less("A", "a"));
  CHECK(yaml_key_less("a.b", "ab"));  // non-letters sort before letters
  CHECK(yaml_key_less("a2", "a10"));  // digit runs compare as numbers
  CHECK(yaml_key_less("nodefs.available", "nodefs.inodesFree"));
  CHECK_FALSE(yaml_key_less("b", "a"));
  CHECK(yaml_key_less("a", "ab"));
}

}  // namespace knode::config
