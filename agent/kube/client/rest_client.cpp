// The Beast/Asio implementation of kube::Client. This is the only translation unit of the client that
// includes Asio and Beast (they cost ~27 s per TU to compile); everything else talks to it through
// client.h.
#include "agent/kube/client/rest_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/stream_parser.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "agent/base/log.h"
#include "agent/kube/client/credentials.h"
#include "agent/kube/client/token_bucket.h"

namespace knode::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(use_awaitable);

namespace {

constexpr size_t kScratch = 64 * 1024;
constexpr size_t kMaxErrorBody = 64 * 1024;

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

Result<std::string> read_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Error("reading " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

std::string openssl_errors() {
  std::string s;
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!s.empty()) s += "; ";
    s += buf;
  }
  return s;
}

Result<std::shared_ptr<ssl::context>> make_ssl_context(const RestConfig& cfg, const std::string& cert_pem,
                                                       const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (cfg.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    ctx->set_verify_mode(ssl::verify_peer);
    std::string ca = cfg.ca_pem;
    if (ca.empty() && !cfg.ca_file.empty()) {
      auto f = read_file(cfg.ca_file);
      if (!f) return f.error().wrap("certificate authority");
      ca = std::move(*f);
    }
    if (!ca.empty()) {
      ctx->add_certificate_authority(asio::buffer(ca), ec);
      if (ec) return Error("invalid certificate authority PEM: " + ec.message());
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Error("loading the system CA certificates: " + ec.message());
    }
  }
  if (!cert_pem.empty() || !key_pem.empty()) {
    if (cert_pem.empty() || key_pem.empty()) return Error("client certificate and key must be given together");
    ctx->use_certificate_chain(asio::buffer(cert_pem), ec);
    if (ec) return Error("invalid client certificate PEM: " + ec.message());
    ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec) return Error("invalid client key PEM: " + ec.message());
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
      return Error("client key does not match the client certificate: " + openssl_errors());
  }
  return ctx;
}

struct Conn {
  explicit Conn(asio::io_context& ioc, std::shared_ptr<ssl::context> c) : ctx(std::move(c)) {
    if (ctx) tls.emplace(ioc, *ctx);
    else tcp.emplace(ioc);
    scratch.resize(kScratch);
  }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
  template <class F>
  auto visit(F&& f) {
    if (tls) return f(*tls);
    return f(*tcp);
  }
  void close() {
    boost::system::error_code ec;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  std::shared_ptr<ssl::context> ctx;
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buf;
  std::vector<char> scratch;
  bool reused = false;
};

struct AuthInfo {
  std::string authorization;  // "Bearer ..." or ""
  std::string error;          // non-empty: could not get credentials
  std::string cert_pem, key_pem;  // from an exec plugin
  bool from_exec = false;
};

// How one HTTP exchange went.
struct Exchange {
  int status = 0;
  std::optional<ApiError> transport_error;
  json::value body;  // 2xx JSON body (or a string for other content types)
  std::string raw;   // non-2xx body (first kMaxErrorBody bytes)
};

// Where the body of a streaming response goes (watches).
using BodySink = std::function<bool(std::string_view)>;  // false: stop reading

struct WatchState {
  std::atomic<bool> cancelled{false};
  Conn* conn = nullptr;  // loop thread only
};

struct TimerState {
  explicit TimerState(asio::io_context& ioc) : timer(ioc) {}
  asio::steady_timer timer;
  std::function<void()> fn;
  std::atomic<bool> cancelled{false};
};

}  // namespace

