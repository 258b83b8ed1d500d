// Registry credentials: docker config formats, upstream's keyring matching, the CRI AuthConfig.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/kube/bytes.h"
#include "agent/kubelet/credentials.h"

using namespace knode;
using namespace knode::kubelet;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> users(const CredentialKeyring& k, const std::string& image) {
  std::vector<std::string> out;
  for (const auto& c : k.lookup(image)) out.push_back(c.username);
  return out;
}

std::string auth(const std::string& user, const std::string& pass) { return kube::base64_encode(user + ":" + pass); }

}  // namespace

TEST_CASE("credentials: image repositories normalized as the runtime does", "[kubelet][credentials]") {
  CHECK(image_repository("busybox") == "docker.io/library/busybox");
  CHECK(image_repository("busybox:1.36") == "docker.io/library/busybox");
  CHECK(image_repository("team/app:v1") == "docker.io/team/app");
  CHECK(image_repository("index.docker.io/team/app") == "docker.io/team/app");
  CHECK(image_repository("registry.example.com:5000/a/b:1@sha256:abcd") == "registry.example.com:5000/a/b");
  CHECK(image_repository("localhost/app") == "localhost/app");
  CHECK(image_repository("knode.local/busybox:1.36") == "knode.local/busybox");
}

TEST_CASE("credentials: keys match by host globs, port and path prefix; most specific first",
          "[kubelet][credentials]") {
  CredentialKeyring k;
  REQUIRE(k.add_docker_config_json(R"({"auths": {
      "quay.io": {"auth": ")" + auth("quay-all", "p1") + R"("},
      "quay.io/coreos": {"username": "quay-coreos", "password": "p2"},
      "https://registry.example.com:5000/v2/": {"username": "port5000", "password": "p3"},
      "*.example.com": {"username": "wild", "password": "p4"},
      "https://index.docker.io/v1/": {"username": "hub", "password": "p5"}
    }})", "test").ok());
  CHECK(users(k, "quay.io/coreos/etcd:3.5") == std::vector<std::string>{"quay-coreos", "quay-all"});
  CHECK(users(k, "quay.io/other/x") == std::vector<std::string>{"quay-all"});
  // Ports must be equal: the :5000 key is not for the default port, the wildcard key has no port.
  CHECK(users(k, "registry.example.com:5000/team/app:1") == std::vector<std::string>{"port5000"});
  CHECK(users(k, "registry.example.com/team/app:1") == std::vector<std::string>{"wild"});
  // A glob part matches one host part: a.b.example.com has one part too many.
  CHECK(users(k, "a.b.example.com/x").empty());
  CHECK(users(k, "example.com/x").empty());
  // Docker Hub images fall back to the index.docker.io entry.
  CHECK(users(k, "busybox:1.36") == std::vector<std::string>{"hub"});
  CHECK(users(k, "docker.io/team/app") == std::vector<std::string>{"hub"});
  CHECK(users(k, "ghcr.io/team/app").empty());
}

TEST_CASE("credentials: the auth field decodes to user and password; bad input names the entry",
          "[kubelet][credentials]") {
  CredentialKeyring k;
  REQUIRE(k.add_docker_config_json(R"({"auths": {"r.example.com": {
      "auth": ")" + auth("alice", "s3:cr:et") + R"(", "username": "ignored", "email": "a@example.com",
      "identitytoken": "refresh-token", "registrytoken": "bearer-token"}}})", "config.json").ok());
  auto creds = k.lookup("r.example.com/app");
  REQUIRE(creds.size() == 1);
  CHECK(creds[0].username == "alice");
  CHECK(creds[0].password == "s3:cr:et");
  CHECK(creds[0].source == "config.json");
  auto a = to_auth_config(creds[0]);
  CHECK(a.username() == "alice");
  CHECK(a.password() == "s3:cr:et");
  CHECK(a.auth() == auth("alice", "s3:cr:et"));
  CHECK(a.identity_token() == "refresh-token");
  CHECK(a.registry_token() == "bearer-token");
  CHECK(a.server_address().empty());

  CredentialKeyring bad;
  Status st = bad.add_docker_config_json(R"({"auths": {"r.example.com": {"auth": "!!!"}}})", "secret default/pull");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().rfind("secret default/pull: auths.r.example.com.auth: illegal base64 data", 0) == 0);
  st = bad.add_docker_config_json(R"({"auths": {"r.example.com": {"auth": ")" + kube::base64_encode("nocolon") + R"("}}})", "f");
  CHECK(st.message() == "f: auths.r.example.com.auth: unable to parse auth field, must be formatted as base64(username:password)");
  CHECK_FALSE(bad.add_docker_config_json("{not json", "f").ok());
  CHECK(bad.empty());
  // No "auths": nothing, not an error (as upstream).
  CHECK(bad.add_docker_config_json(R"({"credsStore": "desktop"})", "f").ok());
  CHECK(bad.empty());
}

TEST_CASE("credentials: legacy .dockercfg and the node's config file locations", "[kubelet][credentials]") {
  CredentialKeyring legacy;
  REQUIRE(legacy.add_dockercfg(R"({"https://old.example.com": {"auth": ")" + auth("old", "pw") +
                                   R"(", "email": "o@example.com"}})", ".dockercfg").ok());
  CHECK(users(legacy, "old.example.com/app") == std::vector<std::string>{"old"});

  char tmpl[] = "/tmp/knode-creds-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  fs::path root = dir / "root", home = dir / "home", cwd = dir / "cwd";
  fs::create_directories(root);
  fs::create_directories(home / ".docker");
  fs::create_directories(cwd);
  auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };

  auto k = load_node_keyring(root, home, cwd);
  REQUIRE(k.ok());
  CHECK(k->empty());
  write(home / ".dockercfg", R"({"cfg.example.com": {"username": "home-cfg", "password": "x"}})");
  CHECK(users(*load_node_keyring(root, home, cwd), "cfg.example.com/a") == std::vector<std::string>{"home-cfg"});
  // config.json anywhere wins over .dockercfg; <root>/config.json over ~/.docker/config.json.
  write(home / ".docker" / "config.json", R"({"auths": {"cfg.example.com": {"username": "home-json", "password": "x"}}})");
  CHECK(users(*load_node_keyring(root, home, cwd), "cfg.example.com/a") == std::vector<std::string>{"home-json"});
  write(root / "config.json", R"({"auths": {"cfg.example.com": {"username": "root-json", "password": "x"}}})");
  CHECK(users(*load_node_keyring(root, home, cwd), "cfg.example.com/a") == std::vector<std::string>{"root-json"});
  write(root / "config.json", "{broken");
  auto broken = load_node_keyring(root, home, cwd);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message().rfind((root / "config.json").string() + ": ", 0) == 0);
  fs::remove_all(dir);
}
