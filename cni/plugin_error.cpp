#include "cni/plugin_error.h"

#include <boost/json.hpp>

#include "cni/go_json.h"

namespace knode::cni {
namespace json = boost::json;

std::optional<PluginError> parse_plugin_error(std::string_view out) {
  boost::system::error_code ec;
  json::value v = json::parse(out, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  auto c = o.find("code");
  if (c == o.end() || !(c->value().is_int64() || c->value().is_uint64())) return std::nullopt;
  PluginError e;
  e.code = static_cast<int>(c->value().to_number<int64_t>());
  if (auto m = o.find("msg"); m != o.end() && m->value().is_string()) e.msg = std::string(m->value().get_string());
  if (auto d = o.find("details"); d != o.end() && d->value().is_string()) {
    e.details = std::string(d->value().get_string());
  }
  return e;
}

std::string plugin_error_json(const PluginError& e, std::string_view cni_version) {
  json::object o;
  o["cniVersion"] = cni_version;
  o["code"] = e.code;
  o["msg"] = e.msg;
  if (!e.details.empty()) o["details"] = e.details;
  return go_marshal(json::value(std::move(o)));
}

}  // namespace knode::cni
