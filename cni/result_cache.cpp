#include "cni/result_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cni/go_json.h"
#include "cni/result_json.h"

namespace knode::cni {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kKind = "cniCacheV1";

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], kB64[n & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {kB64[n >> 18], kB64[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kB64[n >> 18], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    const char* p = std::strchr(kB64, c);
    if (!p || c == '\0') return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string ResultCache::path(std::string_view network, std::string_view container_id,
                              std::string_view ifname) const {
  return dir_ + "/results/" + std::string(network) + "-" + std::string(container_id) + "-" + std::string(ifname);
}

Result<std::string> encode_cache_entry(const CacheEntry& e) {
  // Field order and omissions follow libcni's cachedInfo struct; nested maps are sorted as Go's
  // encoder sorts map keys (the result went through a map[string]interface{} there).
  json::object o;
  o["kind"] = kKind;
  o["containerId"] = e.container_id;
  o["config"] = base64_encode(e.config);
  o["ifName"] = e.ifname;
  o["networkName"] = e.network_name;
  if (!e.netns.empty()) o["netns"] = e.netns;
  if (!e.cni_args.empty()) {
    json::array a;
    for (const auto& [k, v] : e.cni_args) a.push_back(json::array{json::value(k), json::value(v)});
    o["cniArgs"] = std::move(a);
  }
  if (!e.capability_args.empty()) {
    json::object caps;
    for (const auto& [k, v] : e.capability_args) {
      boost::system::error_code ec;
      json::value cv = json::parse(v, ec);
      if (ec) return Error("capability argument \"" + k + "\" is not JSON: " + ec.message());
      caps[k] = std::move(cv);
    }
    o["capabilityArgs"] = std::move(caps);
  }
  if (e.result) {
    auto r = result_to_object(*e.result, e.result->cni_version);
    if (!r) return r.error();
    json::value rv(std::move(*r));
    sort_keys(rv);
    o["result"] = std::move(rv);
  }
  return go_marshal(json::value(std::move(o)));
}

Result<CacheEntry> decode_cache_entry(std::string_view bytes) {
  boost::system::error_code ec;
  json::value v = json::parse(bytes, ec);
  if (ec || !v.is_object()) return Error("cache entry is not a JSON object");
  const auto& o = v.get_object();
  CacheEntry e;
  auto kind = o.find("kind");
  if (kind == o.end() || !kind->value().is_string() || kind->value().get_string() != kKind) {
    // The layout before cniCacheV1 held the bare result.
    auto r = result_from_value(v);
    if (!r) return Error("cache entry has kind other than cniCacheV1 and is not a result: " + r.error().message());
    e.result = std::move(*r);
    return e;
  }
  auto str = [&](std::string_view key) -> std::string {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
  };
  e.container_id = str("containerId");
  e.network_name = str("networkName");
  e.ifname = str("ifName");
  e.netns = str("netns");
  auto cfg = base64_decode(str("config"));
  if (!cfg) return Error("cache entry config is not base64");
  e.config = std::move(*cfg);
  if (auto a = o.find("cniArgs"); a != o.end() && a->value().is_array()) {
    for (const auto& p : a->value().get_array()) {
      if (p.is_array() && p.get_array().size() == 2 && p.get_array()[0].is_string() && p.get_array()[1].is_string()) {
        e.cni_args.emplace_back(std::string(p.get_array()[0].get_string()), std::string(p.get_array()[1].get_string()));
      }
    }
  }
  if (auto c = o.find("capabilityArgs"); c != o.end() && c->value().is_object()) {
    for (const auto& kv : c->value().get_object()) e.capability_args[std::string(kv.key())] = go_marshal(kv.value());
  }
  if (auto r = o.find("result"); r != o.end() && r->value().is_object()) {
    auto pr = result_from_value(r->value());
    if (!pr) return Error("cached result: " + pr.error().message());
    e.result = std::move(*pr);
  }
  return e;
}

Status ResultCache::write(const CacheEntry& e) {
  auto bytes = encode_cache_entry(e);
  if (!bytes) return bytes.error();
  std::string final_path = path(e.network_name, e.container_id, e.ifname);
  std::error_code ec;
  fs::create_directories(dir_ + "/results", ec);
  if (ec) return Error("creating " + dir_ + "/results: " + ec.message());
  ::chmod((dir_ + "/results").c_str(), 0700);
  std::string tmp = dir_ + "/results/." + e.network_name + "-" + e.container_id + "-" + e.ifname + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error("writing " + tmp + ": " + std::strerror(errno));
  // No fsync, as libcni: a torn file after a crash reads as unreadable, which DEL tolerates.
  Status st = write_all(fd, *bytes);
  ::close(fd);
  if (st && ::rename(tmp.c_str(), final_path.c_str()) != 0) st = Error(std::strerror(errno));
  if (!st) {
    ::unlink(tmp.c_str());
    return Error("writing " + final_path + ": " + st.message());
  }
  return {};
}

Result<std::optional<CacheEntry>> ResultCache::read(std::string_view network, std::string_view container_id,
                                                    std::string_view ifname) const {
  std::string p = path(network, container_id, ifname);
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::optional<CacheEntry>();
  std::ostringstream ss;
  ss << in.rdbuf();
  auto e = decode_cache_entry(ss.str());
  if (!e) return Error(p + ": " + e.error().message());
  if (e->network_name.empty()) e->network_name = std::string(network);
  if (e->container_id.empty()) e->container_id = std::string(container_id);
  if (e->ifname.empty()) e->ifname = std::string(ifname);
  return std::optional<CacheEntry>(std::move(*e));
}

Status ResultCache::remove(std::string_view network, std::string_view container_id, std::string_view ifname) {
  std::string p = path(network, container_id, ifname);
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Error("removing " + p + ": " + std::strerror(errno));
  return {};
}

std::vector<CacheEntry> ResultCache::list(std::string_view container_id) const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(dir_ + "/results", ec)) {
    std::string n = d.path().filename().string();
    if (n.empty() || n[0] == '.') continue;
    if (!container_id.empty() && n.find("-" + std::string(container_id) + "-") == std::string::npos) continue;
    names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::vector<CacheEntry> out;
  for (const auto& n : names) {
    std::ifstream in(dir_ + "/results/" + n, std::ios::binary);
    if (!in) continue;
    std::ostringstream ss;
    ss << in.rdbuf();
    auto e = decode_cache_entry(ss.str());
    if (!e || e->network_name.empty() || e->ifname.empty()) continue;  // not cniCacheV1
    if (!container_id.empty() && e->container_id != container_id) continue;
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace knode::cni