class RestClientImpl : public std::enable_shared_from_this<RestClientImpl> {
 public:
  RestClientImpl(RestConfig cfg, ServerUrl url, RestClientOptions opts)
      : cfg_(std::move(cfg)), url_(std::move(url)), limiter_(cfg_.qps, cfg_.burst, steady_clock::now()) {
    if (opts.io_context) {
      ioc_ = opts.io_context;
    } else {
      owned_ioc_ = std::make_unique<asio::io_context>(1);
      ioc_ = owned_ioc_.get();
    }
    user_agent_ = cfg_.user_agent.empty() ? default_user_agent("knode") : cfg_.user_agent;
    default_timeout_ = cfg_.timeout.count() > 0 ? cfg_.timeout : std::chrono::milliseconds(60'000);
    host_ = url_.host_port();
    if (opts.registry) {
      requests_ = &prometheus::BuildCounter()
                       .Name("rest_client_requests_total")
                       .Help("Number of HTTP requests, partitioned by status code, method, and host.")
                       .Register(*opts.registry);
      durations_ = &prometheus::BuildHistogram()
                        .Name("rest_client_request_duration_seconds")
                        .Help("Request latency in seconds. Broken down by verb, and host.")
                        .Register(*opts.registry);
    }
  }

  Status init() {
    if (url_.tls) {
      std::string cert = cfg_.client_cert_pem, key = cfg_.client_key_pem;
      if (cert.empty() && !cfg_.client_cert_file.empty()) {
        auto f = read_file(cfg_.client_cert_file);
        if (!f) return f.error().wrap("client certificate");
        cert = std::move(*f);
      }
      if (key.empty() && !cfg_.client_key_file.empty()) {
        auto f = read_file(cfg_.client_key_file);
        if (!f) return f.error().wrap("client key");
        key = std::move(*f);
      }
      auto ctx = make_ssl_context(cfg_, cert, key);
      if (!ctx) return ctx.error();
      ssl_ctx_ = *ctx;
      base_cert_ = cert;
      base_key_ = key;
    }
    if (!cfg_.bearer_token_file.empty()) token_file_.emplace(cfg_.bearer_token_file);
    if (cfg_.has_exec) {
      std::string ca = cfg_.ca_pem;
      if (ca.empty() && !cfg_.ca_file.empty()) {
        if (auto f = read_file(cfg_.ca_file)) ca = *f;
      }
      exec_ = std::make_unique<ExecCredentialProvider>(
          cfg_.exec, exec_info_json(cfg_.exec, cfg_.server, ca, cfg_.tls_server_name, cfg_.insecure_skip_tls_verify));
    }
    return {};
  }

  void start() {
    if (owned_ioc_) {
      work_.emplace(owned_ioc_->get_executor());
      thread_ = std::thread([this] {
        for (;;) {
          try {
            owned_ioc_->run();
            break;
          } catch (const std::exception& e) {
            log::error_msg("API client event loop: uncaught exception", "error", std::string(e.what()));
          }
        }
        if (orphan_self_) {
          // The client was dropped from inside one of its own callbacks (see orphan()): clean up here.
          auto self = std::move(orphan_self_);
          idle_.clear();
          owned_ioc_.reset();
        }
      });
    }
    blocking_.emplace(1);
  }

  void shutdown() {
    {
      std::lock_guard lk(post_mu_);
      if (!alive_) return;
      alive_ = false;
    }
    if (owned_ioc_) {
      work_.reset();
      owned_ioc_->stop();
      if (thread_.joinable()) thread_.join();
      idle_.clear();
      // Destroys pending handlers and coroutine frames (they hold references to this object).
      owned_ioc_.reset();
    } else {
      std::promise<void> done;
      auto fut = done.get_future();
      asio::post(*ioc_, [this, &done] {
        for (auto& c : idle_) c->close();
        idle_.clear();
        for (auto* w : watches_) if (w->conn) w->conn->close();
        done.set_value();
      });
      if (!ioc_->get_executor().running_in_this_thread()) fut.wait();
    }
    if (blocking_) blocking_->join();
  }

  // Shutdown requested on the loop thread itself (the last reference to the client was dropped in
  // one of its callbacks): the thread cannot be joined from here, so it is told to stop and left to
  // tear down the event loop after the current handler returns.
  void orphan() {
    {
      std::lock_guard lk(post_mu_);
      if (!alive_) return;
      alive_ = false;
    }
    for (auto& c : idle_) c->close();
    idle_.clear();
    for (auto* w : watches_)
      if (w->conn) w->conn->close();
    if (owned_ioc_) {
      orphan_self_ = shared_from_this();
      work_.reset();
      owned_ioc_->stop();
      thread_.detach();
    }
  }

  bool post_safe(std::function<void()> fn) {
    std::lock_guard lk(post_mu_);
    if (!alive_) return false;
    asio::post(*ioc_, std::move(fn));
    return true;
  }

  bool on_loop_thread() const { return ioc_->get_executor().running_in_this_thread(); }
  const std::string& host() const { return host_; }

  void call_async(Request req, Client::Done done) {
    auto self = shared_from_this();
    {
      std::lock_guard lk(post_mu_);
      if (alive_) {
        asio::co_spawn(*ioc_, self->run_call(self, std::move(req), std::move(done)), asio::detached);
        return;
      }
    }
    if (done) done(ApiError::transport("API client is shut down"));
  }

  std::shared_ptr<Cancelable> watch_async(Request req, WatchCallbacks cb);
  std::shared_ptr<Cancelable> post_after(std::chrono::milliseconds delay, std::function<void()> fn);

 private:
  awaitable<void> run_call(std::shared_ptr<RestClientImpl> self, Request req, Client::Done done) {
    ApiResult<json::value> r = ApiError::transport("not run");
    try {
      r = co_await do_call(req);
    } catch (const std::exception& e) {
      r = ApiError::transport(std::string("internal error: ") + e.what());
    }
    if (done) done(std::move(r));
  }

  awaitable<void> throttle() {
    auto wait = limiter_.reserve(steady_clock::now());
    if (wait > steady_clock::duration::zero()) {
      asio::steady_timer t(*ioc_);
      t.expires_after(wait);
      co_await t.async_wait(nothrow);
    }
  }

  // Credentials for the next request; runs an exec plugin on the blocking pool when needed.
  struct ExecOutcome {
    std::optional<ExecCredential> cred;
    std::string error;
  };
  awaitable<AuthInfo> authenticate() {
    AuthInfo a;
    if (exec_) {
      auto now = std::chrono::system_clock::now();
      if (!exec_cached_ || (exec_cached_->expiration && now >= *exec_cached_->expiration)) {
        ExecCredentialProvider* provider = exec_.get();
        ExecOutcome r = co_await asio::co_spawn(
            blocking_->get_executor(),
            [provider]() -> awaitable<ExecOutcome> {
              ExecOutcome out;
              auto c = provider->get();
              if (c) out.cred = std::move(*c);
              else out.error = c.error().message();
              co_return out;
            },
            use_awaitable);
        if (!r.error.empty()) {
          a.error = r.error;
          co_return a;
        }
        exec_cached_ = std::move(r.cred);
      }
      if (exec_cached_) {
        if (!exec_cached_->token.empty()) a.authorization = "Bearer " + exec_cached_->token;
        a.cert_pem = exec_cached_->client_cert_pem;
        a.key_pem = exec_cached_->client_key_pem;
        a.from_exec = true;
        if (!a.cert_pem.empty()) {
          if (auto st = use_client_cert(a.cert_pem, a.key_pem); !st) a.error = st.message();
        }
      }
      if (!a.authorization.empty() || !a.cert_pem.empty() || !a.error.empty()) co_return a;
    }
    if (token_file_) {
      auto t = token_file_->token();
      if (!t) {
        a.error = t.error().message();
        co_return a;
      }
      a.authorization = "Bearer " + *t;
    } else if (!cfg_.bearer_token.empty()) {
      a.authorization = "Bearer " + cfg_.bearer_token;
    }
    co_return a;
  }

  // Switches the TLS context to one presenting an exec-provided client certificate.
  Status use_client_cert(const std::string& cert, const std::string& key) {
    if (!url_.tls || (cert == active_cert_ && key == active_key_)) return {};
    auto ctx = make_ssl_context(cfg_, cert, key);
    if (!ctx) return ctx.error().wrap("exec plugin credentials");
    ssl_ctx_ = *ctx;
    active_cert_ = cert;
    active_key_ = key;
    for (auto& c : idle_) c->close();
    idle_.clear();
    return {};
  }

  awaitable<ApiResult<json::value>> do_call(const Request& req) {
    auto start = steady_clock::now();
    co_await throttle();
    for (int attempt = 0;; ++attempt) {
      AuthInfo auth = co_await authenticate();
      if (!auth.error.empty()) {
        record(req.method, 0, start);
        co_return ApiError::transport("getting credentials: " + auth.error);
      }
      auto deadline = steady_clock::now() + (req.timeout.count() > 0 ? req.timeout : default_timeout_);
      Exchange ex = co_await exchange(req, auth, deadline, nullptr, nullptr);
      if (ex.transport_error) {
        record(req.method, 0, start);
        co_return *ex.transport_error;
      }
      if (ex.status == 401 && exec_ && attempt == 0) {
        exec_->invalidate();
        exec_cached_.reset();
        continue;
      }
      record(req.method, ex.status, start);
      if (ex.status >= 200 && ex.status < 300) co_return std::move(ex.body);
      co_return api_error_from_response(ex.status, ex.raw);
    }
  }

  void record(const std::string& method, int code, steady_clock::time_point start) {
    if (!requests_) return;
    std::string code_label = code == 0 ? "<error>" : std::to_string(code);
    auto key = code_label + " " + method;
    auto it = counters_.find(key);
    if (it == counters_.end())
      it = counters_.emplace(key, &requests_->Add({{"code", code_label}, {"method", method}, {"host", host_}})).first;
    it->second->Increment();
    auto hit = histograms_.find(method);
    if (hit == histograms_.end()) {
      static const prometheus::Histogram::BucketBoundaries kBuckets{0.005, 0.025, 0.1, 0.25, 0.5, 1.0,
                                                                     2.0,   4.0,   8.0, 15.0, 30.0, 60.0};
      hit = histograms_.emplace(method, &durations_->Add({{"verb", method}, {"host", host_}}, kBuckets)).first;
    }
    hit->second->Observe(std::chrono::duration<double>(steady_clock::now() - start).count());
  }

  awaitable<std::optional<ApiError>> connect(Conn& conn, steady_clock::time_point deadline) {
    asio::ip::tcp::resolver resolver(*ioc_);
    auto [rec, results] = co_await resolver.async_resolve(url_.host, url_.port, nothrow);
    if (rec) co_return ApiError::transport("resolving " + host_ + ": " + rec.message());
    conn.lowest().expires_at(deadline);
    auto [cec, ep] = co_await conn.lowest().async_connect(results, nothrow);
    if (cec) {
      if (cec == beast::error::timeout) co_return ApiError::transport("dial tcp " + host_ + ": i/o timeout");
      co_return ApiError::transport("dial tcp " + host_ + ": " + cec.message());
    }
    conn.lowest().socket().set_option(asio::ip::tcp::no_delay(true));
    if (conn.tls) {
      SSL* ssl = conn.tls->native_handle();
      const std::string& name = cfg_.tls_server_name.empty() ? url_.host : cfg_.tls_server_name;
      if (!is_ip_address(name)) SSL_set_tlsext_host_name(ssl, name.c_str());
      if (!cfg_.insecure_skip_tls_verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (is_ip_address(name)) X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        else X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      }
      auto [hec] = co_await conn.tls->async_handshake(ssl::stream_base::client, nothrow);
      if (hec) {
        long vr = SSL_get_verify_result(ssl);
        std::string msg = "tls: handshake with " + host_ + " failed: ";
        if (hec == beast::error::timeout) msg += "i/o timeout";
        else if (vr != X509_V_OK)
          msg += std::string("certificate verify failed: ") + X509_verify_cert_error_string(vr) +
                 " (server name \"" + name + "\")";
        else msg += hec.message();
        co_return ApiError::transport(std::move(msg));
      }
    }
    co_return std::nullopt;
  }

  std::string target(const Request& req, bool watch) const {
    std::string t = url_.prefix + req.path;
    Query q = req.query;
    if (watch) q.insert(q.begin(), {"watch", "true"});
    std::string qs = encode_query(q);
    if (!qs.empty()) t += "?" + qs;
    return t;
  }

  // One HTTP exchange. With `sink`, a 2xx body is streamed to it instead of being parsed; `ws` (for
  // watches) gets the connection so that cancel() can close it.
  awaitable<Exchange> exchange(const Request& req, const AuthInfo& auth, steady_clock::time_point deadline,
                               const BodySink* sink, WatchState* ws) {
    Exchange ex;
    http::request<http::string_body> hreq{http::string_to_verb(req.method), target(req, sink != nullptr), 11};
    hreq.set(http::field::host, host_);
    hreq.set(http::field::user_agent, user_agent_);
    hreq.set(http::field::accept, "application/json, */*");
    if (!auth.authorization.empty()) hreq.set(http::field::authorization, auth.authorization);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      hreq.set(http::field::content_type, req.content_type.empty() ? "application/json" : req.content_type);
      hreq.body() = req.body;
      hreq.prepare_payload();
    }
    hreq.keep_alive(true);

    std::unique_ptr<Conn> conn;
    std::optional<http::response_parser<http::buffer_body>> parser;
    for (int attempt = 0;; ++attempt) {
      if (ws && ws->cancelled) co_return ex;
      if (!idle_.empty() && attempt == 0) {
        conn = std::move(idle_.back());
        idle_.pop_back();
        conn->reused = true;
      } else {
        conn = std::make_unique<Conn>(*ioc_, ssl_ctx_);
        if (ws) ws->conn = conn.get();
        auto err = co_await connect(*conn, deadline);
        if (ws) ws->conn = nullptr;
        if (err) {
          ex.transport_error = std::move(err);
          co_return ex;
        }
      }
      if (ws) ws->conn = conn.get();
      if (ws && ws->cancelled) co_return ex;
      conn->lowest().expires_at(deadline);
      auto [wec, wn] = co_await conn->visit([&](auto& s) { return http::async_write(s, hreq, nothrow); });
      parser.emplace();
      parser->body_limit(boost::none);
      parser->header_limit(1 << 20);
      boost::system::error_code rec;
      if (!wec) {
        auto [ec2, n2] = co_await conn->visit([&](auto& s) { return http::async_read_header(s, conn->buf, *parser, nothrow); });
        rec = ec2;
      }
      auto ec = wec ? wec : rec;
      if (!ec) break;
      bool stale = conn->reused && attempt == 0 &&
                   (ec == http::error::end_of_stream || ec == asio::error::eof ||
                    ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                    ec == ssl::error::stream_truncated);
      if (ws) ws->conn = nullptr;
      conn->close();
      if (stale) continue;
      if (ws && ws->cancelled) co_return ex;
      std::string what = wec ? "writing request" : "reading response";
      if (ec == beast::error::timeout)
        ex.transport_error = ApiError::transport(req.method + " " + req.path + ": timeout awaiting response from " + host_);
      else
        ex.transport_error = ApiError::transport(req.method + " " + req.path + ": " + what + " from " + host_ + ": " + ec.message());
      co_return ex;
    }

    auto& res = parser->get();
    ex.status = res.result_int();
    bool ok = ex.status >= 200 && ex.status < 300;
    auto ct = res[http::field::content_type];
    bool is_json = ct.find("json") != beast::string_view::npos;
    if (sink && ok) {
      // A watch: the server ends it at timeoutSeconds; allow a minute of slack before calling it hung.
      int timeout_s = 0;
      for (auto& [k, v] : req.query)
        if (k == "timeoutSeconds") timeout_s = std::atoi(v.c_str());
      if (timeout_s > 0) conn->lowest().expires_after(std::chrono::seconds(timeout_s + 60));
      else conn->lowest().expires_never();
    }
    json::stream_parser jp;
    if (req.storage.get() != json::storage_ptr().get()) jp.reset(req.storage);
    bool json_failed = false;
    std::string text;
    while (!parser->is_done()) {
      res.body().data = conn->scratch.data();
      res.body().size = conn->scratch.size();
      auto [ec, n] = co_await conn->visit([&](auto& s) { return http::async_read_some(s, conn->buf, *parser, nothrow); });
      if (ec == http::error::need_buffer) ec = {};
      size_t got = conn->scratch.size() - res.body().size;
      std::string_view chunk(conn->scratch.data(), got);
      if (got > 0) {
        if (!ok) {
          if (ex.raw.size() < kMaxErrorBody) ex.raw.append(chunk.substr(0, kMaxErrorBody - ex.raw.size()));
        } else if (sink) {
          if (!(*sink)(chunk)) {
            if (ws) ws->conn = nullptr;
            conn->close();
            co_return ex;
          }
        } else if (is_json) {
          if (!json_failed) {
            json::error_code jec;
            jp.write(chunk.data(), chunk.size(), jec);
            if (jec) {
              json_failed = true;
              ex.raw = "invalid JSON in response: " + jec.message();
            }
          }
        } else if (text.size() < (64u << 20)) {
          text.append(chunk);
        }
      }
      if (ec) {
        if (ws) ws->conn = nullptr;
        conn->close();
        if (ws && ws->cancelled) co_return ex;
        if (ec == beast::error::timeout)
          ex.transport_error = ApiError::transport(req.method + " " + req.path + ": timeout reading the response body from " + host_);
        else
          ex.transport_error = ApiError::transport(req.method + " " + req.path + ": reading the response body from " + host_ + ": " + ec.message());
        co_return ex;
      }
    }
    if (ws) ws->conn = nullptr;
    if (ok && !sink) {
      if (is_json) {
        if (json_failed) {
          ex.transport_error = ApiError::transport(req.method + " " + req.path + ": " + ex.raw);
        } else {
          json::error_code jec;
          jp.finish(jec);
          if (jec) {
            // An empty body is fine (null); anything else half-parsed is not.
            if (!jp.done()) ex.body = nullptr;
            else ex.transport_error = ApiError::transport(req.method + " " + req.path + ": invalid JSON: " + jec.message());
          } else {
            ex.body = jp.release();
          }
        }
      } else {
        ex.body = json::string(text);
      }
    }
    if (parser->keep_alive() && alive_now() && idle_.size() < static_cast<size_t>(std::max(0, cfg_.max_idle_connections)) &&
        conn->ctx == ssl_ctx_) {
      conn->buf.consume(conn->buf.size());
      conn->lowest().expires_never();
      idle_.push_back(std::move(conn));
    } else {
      conn->close();
    }
    co_return ex;
  }

