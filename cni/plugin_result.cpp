#include "cni/plugin_result.h"

#include <arpa/inet.h>

#include <boost/json.hpp>
#include <charconv>

#include "cni/go_json.h"
#include "cni/result_json.h"
#include "cni/version.h"

namespace knode::cni {
namespace json = boost::json;
namespace {

// Canonical text of "ip/prefix" as Go's net.IPNet prints it (the IP as given, not masked).
Result<std::string> canonical_cidr(std::string_view text, std::string_view field) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Error(std::string(field) + ": invalid CIDR address \"" + std::string(text) + "\"");
  }
  std::string ip(text.substr(0, slash));
  std::string_view prefix = text.substr(slash + 1);
  int bits = -1;
  auto [p, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
  bool v6 = ip.find(':') != std::string::npos;
  unsigned char buf[16];
  if (ec != std::errc() || p != prefix.data() + prefix.size() || bits < 0 || bits > (v6 ? 128 : 32) ||
      inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), buf) != 1) {
    return Error(std::string(field) + ": invalid CIDR address \"" + std::string(text) + "\"");
  }
  char out[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, buf, out, sizeof out);
  return std::string(out) + "/" + std::to_string(bits);
}

Result<std::string> canonical_ip(std::string_view text, std::string_view field) {
  std::string ip(text);
  bool v6 = ip.find(':') != std::string::npos;
  unsigned char buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), buf) != 1) {
    return Error(std::string(field) + ": invalid IP address \"" + ip + "\"");
  }
  char out[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, buf, out, sizeof out);
  return std::string(out);
}

const json::value* member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

Status read_string(const json::object& o, std::string_view key, std::string_view path, std::string& out) {
  const json::value* v = member(o, key);
  if (!v) return {};
  if (!v->is_string()) return Error(std::string(path) + "." + std::string(key) + ": not a string");
  out = std::string(v->get_string());
  return {};
}

Status read_int(const json::object& o, std::string_view key, std::string_view path, int& out,
                bool* present = nullptr) {
  const json::value* v = member(o, key);
  if (!v) return {};
  if (v->is_int64()) {
    out = static_cast<int>(v->get_int64());
  } else if (v->is_uint64()) {
    out = static_cast<int>(v->get_uint64());
  } else if (v->is_double() && v->get_double() == static_cast<int>(v->get_double())) {
    out = static_cast<int>(v->get_double());
  } else {
    return Error(std::string(path) + "." + std::string(key) + ": not an integer");
  }
  if (present) *present = true;
  return {};
}

Status read_strings(const json::object& o, std::string_view key, std::string_view path,
                    std::vector<std::string>& out) {
  const json::value* v = member(o, key);
  if (!v) return {};
  std::string where = std::string(path) + "." + std::string(key);
  if (!v->is_array()) return Error(where + ": not an array");
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return Error(where + ": not an array of strings");
    out.emplace_back(e.get_string());
  }
  return {};
}

const json::array* read_array(const json::object& o, std::string_view key, Status& st) {
  const json::value* v = member(o, key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    st = Error(std::string(key) + ": not an array");
    return nullptr;
  }
  return &v->get_array();
}

#define KNODE_TRY(expr)          \
  do {                           \
    Status st_ = (expr);         \
    if (!st_) return st_.error(); \
  } while (0)

}  // namespace

