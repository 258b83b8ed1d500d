#include "agent/kubelet/credentials.h"

#include <fnmatch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/kube/bytes.h"
#include "agent/kube/codec.h"

namespace knode::kubelet {

namespace json = kube::json;

namespace {

constexpr std::string_view kDefaultRegistryHost = "index.docker.io";

struct SchemelessUrl {
  std::string host;  // with the port
  std::string path;  // "" or starting with '/'
};

SchemelessUrl parse_schemeless(std::string_view s) {
  for (std::string_view scheme : {"https://", "http://"})
    if (s.substr(0, scheme.size()) == scheme) s.remove_prefix(scheme.size());
  size_t slash = s.find('/');
  SchemelessUrl u;
  u.host = std::string(s.substr(0, slash));
  if (slash != std::string_view::npos) u.path = std::string(s.substr(slash));
  return u;
}

std::pair<std::vector<std::string>, std::string> split_host(const std::string& host_port) {
  std::string host = host_port, port;
  if (size_t colon = host_port.rfind(':'); colon != std::string::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  std::vector<std::string> parts;
  std::stringstream ss(host);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  return {parts, port};
}

// Upstream's URLsMatch: same port, same number of host parts each matching the key's glob, and
// the image path starting with the key's path.
bool key_matches(const std::string& key, const std::string& repo) {
  SchemelessUrl k = parse_schemeless(key), r = parse_schemeless(repo);
  auto [kparts, kport] = split_host(k.host);
  auto [rparts, rport] = split_host(r.host);
  if (kport != rport || kparts.size() != rparts.size()) return false;
  for (size_t i = 0; i < kparts.size(); ++i)
    if (fnmatch(kparts[i].c_str(), rparts[i].c_str(), 0) != 0) return false;
  return r.path.rfind(k.path, 0) == 0;
}

// Docker Hub, by the shape of the name (upstream's isDefaultRegistryMatch).
bool is_default_registry(std::string_view repo) {
  size_t slash = repo.find('/');
  if (slash == 0) return false;
  if (slash == std::string_view::npos) return true;
  std::string_view first = repo.substr(0, slash);
  if (first == "docker.io" || first == "index.docker.io") return true;
  return first.find_first_of(".:") == std::string_view::npos;
}

std::string registry_key(std::string_view location) {
  SchemelessUrl u = parse_schemeless(location);
  std::string path = u.path;
  if (path.rfind("/v2/", 0) == 0 || path.rfind("/v1/", 0) == 0) path = path.substr(3);
  return path.empty() || path == "/" ? u.host : u.host + path;
}

std::string string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The entries of a docker config map: {"<registry>": {username, password, email, auth, …}}.
Result<std::vector<std::pair<std::string, RegistryCredential>>> parse_entries(const json::value& v,
                                                                               std::string_view source,
                                                                               std::string_view where) {
  std::vector<std::pair<std::string, RegistryCredential>> out;
  if (v.is_null()) return out;
  if (!v.is_object()) return Error(std::string(source) + ": " + std::string(where) + ": not an object");
  for (const auto& [registry, entry] : v.as_object()) {
    std::string field = std::string(where) + (where.empty() ? "" : ".") + std::string(registry);
    if (!entry.is_object()) return Error(std::string(source) + ": " + field + ": not an object");
    const json::object& e = entry.as_object();
    RegistryCredential c;
    c.username = string_member(e, "username");
    c.password = string_member(e, "password");
    c.email = string_member(e, "email");
    c.auth = string_member(e, "auth");
    c.identity_token = string_member(e, "identitytoken");
    c.registry_token = string_member(e, "registrytoken");
    c.source = std::string(source);
    if (!c.auth.empty()) {
      // "auth" is base64("user:password") and wins over username/password, as upstream decodes it.
      auto raw = kube::base64_decode(c.auth);
      if (!raw) return Error(std::string(source) + ": " + field + ".auth: " + raw.error().message());
      size_t colon = raw->find(':');
      if (colon == std::string::npos)
        return Error(std::string(source) + ": " + field + ".auth: unable to parse auth field, must be formatted as base64(username:password)");
      c.username = raw->substr(0, colon);
      c.password = raw->substr(colon + 1);
    }
    out.emplace_back(std::string(registry), std::move(c));
  }
  return out;
}

std::string read_file(const std::string& path, bool* found) {
  std::ifstream in(path, std::ios::binary);
  *found = in.is_open();
  std::stringstream ss;
  if (*found) ss << in.rdbuf();
  return ss.str();
}

}  // namespace

runtime::v1::AuthConfig to_auth_config(const RegistryCredential& c) {
  runtime::v1::AuthConfig a;
  a.set_username(c.username);
  a.set_password(c.password);
  a.set_auth(c.auth);
  a.set_identity_token(c.identity_token);
  a.set_registry_token(c.registry_token);
  return a;
}

std::string image_repository(std::string_view image) {
  std::string s(image);
  if (size_t at = s.find('@'); at != std::string::npos) s.resize(at);
  size_t last_slash = s.rfind('/');
  size_t colon = s.rfind(':');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) s.resize(colon);
  size_t slash = s.find('/');
  std::string first = slash == std::string::npos ? "" : s.substr(0, slash);
  bool has_domain = !first.empty() && (first.find_first_of(".:") != std::string::npos || first == "localhost");
  if (!has_domain) {
    std::string path = s;
    if (path.find('/') == std::string::npos) path = "library/" + path;
    return "docker.io/" + path;
  }
  if (first == "index.docker.io") s = "docker.io" + s.substr(slash);
  return s;
}

void CredentialKeyring::add(std::string_view registry, RegistryCredential cred) {
  creds_[registry_key(registry)].push_back(std::move(cred));
}

Status CredentialKeyring::add_docker_config_json(std::string_view text, std::string_view source) {
  auto doc = kube::parse_json(text);
  if (!doc) return Error(std::string(source) + ": " + doc.error().message());
  if (!doc->is_object()) return Error(std::string(source) + ": not a JSON object");
  const auto* auths = doc->as_object().if_contains("auths");
  auto entries = parse_entries(auths ? *auths : json::value(), source, "auths");
  if (!entries) return entries.error();
  for (auto& [registry, c] : *entries) add(registry, std::move(c));
  return Status::Ok();
}

Status CredentialKeyring::add_dockercfg(std::string_view text, std::string_view source) {
  auto doc = kube::parse_json(text);
  if (!doc) return Error(std::string(source) + ": " + doc.error().message());
  auto entries = parse_entries(*doc, source, "");
  if (!entries) return entries.error();
  for (auto& [registry, c] : *entries) add(registry, std::move(c));
  return Status::Ok();
}

std::vector<RegistryCredential> CredentialKeyring::lookup(std::string_view image) const {
  std::string repo = image_repository(image);
  std::vector<RegistryCredential> out;
  for (auto it = creds_.rbegin(); it != creds_.rend(); ++it)  // reverse order: longer keys first
    if (key_matches(it->first, repo)) out.insert(out.end(), it->second.begin(), it->second.end());
  if (out.empty() && is_default_registry(repo))
    if (auto it = creds_.find(std::string(kDefaultRegistryHost)); it != creds_.end()) out = it->second;
  return out;
}

Result<CredentialKeyring> load_node_keyring(const std::string& root_dir, std::string home, std::string cwd) {
  if (home.empty()) {
    const char* h = std::getenv("HOME");
    home = h ? h : "";
  }
  if (cwd.empty()) {
    std::error_code ec;
    cwd = std::filesystem::current_path(ec).string();
  }
  CredentialKeyring k;
  std::vector<std::string> json_dirs = {root_dir, cwd};
  if (!home.empty()) json_dirs.push_back(home + "/.docker");
  json_dirs.push_back("/.docker");
  for (const auto& dir : json_dirs) {
    bool found = false;
    std::string path = dir + "/config.json";
    std::string text = read_file(path, &found);
    if (!found) continue;
    if (Status st = k.add_docker_config_json(text, path); !st.ok()) return st.error();
    return k;
  }
  std::vector<std::string> cfg_dirs = {root_dir, cwd};
  if (!home.empty()) cfg_dirs.push_back(home);
  cfg_dirs.push_back("");
  for (const auto& dir : cfg_dirs) {
    bool found = false;
    std::string path = dir + "/.dockercfg";
    std::string text = read_file(path, &found);
    if (!found) continue;
    if (Status st = k.add_dockercfg(text, path); !st.ok()) return st.error();
    return k;
  }
  return k;
}

}  // namespace knode::kubelet