  bool alive_now() {
    std::lock_guard lk(post_mu_);
    return alive_;
  }

 public:
  awaitable<void> run_watch(std::shared_ptr<RestClientImpl> self, Request req, WatchCallbacks cb,
                            std::shared_ptr<WatchState> ws) {
    watches_.insert(ws.get());
    std::optional<ApiError> outcome;
    bool report = true;
    bool recorded = false;
    try {
      auto start = steady_clock::now();
      co_await throttle();
      if (ws->cancelled) report = false;
      for (int attempt = 0; report; ++attempt) {
        AuthInfo auth = co_await authenticate();
        if (ws->cancelled) { report = false; break; }
        if (!auth.error.empty()) {
          outcome = ApiError::transport("getting credentials: " + auth.error);
          break;
        }
        WatchDecoder decoder;
        std::optional<ApiError> decode_error;
        BodySink sink = [&](std::string_view chunk) {
          if (ws->cancelled) return false;
          auto st = decoder.feed(chunk, [&](WatchEvent&& ev) {
            if (!ws->cancelled && cb.on_event) cb.on_event(std::move(ev));
          });
          if (!st) {
            decode_error = ApiError::transport(st.message());
            return false;
          }
          return !ws->cancelled;
        };
        auto deadline = steady_clock::now() + default_timeout_;
        Exchange ex = co_await exchange(req, auth, deadline, &sink, ws.get());
        if (ws->cancelled) { report = false; break; }
        if (ex.status != 0 && !recorded) {
          record("GET", ex.status, start);
          recorded = true;
        }
        if (ex.transport_error) {
          if (!recorded) record("GET", 0, start);
          outcome = ex.transport_error;
        } else if (ex.status == 401 && exec_ && attempt == 0) {
          exec_->invalidate();
          exec_cached_.reset();
          continue;
        } else if (ex.status < 200 || ex.status >= 300) {
          outcome = api_error_from_response(ex.status, ex.raw);
        } else if (decode_error) {
          outcome = decode_error;
        } else {
          auto st = decoder.finish([&](WatchEvent&& ev) {
            if (!ws->cancelled && cb.on_event) cb.on_event(std::move(ev));
          });
          if (!st) outcome = ApiError::transport(st.message());
        }
        break;
      }
    } catch (const std::exception& e) {
      outcome = ApiError::transport(std::string("internal error in watch: ") + e.what());
    }
    watches_.erase(ws.get());
    if (report && !ws->cancelled && cb.on_done) cb.on_done(std::move(outcome));
  }

