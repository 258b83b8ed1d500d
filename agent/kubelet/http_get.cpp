#include "agent/kubelet/http_get.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

namespace knode::kubelet {

namespace {

using Clock = std::chrono::steady_clock;

std::string host_port(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// strerror() as Go prints errno values: lower case ("connection refused").
std::string errno_text(int e) {
  std::string s = std::strerror(e);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

constexpr const char* kHeaderTimeout = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
constexpr const char* kBodyTimeout = "context deadline exceeded (Client.Timeout or context cancellation while reading body)";

// A plain or TLS connection with blocking I/O bounded by the request's deadline.
class Conn {
 public:
  Conn(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
  ~Conn() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // TLS without certificate verification (upstream's probes: InsecureSkipVerify). SNI for names.
  Status start_tls(const std::string& host) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return Error("tls: cannot create a context");
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    in6_addr a6;
    in_addr a4;
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1 && inet_pton(AF_INET6, host.c_str(), &a6) != 1)
      SSL_set_tlsext_host_name(ssl_, host.c_str());
    if (!arm()) return Error(kHeaderTimeout);
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      if (expired()) return Error("net/http: TLS handshake timeout");
      unsigned long e = ERR_get_error();
      if (e == 0) return Error("EOF");  // closed during the handshake
      if (ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER)
        return Error("http: server gave HTTP response to HTTPS client");
      const char* reason = ERR_reason_error_string(e);
      return Error(std::string("tls: ") + (reason ? reason : "handshake failed"));
    }
    return Status::Ok();
  }

  // Bytes written / read, 0 on EOF, -1 on error or deadline.
  ssize_t write(const char* p, size_t n) {
    if (!arm()) return -1;
    if (ssl_) return SSL_write(ssl_, p, static_cast<int>(n)) > 0 ? static_cast<ssize_t>(n) : -1;
    return send(fd_, p, n, MSG_NOSIGNAL);
  }
  ssize_t read(char* p, size_t n) {
    if (!arm()) return -1;
    if (ssl_) {
      int r = SSL_read(ssl_, p, static_cast<int>(n));
      if (r > 0) return r;
      int e = SSL_get_error(ssl_, r);
      return e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0) ? 0 : -1;
    }
    return recv(fd_, p, n, 0);
  }
  bool expired() const { return Clock::now() >= deadline_; }

 private:
  // Bounds the next blocking call by what is left of the deadline.
  bool arm() {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - Clock::now()).count();
    if (left <= 0) return false;
    timeval tv{static_cast<time_t>(left / 1'000'000), static_cast<suseconds_t>(left % 1'000'000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
  }

  int fd_;
  Clock::time_point deadline_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// Decodes a chunked body; false when it is malformed.
bool dechunk(std::string_view in, std::string* out) {
  out->clear();
  size_t pos = 0;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return false;
    size_t size = 0;
    std::string line(in.substr(pos, eol - pos));
    char* end = nullptr;
    size = std::strtoul(line.c_str(), &end, 16);
    if (end == line.c_str()) return false;
    pos = eol + 2;
    if (size == 0) return true;
    if (pos + size > in.size()) return false;
    out->append(in.substr(pos, size));
    pos += size + 2;
  }
}

}  // namespace

Result<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_http_url(location);
  if (location.substr(0, 2) == "//") return parse_http_url(base.scheme + ":" + std::string(location));
  HttpUrl u = base;
  if (!location.empty() && location[0] == '/') {
    u.path = std::string(location);
  } else {
    std::string dir = base.path.substr(0, base.path.find('?'));
    u.path = dir.substr(0, dir.rfind('/') + 1) + std::string(location);
  }
  return u;
}

std::string HttpUrl::str() const { return scheme + "://" + host_port(host, port) + path; }

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl u;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return Error("missing scheme (want http:// or https://)");
  u.scheme = lower(std::string(url.substr(0, sep)));
  if (u.scheme != "http" && u.scheme != "https") return Error("unsupported protocol scheme \"" + u.scheme + "\"");
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
  if (!u.path.empty() && u.path[0] == '?') u.path = "/" + u.path;
  if (authority.find('@') != std::string_view::npos) authority = authority.substr(authority.rfind('@') + 1);
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error("missing ']' in host");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Error("invalid character after the IPv6 host");
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Error("no host in request URL");
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      return Error("invalid port \":" + std::string(port) + "\" after host");
    u.port = std::stoi(std::string(port));
    if (u.port < 1 || u.port > 65535) return Error("invalid port \":" + std::string(port) + "\" after host");
  }
  return u;
}

