// A small HTTP server on 127.0.0.1 for unit tests of the kubelet's HTTP clients (hooks, probes,
// URL sources): every connection gets one answer from `respond(request head)`; the request heads
// are kept in arrival order (a TLS client gets the HTTP answer to its first bytes, as from a plain
// HTTP server). The port is chosen by the kernel.
//
//   LoopbackHttpServer server([](const std::string&) { return LoopbackHttpServer::reply(500); });
//   ... GET http://127.0.0.1:<server.port()>/ ...
//   CHECK(server.requests().at(0).rfind("GET / HTTP/1.1\r\n", 0) == 0);
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace knode::testing {

class LoopbackHttpServer {
 public:
  using Responder = std::function<std::string(const std::string& request)>;

  static std::string reply(int status, const std::string& body = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " Test\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  }

  explicit LoopbackHttpServer(Responder respond) : respond_(std::move(respond)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
        ::listen(listener_, 16) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size) != 0)
      throw std::runtime_error("loopback HTTP server: cannot listen");
    port_ = ntohs(addr.sin_port);
    serving_ = std::thread([this] { serve(); });
  }
  ~LoopbackHttpServer() {
    ::shutdown(listener_, SHUT_RDWR);  // accept() returns; the loop ends
    serving_.join();
    ::close(listener_);
  }
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      std::string head;
      char chunk[2048];
      // Up to the end of the head; something that is not HTTP (a TLS ClientHello) is answered at once.
      for (ssize_t got; head.find("\r\n\r\n") == std::string::npos && (head.empty() || std::isupper(head[0])) &&
                        (got = ::recv(conn, chunk, sizeof chunk, 0)) > 0;)
        head.append(chunk, static_cast<size_t>(got));
      {
        std::lock_guard lock(mu_);
        requests_.push_back(head);
      }
      std::string answer = respond_(head);
      ::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(conn);
    }
  }

  Responder respond_;
  int listener_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread serving_;
};

}  // namespace knode::testing
