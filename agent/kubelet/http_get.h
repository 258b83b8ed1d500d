// One HTTP(S) GET with a total deadline, for the kubelet's own small clients: httpGet probes
// (plain and HTTPS without certificate verification, as upstream's prober) and the staticPodURL
// source. Errors read like Go's net/http ones, which operators know from upstream's messages:
//   dial tcp 10.0.0.5:8080: connect: connection refused
//   context deadline exceeded (Client.Timeout exceeded while awaiting headers)
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/base/result.h"

namespace knode::kubelet {

struct HttpUrl {
  std::string scheme = "http";  // http or https
  std::string host;             // a name or an address (IPv6 without brackets)
  int port = 0;
  std::string path = "/";       // path and query
  std::string str() const;      // scheme://host:port/path, IPv6 in brackets
};
// Parses http[s]://host[:port][/path][?query]. The error names the problem.
Result<HttpUrl> parse_http_url(std::string_view url);

struct HttpGetRequest {
  HttpUrl url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given (a Host header overrides)
  std::chrono::milliseconds timeout = std::chrono::seconds(1);
  bool status_only = false;     // stop after the headers (probes need no body)
  size_t max_body = 10 << 20;   // a longer body is an error
  std::string user_agent = "kube-probe/1.32";
};

struct HttpGetResponse {
  int status = 0;
  std::string body;      // de-chunked
  std::string location;  // the Location header, if any
};

// A redirect's Location resolved against the URL that answered it (absolute, "//host/…", "/path",
// or relative to the directory of base's path).
Result<HttpUrl> resolve_location(const HttpUrl& base, std::string_view location);

Result<HttpGetResponse> http_get(const HttpGetRequest& req);

// A connected TCP socket to host:port within the timeout (close-on-exec, blocking), or an error
// like Go's dialer: "dial tcp 127.0.0.1:1: connect: connection refused", "…: i/o timeout".
Result<int> dial_tcp(const std::string& host, int port, std::chrono::milliseconds timeout);

}  // namespace knode::kubelet
