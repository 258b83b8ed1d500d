#include "agent/kube/client/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

extern char** environ;

namespace knode::kube {

namespace json = boost::json;
using namespace std::chrono;

namespace {
std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string base64(std::string_view in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += tbl[(n >> 18) & 63]; out += tbl[(n >> 12) & 63]; out += tbl[(n >> 6) & 63]; out += tbl[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += tbl[(n >> 18) & 63]; out += tbl[(n >> 12) & 63];
    out += (i + 1 < in.size()) ? tbl[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}
}  // namespace

// ---- token file ----

TokenFile::TokenFile(std::string path, seconds max_age) : path_(std::move(path)), max_age_(max_age) {}

Result<std::string> TokenFile::token() {
  std::lock_guard lk(mu_);
  struct stat st {};
  auto now = steady_clock::now();
  if (::stat(path_.c_str(), &st) != 0) {
    if (have_) return token_;
    return Error("reading token file " + path_ + ": " + std::strerror(errno));
  }
  int64_t mtime_ns = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  bool changed = !have_ || uint64_t(st.st_ino) != ino_ || uint64_t(st.st_size) != size_ ||
                 mtime_ns != mtime_ns_ || now - read_at_ >= max_age_;
  if (!changed) return token_;
  std::ifstream f(path_, std::ios::binary);
  std::stringstream ss;
  if (f) ss << f.rdbuf();
  if (!f) {
    if (have_) return token_;
    return Error("reading token file " + path_ + ": " + std::strerror(errno));
  }
  std::string tok = trim(ss.str());
  if (tok.empty()) {
    if (have_) return token_;
    return Error("token file " + path_ + " is empty");
  }
  token_ = std::move(tok);
  have_ = true;
  ino_ = st.st_ino;
  size_ = st.st_size;
  mtime_ns_ = mtime_ns;
  read_at_ = now;
  return token_;
}

// ---- exec credentials ----

Result<system_clock::time_point> parse_rfc3339(std::string_view s) {
  int Y, M, D, h, m, sec;
  char tail[64] = {0};
  std::string str(s);
  if (str.size() < 20 || std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%63s", &Y, &M, &D, &h, &m, &sec, tail) < 6)
    return Error("invalid RFC 3339 time \"" + str + "\"");
  std::string t = tail;
  nanoseconds frac{0};
  if (!t.empty() && t[0] == '.') {
    size_t i = 1;
    int64_t scale = 100'000'000, ns = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      ns += (t[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    frac = nanoseconds(ns);
    t = t.substr(i);
  }
  int offset_s = 0;
  if (t == "Z" || t == "z") {
  } else if (t.size() == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':') {
    int oh = std::atoi(t.substr(1, 2).c_str()), om = std::atoi(t.substr(4, 2).c_str());
    offset_s = (oh * 3600 + om * 60) * (t[0] == '-' ? -1 : 1);
  } else {
    return Error("invalid RFC 3339 time \"" + str + "\"");
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  time_t tt = timegm(&tm) - offset_s;
  return system_clock::time_point(seconds(tt)) + duration_cast<system_clock::duration>(frac);
}

Result<ExecCredential> parse_exec_credential(std::string_view text, std::string_view expected_api_version) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error("exec plugin output is not a JSON object: " + (ec ? ec.message() : std::string("not an object")));
  const json::object& o = v.get_object();
  auto str = [](const json::object& obj, std::string_view k) -> std::string {
    auto* x = obj.if_contains(k);
    return (x && x->is_string()) ? std::string(x->get_string()) : std::string();
  };
  if (str(o, "kind") != "ExecCredential")
    return Error("exec plugin output has kind \"" + str(o, "kind") + "\", want ExecCredential");
  if (str(o, "apiVersion") != expected_api_version)
    return Error("exec plugin is configured to use API version " + std::string(expected_api_version) +
                 ", plugin returned version " + str(o, "apiVersion"));
  auto* status = o.if_contains("status");
  if (!status || !status->is_object()) return Error("exec plugin didn't return a status field");
  const json::object& s = status->get_object();
  ExecCredential c;
  c.token = str(s, "token");
  c.client_cert_pem = str(s, "clientCertificateData");
  c.client_key_pem = str(s, "clientKeyData");
  if (c.token.empty() && c.client_cert_pem.empty())
    return Error("exec plugin didn't return a token or cert/key pair");
  if (c.client_cert_pem.empty() != c.client_key_pem.empty())
    return Error("exec plugin returned only certificate or key, not both");
  if (auto e = str(s, "expirationTimestamp"); !e.empty()) {
    auto t = parse_rfc3339(e);
    if (!t) return t.error().wrap("exec plugin expirationTimestamp");
    c.expiration = *t;
  }
  return c;
}

std::string exec_info_json(const ExecConfig& exec, std::string_view server, std::string_view ca_pem,
                           std::string_view tls_server_name, bool insecure) {
  json::object spec{{"interactive", false}};
  if (exec.provide_cluster_info) {
    json::object cluster{{"server", server}};
    if (!tls_server_name.empty()) cluster["tls-server-name"] = tls_server_name;
    if (insecure) cluster["insecure-skip-tls-verify"] = true;
    if (!ca_pem.empty()) cluster["certificate-authority-data"] = base64(ca_pem);
    spec["cluster"] = std::move(cluster);
  }
  json::object info{{"apiVersion", exec.api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
  return json::serialize(info);
}

Result<std::string> run_exec_plugin(const ExecConfig& exec, const std::string& exec_info) {
  if (exec.command.empty()) return Error("exec plugin: no command");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Error(std::string("exec plugin: pipe: ") + std::strerror(errno));
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("KUBERNETES_EXEC_INFO=")) continue;
    bool overridden = false;
    for (auto& [k, _] : exec.env)
      if (kv.size() > k.size() && kv.substr(0, k.size()) == k && kv[k.size()] == '=') overridden = true;
    if (!overridden) env_store.emplace_back(kv);
  }
  for (auto& [k, v] : exec.env) env_store.push_back(k + "=" + v);
  env_store.push_back("KUBERNETES_EXEC_INFO=" + exec_info);
  std::vector<char*> envp, argv;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string cmd = exec.command;
  argv.push_back(cmd.data());
  std::vector<std::string> args = exec.args;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  pid_t pid = -1;
  int rc = (cmd.find('/') == std::string::npos)
               ? posix_spawnp(&pid, cmd.c_str(), &fa, nullptr, argv.data(), envp.data())
               : posix_spawn(&pid, cmd.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return Error("exec plugin: running \"" + cmd + "\": " + std::strerror(rc));
  }
  std::string output;
  auto deadline = steady_clock::now() + exec.timeout;
  bool timed_out = false;
  char buf[8192];
  for (;;) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0) { timed_out = true; break; }
    pollfd p{out[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { timed_out = n == 0; break; }
    ssize_t r = ::read(out[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (output.size() < (4u << 20)) output.append(buf, static_cast<size_t>(r));
  }
  ::close(out[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (timed_out)
    return Error("exec plugin \"" + cmd + "\" timed out after " + std::to_string(exec.timeout.count()) + "ms");
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return Error("exec plugin \"" + cmd + "\" failed: exit status " + std::to_string(WEXITSTATUS(status)));
  if (WIFSIGNALED(status))
    return Error("exec plugin \"" + cmd + "\" failed: killed by signal " + std::to_string(WTERMSIG(status)));
  return output;
}

Result<ExecCredential> ExecCredentialProvider::get(system_clock::time_point now) {
  std::lock_guard lk(mu_);
  if (cached_ && (!cached_->expiration || now < *cached_->expiration)) return *cached_;
  ++runs_;
  auto out = run_exec_plugin(exec_, exec_info_);
  if (!out) return out.error();
  auto cred = parse_exec_credential(*out, exec_.api_version);
  if (!cred) return cred.error().wrap("exec plugin \"" + exec_.command + "\"");
  cached_ = *cred;
  return *cred;
}

void ExecCredentialProvider::invalidate() {
  std::lock_guard lk(mu_);
  cached_.reset();
}

}  // namespace knode::kube
