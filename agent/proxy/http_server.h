// A small HTTP/1.1 server for the proxy's health, metrics and health-check-node-port endpoints:
// one thread polls any number of listening sockets; each request is read (bounded size, 2 s
// timeout), answered by the listener's handler and the connection closed. GET/HEAD only. Enough
// for probes and scrapes; keeps Beast out of the proxy.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/base/result.h"
#include "agent/proxy/health.h"

namespace knode::proxy {

struct HttpRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "0.0.0.0:10256", "127.0.0.1:10249", "[::]:10256", ":10256". Returns a listener id.
  Result<int> listen(const std::string& address, HttpHandler handler);
  void close(int id);
  // The bound port of a listener (for ":0" in tests).
  int port(int id) const;

  void start();
  void stop();

 private:
  struct Listener { int fd; HttpHandler handler; int port; };
  void loop();
  void serve(int fd, const HttpHandler& handler);
  void wake();

  mutable std::mutex mu_;
  std::map<int, Listener> listeners_;
  int next_id_ = 1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// "host:port" → (host, port); host "" means any address. Error names the address.
Result<std::pair<std::string, int>> split_host_port(const std::string& address);
// The reverse: ("10.0.0.1", 80) → "10.0.0.1:80", ("::1", 80) → "[::1]:80", ("", 80) → ":80".
std::string join_host_port(const std::string& host, int port);

}  // namespace knode::proxy
