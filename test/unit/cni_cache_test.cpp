// The result cache is byte-compatible with libcni's cniCacheV1 files.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "cni/result_cache.h"
#include "cni_test_util.h"

using namespace knode::cni;
using knode::cni::testing::read_file;
using knode::cni::testing::TempDir;

namespace {
const std::string kFixtures = std::string(KNODE_SOURCE_DIR) + "/test/fixtures/cni/";

CacheEntry fixture_entry() {
  CacheEntry e;
  e.container_id = "abc123";
  e.network_name = "mynet";
  e.ifname = "eth0";
  e.netns = "/var/run/netns/cni-x";
  e.config = read_file(kFixtures + "cache-mynet.conflist");
  e.cni_args = {{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "default"}, {"K8S_POD_NAME", "web-0"}};
  e.capability_args["portMappings"] = R"([{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":""}])";
  PluginResult r;
  r.cni_version = "1.0.0";
  r.interfaces = {{.name = "cni0", .mac = "0a:58:0a:16:00:01"},
                  {.name = "veth1234", .mac = "0a:58:0a:16:00:05"},
                  {.name = "eth0", .mac = "0a:58:0a:16:00:05", .sandbox = "/var/run/netns/cni-x"}};
  r.ips = {{.interface = 2, .address = "10.22.0.5/16", .gateway = "10.22.0.1"}};
  r.routes = {{.dst = "0.0.0.0/0", .gw = "10.22.0.1"}};
  e.result = r;
  return e;
}
}  // namespace

TEST_CASE("base64 matches Go's StdEncoding", "[cni][cache]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
  CHECK(base64_decode("Zm9vYg==") == std::optional<std::string>("foob"));
  CHECK_FALSE(base64_decode("Zm9").has_value());
  CHECK_FALSE(base64_decode("Z=9v").has_value());
}

TEST_CASE("a cache entry encodes byte for byte as libcni writes it", "[cni][cache]") {
  auto bytes = encode_cache_entry(fixture_entry());
  REQUIRE(bytes.ok());
  CHECK(*bytes == read_file(kFixtures + "cache-mynet-abc123-eth0"));
}

TEST_CASE("libcni's cache file decodes into the entry", "[cni][cache]") {
  auto e = decode_cache_entry(read_file(kFixtures + "cache-mynet-abc123-eth0"));
  REQUIRE(e.ok());
  auto want = fixture_entry();
  CHECK(e->container_id == want.container_id);
  CHECK(e->network_name == want.network_name);
  CHECK(e->ifname == want.ifname);
  CHECK(e->netns == want.netns);
  CHECK(e->config == want.config);
  CHECK(e->cni_args == want.cni_args);
  CHECK(e->capability_args == want.capability_args);
  REQUIRE(e->result.has_value());
  CHECK(*e->result == *want.result);
}

TEST_CASE("the cache lives at results/<network>-<container>-<ifname>, 0600 in a 0700 dir", "[cni][cache]") {
  TempDir d;
  ResultCache cache(d.path());
  auto e = fixture_entry();
  REQUIRE(cache.write(e).ok());
  std::string p = d / "results/mynet-abc123-eth0";
  CHECK(cache.path("mynet", "abc123", "eth0") == p);
  CHECK(read_file(p) == read_file(kFixtures + "cache-mynet-abc123-eth0"));
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((d / "results").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto back = cache.read("mynet", "abc123", "eth0");
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((*back)->result == e.result);
  auto none = cache.read("mynet", "other", "eth0");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  e.container_id = "def456";
  REQUIRE(cache.write(e).ok());
  testing::write_file(d / "results/junk-xyz-eth0", "{not json");
  auto all = cache.list();
  REQUIRE(all.size() == 2);
  CHECK(all[0].container_id == "abc123");
  CHECK(cache.list("def456").size() == 1);

  REQUIRE(cache.remove("mynet", "abc123", "eth0").ok());
  CHECK_FALSE(std::filesystem::exists(p));
  CHECK(cache.remove("mynet", "abc123", "eth0").ok());  // idempotent
}

TEST_CASE("the pre-cniCacheV1 layout (a bare result) is still read", "[cni][cache]") {
  TempDir d;
  testing::write_file(d / "results/old-c1-eth0", R"({"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24"}],"dns":{}})");
  ResultCache cache(d.path());
  auto e = cache.read("old", "c1", "eth0");
  REQUIRE(e.ok());
  REQUIRE(e->has_value());
  CHECK((*e)->result->ips[0].address == "10.0.0.2/24");
  CHECK(cache.list().empty());  // only cniCacheV1 entries are attachments
}