Result<int> dial_tcp(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const std::string target = host_port(host, port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0)
    return Error("dial tcp: lookup " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error("dial tcp " + target + ": socket: " + errno_text(errno));
  if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return Error("dial tcp " + target + ": connect: " + errno_text(e));
  }
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout.count(), 1))) != 1) {
    close(fd);
    return Error("dial tcp " + target + ": i/o timeout");
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) {
    close(fd);
    return Error("dial tcp " + target + ": connect: " + errno_text(soerr));
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

Result<HttpGetResponse> http_get(const HttpGetRequest& req) {
  const auto deadline = Clock::now() + req.timeout;
  auto fd = dial_tcp(req.url.host, req.url.port, req.timeout);
  if (!fd) return fd.error();
  Conn conn(*fd, deadline);
  if (req.url.scheme == "https")
    if (Status st = conn.start_tls(req.url.host); !st.ok()) return st.error();

  std::string head = "GET " + req.url.path + " HTTP/1.1\r\n";
  bool host_set = false, ua_set = false, accept_set = false;
  std::string extra;
  for (const auto& [k, v] : req.headers) {
    std::string lk = lower(k);
    host_set |= lk == "host";
    ua_set |= lk == "user-agent";
    accept_set |= lk == "accept";
    extra += k + ": " + v + "\r\n";
  }
  if (!host_set) head += "Host: " + host_port(req.url.host, req.url.port) + "\r\n";
  if (!ua_set) head += "User-Agent: " + req.user_agent + "\r\n";
  if (!accept_set) head += "Accept: */*\r\n";
  head += extra + "Connection: close\r\n\r\n";
  for (size_t sent = 0; sent < head.size();) {
    ssize_t n = conn.write(head.data() + sent, head.size() - sent);
    if (n <= 0) return Error(conn.expired() ? kHeaderTimeout : std::string("write: ") + errno_text(errno));
    sent += static_cast<size_t>(n);
  }

  std::string resp;
  size_t header_end = std::string::npos;
  std::optional<size_t> content_length;
  bool chunked = false;
  std::string location;
  char buf[16384];
  for (;;) {
    if (header_end != std::string::npos && content_length && resp.size() - header_end >= *content_length) break;
    if (req.status_only && header_end != std::string::npos) break;
    ssize_t n = conn.read(buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (!conn.expired() && errno != EAGAIN && errno != EWOULDBLOCK)
        return Error(std::string("read: ") + errno_text(errno));
      return Error(header_end == std::string::npos ? kHeaderTimeout : kBodyTimeout);
    }
    resp.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      size_t e = resp.find("\r\n\r\n");
      if (e != std::string::npos) {
        header_end = e + 4;
        std::string headers = lower(resp.substr(0, e));
        if (size_t cl = headers.find("\r\ncontent-length:"); cl != std::string::npos)
          content_length = std::strtoull(headers.c_str() + cl + 17, nullptr, 10);
        chunked = headers.find("\r\ntransfer-encoding: chunked") != std::string::npos;
        if (size_t loc = headers.find("\r\nlocation:"); loc != std::string::npos) {
          size_t start = loc + 11, end = resp.find("\r\n", start);
          location = resp.substr(start, end - start);
          location.erase(0, location.find_first_not_of(" \t"));
          location.erase(location.find_last_not_of(" \t") + 1);
        }
      }
    }
    if (header_end != std::string::npos && resp.size() - header_end > req.max_body + 4096)
      return Error("response body larger than " + std::to_string(req.max_body) + " bytes");
  }
  if (resp.rfind("HTTP/", 0) != 0 || resp.find(' ') == std::string::npos)
    return Error(resp.empty() ? "EOF" : "malformed HTTP response \"" + resp.substr(0, std::min<size_t>(resp.find('\r'), 40)) + "\"");
  HttpGetResponse out;
  out.status = std::atoi(resp.c_str() + resp.find(' ') + 1);
  out.location = std::move(location);
  if (req.status_only) return out;
  if (header_end == std::string::npos) return Error("unexpected EOF in the response headers");
  std::string_view body(resp);
  body.remove_prefix(header_end);
  if (content_length && body.size() < *content_length) return Error("unexpected EOF in the response body");
  if (content_length) body = body.substr(0, *content_length);
  if (chunked) {
    if (!dechunk(body, &out.body)) return Error("malformed chunked encoding");
  } else {
    out.body = std::string(body);
  }
  if (out.body.size() > req.max_body)
    return Error("response body larger than " + std::to_string(req.max_body) + " bytes");
  return out;
}

}  // namespace knode::kubelet
