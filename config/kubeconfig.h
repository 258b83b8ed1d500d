// kubeconfig files (clientcmd v1 Config): the model, the loader, and the resolution of one context
// into what an API client needs (RestConfig), following client-go's clientcmd:
//   - relative file paths resolve against the kubeconfig's directory (an exec command only when it
//     contains a '/'; otherwise it is looked up in PATH);
//   - *-data fields are base64 and decoded on load;
//   - the context is the override or current-context; the cluster's server may be overridden
//     (--master); a server without a scheme gets https:// when TLS is configured, http:// otherwise.
// Errors name the file and the field, e.g.
//   kubeconfig.conf: users[0].user.client-certificate-data: illegal base64 data at input byte 4
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"

namespace knode::config {

struct KubeconfigCluster {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority;       // path (resolved to absolute)
  std::string certificate_authority_data;  // decoded bytes (PEM)
  std::string proxy_url;
  bool disable_compression = false;
};

struct ExecEnvVar {
  std::string name;
  std::string value;
};

// An exec credential plugin (client.authentication.k8s.io/v1 or v1beta1).
struct ExecConfig {
  std::string command;
  std::vector<std::string> args;
  std::vector<ExecEnvVar> env;
  std::string api_version;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never, IfAvailable, Always (v1beta1 defaults to IfAvailable)
};

struct AuthProviderConfig {
  std::string name;
  std::map<std::string, std::string> config;
};

struct KubeconfigUser {
  std::string client_certificate;       // path
  std::string client_certificate_data;  // decoded PEM
  std::string client_key;               // path
  std::string client_key_data;          // decoded PEM
  std::string token;
  std::string token_file;
  std::string impersonate;
  std::string impersonate_uid;
  std::vector<std::string> impersonate_groups;
  std::string username;
  std::string password;
  std::optional<AuthProviderConfig> auth_provider;
  std::optional<ExecConfig> exec;
};

struct KubeconfigContext {
  std::string cluster;
  std::string user;
  std::string namespace_;
};

template <class T>
struct Named {
  std::string name;
  T value;
};

struct Kubeconfig {
  std::string path;  // the file it was loaded from ("" if from text without a file)
  std::vector<Named<KubeconfigCluster>> clusters;
  std::vector<Named<KubeconfigUser>> users;
  std::vector<Named<KubeconfigContext>> contexts;
  std::string current_context;

  const KubeconfigCluster* cluster(std::string_view name) const;
  const KubeconfigUser* user(std::string_view name) const;
  const KubeconfigContext* context(std::string_view name) const;
};

// Parses a kubeconfig. `file` names it in errors; `base_dir` is where relative paths resolve
// (defaults to the directory of `file`). Unknown fields are ignored, as client-go does.
Result<Kubeconfig> parse_kubeconfig(std::string_view text, std::string_view file, std::string base_dir = {});
Result<Kubeconfig> load_kubeconfig(const std::string& path);

// What an API client needs to talk to one API server.
struct RestConfig {
  std::string host;  // URL with scheme, e.g. https://10.0.0.1:6443
  std::string tls_server_name;
  bool insecure = false;
  std::string ca_file;
  std::string ca_data;  // PEM bytes
  std::string cert_file;
  std::string cert_data;
  std::string key_file;
  std::string key_data;
  std::string bearer_token;
  std::string bearer_token_file;  // read (and re-read) by the client
  std::string username;
  std::string password;
  std::string proxy_url;
  std::string impersonate;
  std::optional<ExecConfig> exec;
  std::string namespace_;  // the context's namespace ("" if unset)
  std::string context;     // the context used
};

struct ResolveOptions {
  std::string context;  // "" → current-context
  std::string server;   // "" → the cluster's (e.g. --master)
};

// Selects and validates the context's cluster and user. Errors name the file and what is wrong:
//   kubeconfig.conf: context "foo" does not exist
Result<RestConfig> resolve_kubeconfig(const Kubeconfig& kc, const ResolveOptions& opts = {});

// kube-proxy's / kubelet's choice: a kubeconfig file if given (with --master overriding its server),
// otherwise --master alone, otherwise the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT,
// /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}; `sa_dir` overrides that directory).
Result<RestConfig> build_rest_config(const std::string& master, const std::string& kubeconfig_path,
                                     const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// Standard base64 (with padding, newlines ignored) as Go's encoding/json decodes []byte. The error
// is Go's: "illegal base64 data at input byte N".
Result<std::string> decode_base64(std::string_view s);

}  // namespace knode::config
