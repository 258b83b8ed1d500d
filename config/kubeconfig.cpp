// kubeconfig loading and context resolution (client-go clientcmd semantics).
#include "config/kubeconfig.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "config/yaml_decode.h"

namespace knode::config {

// ---- field tables (clientcmd/api/v1 JSON names) ----

template <class V>
void visit_fields(V& v, KubeconfigCluster& c) {
  v("server", c.server, kAlways);
  v("tls-server-name", c.tls_server_name);
  v("insecure-skip-tls-verify", c.insecure_skip_tls_verify);
  v("certificate-authority", c.certificate_authority);
  v("certificate-authority-data", c.certificate_authority_data);
  v("proxy-url", c.proxy_url);
  v("disable-compression", c.disable_compression);
  v.known("extensions");
}

template <class V>
void visit_fields(V& v, ExecEnvVar& e) {
  v("name", e.name, kAlways);
  v("value", e.value, kAlways);
}

template <class V>
void visit_fields(V& v, ExecConfig& e) {
  v("command", e.command, kAlways);
  v("args", e.args, kAlways);
  v("env", e.env, kAlways);
  v("apiVersion", e.api_version);
  v("installHint", e.install_hint);
  v("provideClusterInfo", e.provide_cluster_info, kAlways);
  v("interactiveMode", e.interactive_mode);
}

template <class V>
void visit_fields(V& v, AuthProviderConfig& a) {
  v("name", a.name, kAlways);
  v("config", a.config, kAlways);
}

template <class V>
void visit_fields(V& v, KubeconfigUser& u) {
  v("client-certificate", u.client_certificate);
  v("client-certificate-data", u.client_certificate_data);
  v("client-key", u.client_key);
  v("client-key-data", u.client_key_data);
  v("token", u.token);
  v("tokenFile", u.token_file);
  v("as", u.impersonate);
  v("as-uid", u.impersonate_uid);
  v("as-groups", u.impersonate_groups);
  v("username", u.username);
  v("password", u.password);
  v("auth-provider", u.auth_provider);
  v("exec", u.exec);
  v.known("as-user-extra");
  v.known("extensions");
}

template <class V>
void visit_fields(V& v, KubeconfigContext& c) {
  v("cluster", c.cluster, kAlways);
  v("user", c.user, kAlways);
  v("namespace", c.namespace_);
  v.known("extensions");
}

inline const char* named_key(const KubeconfigCluster*) { return "cluster"; }
inline const char* named_key(const KubeconfigUser*) { return "user"; }
inline const char* named_key(const KubeconfigContext*) { return "context"; }

template <class V, class T>
void visit_fields(V& v, Named<T>& n) {
  v("name", n.name, kAlways);
  v(named_key(static_cast<const T*>(nullptr)), n.value, kAlways);
}

template <class V>
void visit_fields(V& v, Kubeconfig& k) {
  v("clusters", k.clusters, kAlways);
  v("users", k.users, kAlways);
  v("contexts", k.contexts, kAlways);
  v("current-context", k.current_context, kAlways);
  v.known("preferences");
  v.known("extensions");
}

// ---- base64 ----

Result<std::string> decode_base64(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  auto bad = [](size_t at) { return Error(fmt::format("illegal base64 data at input byte {}", at)); };
  std::string out;
  size_t i = 0;
  auto skip_newlines = [&] {
    while (i < s.size() && (s[i] == '\n' || s[i] == '\r')) ++i;
  };
  while (true) {
    skip_newlines();
    if (i >= s.size()) return out;
    size_t quantum_start = i;
    int vals[4];
    int n = 0;
    size_t pad_at = std::string_view::npos;
    while (n < 4) {
      skip_newlines();
      if (i >= s.size()) return bad(n == 1 ? i - 1 : quantum_start);
      char c = s[i];
      if (c == '=') {
        if (n < 2) return bad(i);
        pad_at = i;
        ++i;
        if (n == 2) {  // needs a second '='
          skip_newlines();
          if (i >= s.size() || s[i] != '=') return bad(i >= s.size() ? i : i);
          ++i;
        }
        skip_newlines();
        if (i < s.size()) return bad(i);
        break;
      }
      int v = value(c);
      if (v < 0) return bad(i);
      vals[n++] = v;
      ++i;
    }
    uint32_t bits = 0;
    for (int k = 0; k < n; ++k) bits |= static_cast<uint32_t>(vals[k]) << (18 - 6 * k);
    out += static_cast<char>((bits >> 16) & 0xff);
    if (n >= 3) out += static_cast<char>((bits >> 8) & 0xff);
    if (n == 4) out += static_cast<char>(bits & 0xff);
    if (pad_at != std::string_view::npos) return out;
  }
}

// ---- loading ----

namespace {

std::string clean_join(const std::string& base, const std::string& p) {
  if (p.empty()) return p;
  std::filesystem::path path(p);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (std::filesystem::path(base) / path).lexically_normal().string();
}

const char* kind_of(const KubeconfigCluster*) { return "clusters"; }

}  // namespace

Result<Kubeconfig> parse_kubeconfig(std::string_view text, std::string_view file, std::string base_dir) {
  Kubeconfig kc;
  kc.path = std::string(file);
  if (base_dir.empty() && !file.empty()) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(std::filesystem::path(std::string(file)), ec);
    base_dir = (ec ? std::filesystem::path(std::string(file)) : abs).parent_path().string();
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return kc;  // empty config
  auto doc = load_yaml(text, file);
  if (!doc) return doc.error();
  if (doc->IsMap()) {
    // Missing apiVersion/kind default to v1/Config; other values are errors.
    auto check = [&](const char* key, std::string_view want) -> Status {
      YAML::Node n = (*doc)[key];
      if (!n || n.IsNull()) return {};
      std::string got = n.IsScalar() ? n.Scalar() : "";
      if (got == want || got.empty()) return {};
      return Error(fmt::format("{}: {}: unsupported value {}, want {}", file, key, "\"" + got + "\"",
                               "\"" + std::string(want) + "\""));
    };
    if (auto st = check("kind", "Config"); !st) return st.error();
    if (auto st = check("apiVersion", "v1"); !st) return st.error();
  }
  DecodeState st = decode_document(*doc, file, kc);
  if (st.failed()) return *st.error;

  auto prefix = [&](const std::string& path) { return file.empty() ? path : fmt::format("{}: {}", file, path); };
  auto b64 = [&](std::string& field, const std::string& path) -> Status {
    if (field.empty()) return {};
    auto d = decode_base64(field);
    if (!d) return Error(prefix(path) + ": " + d.error().message());
    field = std::move(*d);
    return {};
  };
  (void)kind_of;
  for (size_t i = 0; i < kc.clusters.size(); ++i) {
    auto& c = kc.clusters[i].value;
    if (auto s = b64(c.certificate_authority_data, fmt::format("clusters[{}].cluster.certificate-authority-data", i)); !s)
      return s.error();
    c.certificate_authority = clean_join(base_dir, c.certificate_authority);
  }
  for (size_t i = 0; i < kc.users.size(); ++i) {
    auto& u = kc.users[i].value;
    if (auto s = b64(u.client_certificate_data, fmt::format("users[{}].user.client-certificate-data", i)); !s)
      return s.error();
    if (auto s = b64(u.client_key_data, fmt::format("users[{}].user.client-key-data", i)); !s) return s.error();
    u.client_certificate = clean_join(base_dir, u.client_certificate);
    u.client_key = clean_join(base_dir, u.client_key);
    u.token_file = clean_join(base_dir, u.token_file);
    if (u.exec) {
      if (u.exec->command.find('/') != std::string::npos) u.exec->command = clean_join(base_dir, u.exec->command);
      if (u.exec->interactive_mode.empty() && u.exec->api_version == "client.authentication.k8s.io/v1beta1") {
        u.exec->interactive_mode = "IfAvailable";
      }
    }
  }
  return kc;
}

Result<Kubeconfig> load_kubeconfig(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_kubeconfig(*text, path);
}

const KubeconfigCluster* Kubeconfig::cluster(std::string_view name) const {
  for (const auto& c : clusters)
    if (c.name == name) return &c.value;
  return nullptr;
}
const KubeconfigUser* Kubeconfig::user(std::string_view name) const {
  for (const auto& u : users)
    if (u.name == name) return &u.value;
  return nullptr;
}
const KubeconfigContext* Kubeconfig::context(std::string_view name) const {
  for (const auto& c : contexts)
    if (c.name == name) return &c.value;
  return nullptr;
}

// ---- resolution ----

namespace {

Status validate_user(const KubeconfigUser& u, const std::string& name) {
  std::vector<std::string> methods;
  if (!u.token.empty()) methods.push_back("token");
  if (!u.username.empty() || !u.password.empty()) methods.push_back("basicAuth");
  const bool has_cert = !u.client_certificate.empty() || !u.client_certificate_data.empty();
  const bool has_key = !u.client_key.empty() || !u.client_key_data.empty();
  if (!u.client_certificate.empty() && !u.client_certificate_data.empty()) {
    return Error(fmt::format("client-cert-data and client-cert are both specified for {}. client-cert-data will override.", name));
  }
  if (!u.client_key.empty() && !u.client_key_data.empty()) {
    return Error(fmt::format("client-key-data and client-key are both specified for {}; client-key-data will override", name));
  }
  if (has_cert && !has_key) {
    return Error(fmt::format("client-key-data or client-key must be specified for {} to use the clientCert authentication method.", name));
  }
  if (has_key && !has_cert) {
    return Error(fmt::format("client-cert-data or client-cert must be specified for {} to use the clientCert authentication method.", name));
  }
  if (u.exec) {
    const ExecConfig& e = *u.exec;
    if (u.auth_provider) {
      return Error(fmt::format("authProvider cannot be provided in combination with an exec plugin for {}", name));
    }
    if (e.command.empty()) return Error(fmt::format("command must be specified for {} to use exec authentication plugin", name));
    if (e.api_version.empty()) {
      return Error(fmt::format("apiVersion must be specified for {} to use exec authentication plugin", name));
    }
    if (e.api_version != "client.authentication.k8s.io/v1" && e.api_version != "client.authentication.k8s.io/v1beta1") {
      return Error(fmt::format("exec plugin: invalid apiVersion \"{}\" for {}", e.api_version, name));
    }
    for (const auto& v : e.env) {
      if (v.name.empty()) {
        return Error(fmt::format("env variable name must be specified for {} to use exec authentication plugin", name));
      }
    }
    if (e.interactive_mode.empty()) {
      return Error(fmt::format("interactiveMode must be specified for {} to use exec authentication plugin", name));
    }
    if (e.interactive_mode != "Never" && e.interactive_mode != "IfAvailable" && e.interactive_mode != "Always") {
      return Error(fmt::format("invalid interactiveMode for {}: \"{}\"", name, e.interactive_mode));
    }
  }
  if (methods.size() > 1) {
    std::string list;
    for (const auto& m : methods) list += (list.empty() ? "" : " ") + m;
    return Error(fmt::format("more than one authentication method found for {}; found [{}], only one is allowed", name, list));
  }
  return {};
}

std::string with_scheme(const std::string& host, bool tls) {
  if (host.find("://") != std::string::npos) return host;
  return (tls ? "https://" : "http://") + host;
}

}  // namespace

Result<RestConfig> resolve_kubeconfig(const Kubeconfig& kc, const ResolveOptions& opts) {
  const std::string file = kc.path.empty() ? "kubeconfig" : kc.path;
  auto fail = [&](const std::string& msg) { return Error(fmt::format("{}: {}", file, msg)); };
  const std::string context_name = opts.context.empty() ? kc.current_context : opts.context;
  RestConfig rc;
  rc.context = context_name;
  KubeconfigContext ctx;
  if (!context_name.empty()) {
    const KubeconfigContext* c = kc.context(context_name);
    if (!c) return fail(fmt::format("context was not found for specified context: {}", context_name));
    ctx = *c;
  } else if (opts.server.empty()) {
    return fail("invalid configuration: no configuration has been provided (no current-context)");
  }
  rc.namespace_ = ctx.namespace_;

  KubeconfigCluster cluster;
  if (!ctx.cluster.empty()) {
    const KubeconfigCluster* c = kc.cluster(ctx.cluster);
    if (!c) return fail(fmt::format("cluster \"{}\" does not exist", ctx.cluster));
    cluster = *c;
  }
  KubeconfigUser user;
  if (!ctx.user.empty()) {
    const KubeconfigUser* u = kc.user(ctx.user);
    if (!u) return fail(fmt::format("auth info \"{}\" does not exist", ctx.user));
    user = *u;
  }
  if (!opts.server.empty()) cluster.server = opts.server;
  if (cluster.server.empty()) return fail(fmt::format("invalid configuration: no server found for cluster \"{}\"", ctx.cluster));
  if (!cluster.certificate_authority.empty() && !cluster.certificate_authority_data.empty()) {
    // client-go: certificate-authority-data wins.
    cluster.certificate_authority.clear();
  }
  if (cluster.insecure_skip_tls_verify && (!cluster.certificate_authority.empty() || !cluster.certificate_authority_data.empty())) {
    return fail(fmt::format("cluster \"{}\": specifying a root certificates file with the insecure flag is not allowed",
                            ctx.cluster));
  }
  if (auto st = validate_user(user, ctx.user); !st) return fail(fmt::format("invalid configuration: {}", st.message()));

  rc.tls_server_name = cluster.tls_server_name;
  rc.insecure = cluster.insecure_skip_tls_verify;
  rc.ca_file = cluster.certificate_authority;
  rc.ca_data = cluster.certificate_authority_data;
  rc.proxy_url = cluster.proxy_url;
  rc.cert_file = user.client_certificate;
  rc.cert_data = user.client_certificate_data;
  rc.key_file = user.client_key;
  rc.key_data = user.client_key_data;
  rc.bearer_token = user.token;
  rc.bearer_token_file = user.token_file;
  rc.username = user.username;
  rc.password = user.password;
  rc.impersonate = user.impersonate;
  rc.exec = user.exec;
  const bool tls = !rc.ca_file.empty() || !rc.ca_data.empty() || !rc.cert_file.empty() || !rc.cert_data.empty() ||
                   rc.insecure;
  rc.host = with_scheme(cluster.server, tls);
  return rc;
}

Result<RestConfig> build_rest_config(const std::string& master, const std::string& kubeconfig_path,
                                     const std::string& sa_dir) {
  if (!kubeconfig_path.empty()) {
    auto kc = load_kubeconfig(kubeconfig_path);
    if (!kc) return kc.error();
    return resolve_kubeconfig(*kc, ResolveOptions{.context = {}, .server = master});
  }
  if (!master.empty()) {
    RestConfig rc;
    rc.host = with_scheme(master, false);
    return rc;
  }
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return Error("no --kubeconfig or --master given and not running in a cluster (KUBERNETES_SERVICE_HOST and "
                 "KUBERNETES_SERVICE_PORT are not set)");
  }
  RestConfig rc;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  rc.host = fmt::format("https://{}:{}", h, port);
  rc.bearer_token_file = sa_dir + "/token";
  rc.ca_file = sa_dir + "/ca.crt";
  return rc;
}

}  // namespace knode::config
