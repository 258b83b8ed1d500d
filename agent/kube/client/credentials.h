// Credential sources for the API client: a bearer token file that is re-read when it changes (as
// client-go's cached file token source) and exec credential plugins (client.authentication.k8s.io/v1:
// the command runs with KUBERNETES_EXEC_INFO, its ExecCredential is cached until expirationTimestamp
// and discarded on a 401). Blocking (file reads, process runs); the client calls them off its
// network thread. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "agent/base/result.h"
#include "agent/kube/client/rest_config.h"

namespace knode::kube {

class TokenFile {
 public:
  explicit TokenFile(std::string path, std::chrono::seconds max_age = std::chrono::seconds(60));
  // The current token (trimmed). Re-reads the file when its inode, size or mtime changed, or when the
  // last read is older than max_age. A read error keeps serving the last good token, if any.
  Result<std::string> token();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::seconds max_age_;
  std::mutex mu_;
  std::string token_;
  bool have_ = false;
  uint64_t ino_ = 0, size_ = 0;
  int64_t mtime_ns_ = 0;
  std::chrono::steady_clock::time_point read_at_{};
};

struct ExecCredential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// Parses the plugin's stdout. Errors name the problem ("apiVersion ... does not match", "status missing").
Result<ExecCredential> parse_exec_credential(std::string_view text, std::string_view expected_api_version);
// The KUBERNETES_EXEC_INFO value for a plugin (spec.interactive=false, spec.cluster if asked for).
std::string exec_info_json(const ExecConfig& exec, std::string_view server, std::string_view ca_pem,
                           std::string_view tls_server_name, bool insecure);
// Runs the plugin and returns its stdout; fails on a non-zero exit or after exec.timeout.
Result<std::string> run_exec_plugin(const ExecConfig& exec, const std::string& exec_info);
// RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets allowed).
Result<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s);

class ExecCredentialProvider {
 public:
  ExecCredentialProvider(ExecConfig exec, std::string exec_info)
      : exec_(std::move(exec)), exec_info_(std::move(exec_info)) {}
  // A cached, unexpired credential, or a fresh one from running the plugin.
  Result<ExecCredential> get(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
  // Drops the cached credential (the server answered 401 with it).
  void invalidate();
  int runs() const { return runs_; }

 private:
  ExecConfig exec_;
  std::string exec_info_;
  std::mutex mu_;
  std::optional<ExecCredential> cached_;
  int runs_ = 0;
};

}  // namespace knode::kube
