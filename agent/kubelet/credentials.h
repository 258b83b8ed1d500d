// Image pull credentials as upstream's credential keyring (pkg/credentialprovider): docker config
// files — config.json ({"auths": {...}}, what `kubernetes.io/dockerconfigjson` Secrets hold under
// `.dockerconfigjson`) and the legacy .dockercfg (a bare map, `.dockercfg` Secrets) — give entries
// keyed by registry location ("registry.example.com:5000/team", "*.example.com",
// "https://index.docker.io/v1/"). An image matches a key when the ports are equal, the host has
// as many dot-separated parts and each part matches the key's glob (`*.example.com`), and the
// image path starts with the key's path; longer keys are tried first, Docker Hub images fall back
// to the index.docker.io entry.
//
//   CredentialKeyring k;
//   k.add_docker_config_json(secret_data[".dockerconfigjson"], "pull-secret");  // or node files:
//   auto node = load_node_keyring("/var/lib/kubelet");                         // see below
//   for (const auto& cred : k.lookup("registry.example.com/team/app:1.0")) { ... to_auth_config(cred) ... }
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "cri/types.h"

namespace knode::kubelet {

struct RegistryCredential {
  std::string username;
  std::string password;
  std::string auth;            // base64 "user:password", as written in the file
  std::string email;
  std::string identity_token;  // "identitytoken" (an OAuth refresh token)
  std::string registry_token;  // "registrytoken" (a bearer token)
  std::string source;          // where it came from (file path or Secret name), for logs
  bool operator==(const RegistryCredential&) const = default;
};

// The CRI's AuthConfig for one credential.
runtime::v1::AuthConfig to_auth_config(const RegistryCredential& c);

// The repository an image pulls from, normalized as the container runtime does, without tag or
// digest: "busybox:1.36" → "docker.io/library/busybox", "host:5000/a/b@sha256:…" → "host:5000/a/b".
std::string image_repository(std::string_view image);

class CredentialKeyring {
 public:
  // config.json / .dockerconfigjson: {"auths": {"<registry>": {"auth": …, "username": …}}}.
  Status add_docker_config_json(std::string_view json, std::string_view source);
  // Legacy .dockercfg: {"<registry>": {"auth": …, "email": …}}.
  Status add_dockercfg(std::string_view json, std::string_view source);
  void add(std::string_view registry, RegistryCredential cred);

  // The credentials to try for an image, most specific key first (empty: pull anonymously).
  std::vector<RegistryCredential> lookup(std::string_view image) const;
  bool empty() const { return creds_.empty(); }

 private:
  std::map<std::string, std::vector<RegistryCredential>> creds_;  // key: host[:port][/path]
};

// The node's docker config, from the first file found as upstream's kubelet reads it:
// config.json in <root_dir>, the working directory, $HOME/.docker, /.docker; else .dockercfg in
// <root_dir>, the working directory, $HOME, /. No file is an empty keyring; a file that does not
// parse is an error naming it. `home` and `cwd` default to $HOME and the working directory.
Result<CredentialKeyring> load_node_keyring(const std::string& root_dir, std::string home = "",
                                            std::string cwd = "");

}  // namespace knode::kubelet