 private:
  friend class RestClient;
  RestConfig cfg_;
  ServerUrl url_;
  std::string host_;
  asio::io_context* ioc_ = nullptr;
  std::unique_ptr<asio::io_context> owned_ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<RestClientImpl> orphan_self_;
  std::optional<asio::thread_pool> blocking_;
  std::mutex post_mu_;
  bool alive_ = true;

  std::shared_ptr<ssl::context> ssl_ctx_;
  std::string base_cert_, base_key_, active_cert_, active_key_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::set<WatchState*> watches_;
  TokenBucket limiter_;
  std::optional<TokenFile> token_file_;
  std::unique_ptr<ExecCredentialProvider> exec_;
  std::optional<ExecCredential> exec_cached_;
  std::string user_agent_;
  std::chrono::milliseconds default_timeout_{60'000};

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Histogram>* durations_ = nullptr;
  std::map<std::string, prometheus::Counter*> counters_;
  std::map<std::string, prometheus::Histogram*> histograms_;
};

namespace {

class WatchHandle : public Cancelable {
 public:
  WatchHandle(std::shared_ptr<WatchState> st, std::weak_ptr<RestClientImpl> impl)
      : st_(std::move(st)), impl_(std::move(impl)) {}
  void cancel() override {
    st_->cancelled = true;
    if (auto impl = impl_.lock()) {
      impl->post_safe([st = st_] {
        if (st->conn) st->conn->close();
      });
    }
  }

