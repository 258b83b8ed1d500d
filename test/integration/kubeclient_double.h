// Test support: the API server double (test/apiserver/apiserver.py) as a subprocess on a free
// loopback port with a temporary state directory, and a tiny plain-HTTP server for responses the
// double cannot produce (garbage in a watch stream).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/kube/client/rest_client.h"

namespace knode::kube::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline std::string make_temp_dir() {
  char tmpl[] = "/tmp/kubeclient-it-XXXXXX";
  return mkdtemp(tmpl);
}

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string apiserver_script() { return std::string(KNODE_SOURCE_DIR) + "/test/apiserver/apiserver.py"; }
inline bool double_available() { return ::access(apiserver_script().c_str(), R_OK) == 0; }

class Double {
 public:
  Double() : dir_(make_temp_dir()), state_(dir_ + "/state"), port_(free_port()) {}
  ~Double() {
    stop();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }

  // Starts the double and waits for /readyz; returns false (with why) on failure.
  bool start(std::string* why = nullptr) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string listen = "127.0.0.1:" + std::to_string(port_);
      std::string log = dir_ + "/apiserver.log";
      int fd = ::open((dir_ + "/apiserver.stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execlp("python3", "python3", apiserver_script().c_str(), "--listen", listen.c_str(), "--state-dir",
               state_.c_str(), "--node-name", "node1", "--log-file", log.c_str(), (char*)nullptr);
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        if (why) *why = "the double exited: " + read_text(dir_ + "/apiserver.stderr");
        return false;
      }
      if (::access((state_ + "/admin.kubeconfig").c_str(), R_OK) == 0) {
        auto c = make_rest_client(admin_config());
        if (c) {
          auto r = (*c)->get("/readyz");
          if (r.ok()) return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (why) *why = "the double did not become ready";
    return false;
  }

  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int st = 0;
    for (int i = 0; i < 150; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

  std::string server() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& state_dir() const { return state_; }
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }

  RestConfig admin_config() const {
    return RestConfig{.server = server(),
                      .ca_file = state_ + "/ca.crt",
                      .client_cert_file = state_ + "/admin.crt",
                      .client_key_file = state_ + "/admin.key",
                      .qps = -1,
                      .user_agent = "knode-integration-test/0.1.0"};
  }
  // The service-account token in kube-proxy.kubeconfig.
  std::string proxy_token() const {
    std::istringstream in(read_text(state_ + "/kube-proxy.kubeconfig"));
    std::string line;
    while (std::getline(in, line)) {
      auto p = line.find("token:");
      if (p == std::string::npos) continue;
      std::string t = line.substr(p + 6);
      t.erase(0, t.find_first_not_of(" \"'"));
      t.erase(t.find_last_not_of(" \"'\r") + 1);
      return t;
    }
    return {};
  }

 private:
  std::string dir_, state_;
  int port_;
  pid_t pid_ = -1;
};

// A plain HTTP/1.1 server on loopback. The handler gets the request line's target and writes the
// whole response through the Responder; returning keeps the connection for the next request.
class LocalHttpServer {
 public:
  struct Responder {
    int fd;
    std::atomic<bool>* stopping;
    bool send(const std::string& s) {
      size_t off = 0;
      while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
      }
      return true;
    }
    bool json(int code, const std::string& body) {
      return send("HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    }
    bool start_chunked() {
      return send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    }
    bool chunk(const std::string& data) {
      char hdr[32];
      std::snprintf(hdr, sizeof hdr, "%zx\r\n", data.size());
      return send(hdr + data + "\r\n");
    }
    bool end_chunked() { return send("0\r\n\r\n"); }
    // Blocks until the client closes the connection or the server stops.
    void hold() {
      char b[256];
      while (!stopping->load()) {
        timeval tv{0, 100000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = ::recv(fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return;
      }
    }
  };
  using Handler = std::function<void(const std::string& method, const std::string& target, Responder& r)>;

  explicit LocalHttpServer(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~LocalHttpServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    accept_thread_.join();
    std::lock_guard lk(mu_);
    for (auto& t : conns_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> targets() {
    std::lock_guard lk(mu_);
    return targets_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::lock_guard lk(mu_);
      conns_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    std::string buf;
    char tmp[4096];
    Responder r{c, &stopping_};
    while (!stopping_) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) {
          ::close(c);
          return;
        }
        buf.append(tmp, static_cast<size_t>(n));
      }
      std::string head = buf.substr(0, end);
      size_t body_len = 0;
      auto cl = head.find("Content-Length: ");
      if (cl == std::string::npos) cl = head.find("content-length: ");
      if (cl != std::string::npos) body_len = std::strtoul(head.c_str() + cl + 16, nullptr, 10);
      while (buf.size() < end + 4 + body_len) {
        ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) {
          ::close(c);
          return;
        }
        buf.append(tmp, static_cast<size_t>(n));
      }
      buf.erase(0, end + 4 + body_len);
      std::istringstream line(head);
      std::string method, target;
      line >> method >> target;
      {
        std::lock_guard lk(mu_);
        targets_.push_back(target);
      }
      handler_(method, target, r);
    }
    ::close(c);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::vector<std::string> targets_;
};

}  // namespace knode::kube::testing
