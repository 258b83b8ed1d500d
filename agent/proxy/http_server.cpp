#include "agent/proxy/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace knode::proxy {

Result<std::pair<std::string, int>> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return Error("address " + address + ": missing port");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string port_s = address.substr(colon + 1);
  char* end = nullptr;
  long port = std::strtol(port_s.c_str(), &end, 10);
  if (port_s.empty() || *end || port < 0 || port > 65535) return Error("address " + address + ": bad port");
  return std::make_pair(host, static_cast<int>(port));
}

std::string join_host_port(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

HttpServer::HttpServer() {
  if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
}

HttpServer::~HttpServer() {
  stop();
  for (auto& [_, l] : listeners_) ::close(l.fd);
  for (int fd : wake_pipe_)
    if (fd >= 0) ::close(fd);
}

Result<int> HttpServer::listen(const std::string& address, HttpHandler handler) {
  auto hp = split_host_port(address);
  if (!hp) return hp.error();
  auto [host, port] = *hp;
  bool v6 = host.find(':') != std::string::npos;
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) return Error("address " + address + ": bad IP");
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (host.empty()) a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) return Error("address " + address + ": bad IP");
    len = sizeof(sockaddr_in);
  }
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error(fmt::format("listen {}: socket: {}", address, std::strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 128) != 0) {
    std::string e = std::strerror(errno);
    ::close(fd);
    return Error(fmt::format("listen {}: {}", address, e));
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  int bound = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  int id;
  {
    std::lock_guard lk(mu_);
    id = next_id_++;
    listeners_[id] = Listener{fd, std::move(handler), bound};
  }
  wake();
  return id;
}

void HttpServer::close(int id) {
  std::lock_guard lk(mu_);
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  ::close(it->second.fd);
  listeners_.erase(it);
  // The loop re-reads the set after every poll; a stale fd in a running poll is harmless
  // because the loop holds no reference to it between polls.
  if (wake_pipe_[1] >= 0) (void)!::write(wake_pipe_[1], "x", 1);
}

int HttpServer::port(int id) const {
  std::lock_guard lk(mu_);
  auto it = listeners_.find(id);
  return it == listeners_.end() ? 0 : it->second.port;
}

void HttpServer::wake() {
  if (wake_pipe_[1] >= 0) (void)!::write(wake_pipe_[1], "x", 1);
}

void HttpServer::start() {
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void HttpServer::stop() {
  stopping_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::loop() {
  while (!stopping_) {
    std::vector<pollfd> fds;
    std::vector<int> ids;
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    ids.push_back(0);
    {
      std::lock_guard lk(mu_);
      for (auto& [id, l] : listeners_) {
        fds.push_back({l.fd, POLLIN, 0});
        ids.push_back(id);
      }
    }
    int n = ::poll(fds.data(), fds.size(), 1000);
    if (n <= 0) continue;
    if (fds[0].revents) {
      char buf[64];
      while (::read(wake_pipe_[0], buf, sizeof buf) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      HttpHandler handler;
      int lfd;
      {
        std::lock_guard lk(mu_);
        auto it = listeners_.find(ids[i]);
        if (it == listeners_.end()) continue;
        handler = it->second.handler;
        lfd = it->second.fd;
        int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        lfd = c;
      }
      serve(lfd, handler);
      ::close(lfd);
    }
  }
}

namespace {
const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}
}  // namespace

void HttpServer::serve(int fd, const HttpHandler& handler) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
    if (req.size() > 64 * 1024) return;
  }
  HttpRequest r;
  auto line_end = req.find_first_of("\r\n");
  std::string line = req.substr(0, line_end);
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  HttpResponse resp;
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    resp = HttpResponse{400, "text/plain; charset=utf-8", "bad request\n", {}};
  } else {
    r.method = line.substr(0, sp1);
    std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    if (r.method != "GET" && r.method != "HEAD") resp = HttpResponse{405, "text/plain; charset=utf-8", "method not allowed\n", {}};
    else resp = handler(r);
  }
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                                resp.status, reason(resp.status), resp.content_type, resp.body.size());
  for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  if (r.method != "HEAD") out += resp.body;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
}

}  // namespace knode::proxy