 private:
  std::shared_ptr<WatchState> st_;
  std::weak_ptr<RestClientImpl> impl_;
};

class TimerHandle : public Cancelable {
 public:
  TimerHandle(std::weak_ptr<TimerState> st, std::weak_ptr<RestClientImpl> impl)
      : st_(std::move(st)), impl_(std::move(impl)) {}
  void cancel() override {
    auto st = st_.lock();
    if (!st) return;
    st->cancelled = true;
    if (auto impl = impl_.lock()) {
      impl->post_safe([w = st_] {
        if (auto s = w.lock()) s->timer.cancel();
      });
    }
  }

 private:
  std::weak_ptr<TimerState> st_;
  std::weak_ptr<RestClientImpl> impl_;
};

}  // namespace

std::shared_ptr<Cancelable> RestClientImpl::watch_async(Request req, WatchCallbacks cb) {
  auto ws = std::make_shared<WatchState>();
  auto self = shared_from_this();
  auto handle = std::make_shared<WatchHandle>(ws, self);
  std::lock_guard lk(post_mu_);
  if (!alive_) {
    ws->cancelled = true;
    return handle;
  }
  asio::co_spawn(*ioc_, run_watch(self, std::move(req), std::move(cb), ws), asio::detached);
  return handle;
}

std::shared_ptr<Cancelable> RestClientImpl::post_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  std::lock_guard lk(post_mu_);
  if (!alive_) return std::make_shared<TimerHandle>(std::weak_ptr<TimerState>(), weak_from_this());
  auto st = std::make_shared<TimerState>(*ioc_);
  st->fn = std::move(fn);
  auto handle = std::make_shared<TimerHandle>(st, weak_from_this());
  // The timer is created and armed on the loop thread (Asio objects are not thread-safe).
  asio::post(*ioc_, [st, delay] {
    st->timer.expires_after(delay);
    st->timer.async_wait([st](boost::system::error_code ec) {
      auto fn = std::move(st->fn);
      if (!ec && !st->cancelled && fn) fn();
    });
  });
  return handle;
}