Result<PluginResult> result_from_value(const json::value& v) {
  if (!v.is_object()) return Error("result is not a JSON object");
  const auto& o = v.get_object();
  PluginResult r;
  KNODE_TRY(read_string(o, "cniVersion", "result", r.cni_version));
  if (r.cni_version.empty()) return Error("result has no cniVersion");
  if (!result_version_supported(r.cni_version)) {
    return Error("result version \"" + r.cni_version + "\" is not supported (knode reads 0.3.0 to 1.1.0)");
  }
  Status st;
  if (const json::array* a = read_array(o, "interfaces", st)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string path = "interfaces[" + std::to_string(i) + "]";
      if (!(*a)[i].is_object()) return Error(path + ": not an object");
      const auto& io = (*a)[i].get_object();
      Interface itf;
      KNODE_TRY(read_string(io, "name", path, itf.name));
      KNODE_TRY(read_string(io, "mac", path, itf.mac));
      KNODE_TRY(read_int(io, "mtu", path, itf.mtu));
      KNODE_TRY(read_string(io, "sandbox", path, itf.sandbox));
      KNODE_TRY(read_string(io, "socketPath", path, itf.socket_path));
      KNODE_TRY(read_string(io, "pciID", path, itf.pci_id));
      r.interfaces.push_back(std::move(itf));
    }
  }
  if (!st) return st.error();
  if (const json::array* a = read_array(o, "ips", st)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string path = "ips[" + std::to_string(i) + "]";
      if (!(*a)[i].is_object()) return Error(path + ": not an object");
      const auto& io = (*a)[i].get_object();
      IPConfig ip;
      int idx = 0;
      bool has_idx = false;
      KNODE_TRY(read_int(io, "interface", path, idx, &has_idx));
      if (has_idx) ip.interface = idx;
      std::string addr, gw;
      KNODE_TRY(read_string(io, "address", path, addr));
      KNODE_TRY(read_string(io, "gateway", path, gw));
      auto a1 = canonical_cidr(addr, path + ".address");
      if (!a1) return a1.error();
      ip.address = *a1;
      if (!gw.empty()) {
        auto g = canonical_ip(gw, path + ".gateway");
        if (!g) return g.error();
        ip.gateway = *g;
      }
      r.ips.push_back(std::move(ip));
    }
  }
  if (!st) return st.error();
  if (const json::array* a = read_array(o, "routes", st)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string path = "routes[" + std::to_string(i) + "]";
      if (!(*a)[i].is_object()) return Error(path + ": not an object");
      const auto& ro = (*a)[i].get_object();
      Route rt;
      std::string dst, gw;
      KNODE_TRY(read_string(ro, "dst", path, dst));
      KNODE_TRY(read_string(ro, "gw", path, gw));
      auto d = canonical_cidr(dst, path + ".dst");
      if (!d) return d.error();
      rt.dst = *d;
      if (!gw.empty()) {
        auto g = canonical_ip(gw, path + ".gw");
        if (!g) return g.error();
        rt.gw = *g;
      }
      KNODE_TRY(read_int(ro, "mtu", path, rt.mtu));
      KNODE_TRY(read_int(ro, "advmss", path, rt.advmss));
      KNODE_TRY(read_int(ro, "priority", path, rt.priority));
      int n = 0;
      bool has = false;
      KNODE_TRY(read_int(ro, "table", path, n, &has));
      if (has) rt.table = n;
      has = false;
      KNODE_TRY(read_int(ro, "scope", path, n, &has));
      if (has) rt.scope = n;
      r.routes.push_back(std::move(rt));
    }
  }
  if (!st) return st.error();
  if (const json::value* d = member(o, "dns")) {
    if (!d->is_object()) return Error("dns: not an object");
    const auto& dob = d->get_object();
    KNODE_TRY(read_strings(dob, "nameservers", "dns", r.dns.nameservers));
    KNODE_TRY(read_string(dob, "domain", "dns", r.dns.domain));
    KNODE_TRY(read_strings(dob, "search", "dns", r.dns.search));
    KNODE_TRY(read_strings(dob, "options", "dns", r.dns.options));
  }
  return r;
}

Result<PluginResult> parse_result(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Error("result is not valid JSON: " + ec.message());
  return result_from_value(v);
}

Result<json::object> result_to_object(const PluginResult& r, std::string_view version) {
  if (!result_version_supported(version)) {
    return Error("cannot convert result to version \"" + std::string(version) + "\"");
  }
  const bool v1 = version_at_least(version, "1.0.0");
  const bool v11 = version_at_least(version, "1.1.0");
  json::object o;
  o["cniVersion"] = version;
  if (!r.interfaces.empty()) {
    json::array a;
    for (const auto& i : r.interfaces) {
      json::object io;
      io["name"] = i.name;
      if (!i.mac.empty()) io["mac"] = i.mac;
      if (v11 && i.mtu != 0) io["mtu"] = i.mtu;
      if (!i.sandbox.empty()) io["sandbox"] = i.sandbox;
      if (v11 && !i.socket_path.empty()) io["socketPath"] = i.socket_path;
      if (v11 && !i.pci_id.empty()) io["pciID"] = i.pci_id;
      a.push_back(std::move(io));
    }
    o["interfaces"] = std::move(a);
  }
  if (!r.ips.empty()) {
    json::array a;
    for (const auto& ip : r.ips) {
      json::object io;
      if (!v1) io["version"] = ip.address.find(':') != std::string::npos ? "6" : "4";
      if (ip.interface) io["interface"] = *ip.interface;
      io["address"] = ip.address;
      if (!ip.gateway.empty()) io["gateway"] = ip.gateway;
      a.push_back(std::move(io));
    }
    o["ips"] = std::move(a);
  }
  if (!r.routes.empty()) {
    json::array a;
    for (const auto& rt : r.routes) {
      json::object ro;
      ro["dst"] = rt.dst;
      if (!rt.gw.empty()) ro["gw"] = rt.gw;
      if (v11) {
        if (rt.mtu != 0) ro["mtu"] = rt.mtu;
        if (rt.advmss != 0) ro["advmss"] = rt.advmss;
        if (rt.priority != 0) ro["priority"] = rt.priority;
        if (rt.table) ro["table"] = *rt.table;
        if (rt.scope) ro["scope"] = *rt.scope;
      }
      a.push_back(std::move(ro));
    }
    o["routes"] = std::move(a);
  }
  json::object dns;
  auto strings = [](const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  if (!r.dns.nameservers.empty()) dns["nameservers"] = strings(r.dns.nameservers);
  if (!r.dns.domain.empty()) dns["domain"] = r.dns.domain;
  if (!r.dns.search.empty()) dns["search"] = strings(r.dns.search);
  if (!r.dns.options.empty()) dns["options"] = strings(r.dns.options);
  o["dns"] = std::move(dns);
  return o;
}

Result<std::string> result_to_json(const PluginResult& r, std::string_view version, std::string_view indent) {
  auto o = result_to_object(r, version);
  if (!o) return o.error();
  return go_marshal(json::value(std::move(*o)), indent);
}

}  // namespace knode::cni
