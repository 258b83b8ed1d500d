// The real kube::Client: HTTP/1.1 over TLS (OpenSSL) or plain TCP with Boost.Beast on one Asio event
// loop, keep-alive connection pool, QPS/burst limiting, bearer token / token file / exec plugin /
// client certificate authentication, request timeouts and rest_client_* metrics.
#pragma once

#include <memory>

#include "agent/base/result.h"
#include "agent/kube/client/client.h"
#include "agent/kube/client/rest_config.h"

namespace boost::asio {
class io_context;
}
namespace prometheus {
class Registry;
}

namespace knode::kube {

struct RestClientOptions {
  // When set, the client runs on this io_context (whose thread the caller runs); otherwise the
  // client owns an io_context and one thread.
  boost::asio::io_context* io_context = nullptr;
  // Metrics registry (rest_client_requests_total, rest_client_request_duration_seconds), optional.
  prometheus::Registry* registry = nullptr;
};

// Validates the configuration (server URL, PEM material) and starts the client.
Result<std::shared_ptr<Client>> make_rest_client(const RestConfig& config, RestClientOptions options = {});

// "https://host:6443/prefix" → parts; used by the client, exposed for tests.
struct ServerUrl {
  bool tls = true;
  std::string host;   // without brackets for IPv6
  std::string port;
  std::string prefix; // "" or "/prefix" (no trailing slash)
  std::string host_port() const;  // "host:port", IPv6 bracketed
};
Result<ServerUrl> parse_server_url(std::string_view url);

}  // namespace knode::kube