class RestClient : public Client {
 public:
  explicit RestClient(std::shared_ptr<RestClientImpl> impl) : impl_(std::move(impl)) {}
  ~RestClient() override {
    if (impl_->on_loop_thread()) impl_->orphan();
    else impl_->shutdown();
  }

  void call_async(Request req, Done done) override { impl_->call_async(std::move(req), std::move(done)); }
  std::shared_ptr<Cancelable> watch_async(Request req, WatchCallbacks cb) override {
    return impl_->watch_async(std::move(req), std::move(cb));
  }
  void post(std::function<void()> fn) override { impl_->post_safe(std::move(fn)); }
  std::shared_ptr<Cancelable> post_after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    return impl_->post_after(delay, std::move(fn));
  }
  bool on_loop_thread() const override { return impl_->on_loop_thread(); }
  std::string host() const override { return impl_->host(); }

 private:
  std::shared_ptr<RestClientImpl> impl_;
};

Result<std::shared_ptr<Client>> make_rest_client(const RestConfig& config, RestClientOptions options) {
  auto url = parse_server_url(config.server);
  if (!url) return url.error();
  auto impl = std::make_shared<RestClientImpl>(config, *url, options);
  if (auto st = impl->init(); !st) return st.error().wrap("API client for " + config.server);
  impl->start();
  return std::shared_ptr<Client>(std::make_shared<RestClient>(std::move(impl)));
}

}  // namespace knode::kube
