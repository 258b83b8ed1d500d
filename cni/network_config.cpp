#include "cni/network_config.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cni/go_json.h"
#include "cni/version.h"

namespace knode::cni {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

Error field_error(std::string_view source, std::string_view field, std::string_view problem) {
  return Error(std::string(source) + ": " + std::string(field) + ": " + std::string(problem));
}

Result<PluginConfig> plugin_from_value(json::value v, std::string_view source, const std::string& field) {
  if (!v.is_object()) return field_error(source, field, "not a JSON object");
  auto& o = v.get_object();
  PluginConfig p;
  auto t = o.find("type");
  if (t == o.end()) return field_error(source, field + ".type", "missing");
  if (!t->value().is_string() || t->value().get_string().empty()) {
    return field_error(source, field + ".type", "must be a non-empty string");
  }
  p.type = std::string(t->value().get_string());
  if (p.type.find('/') != std::string::npos || p.type == "." || p.type == "..") {
    return field_error(source, field + ".type", "\"" + p.type + "\" is not a plugin name");
  }
  if (auto n = o.find("name"); n != o.end() && n->value().is_string()) p.name = std::string(n->value().get_string());
  if (auto c = o.find("capabilities"); c != o.end() && !c->value().is_null()) {
    if (!c->value().is_object()) return field_error(source, field + ".capabilities", "not an object");
    for (const auto& kv : c->value().get_object()) {
      if (!kv.value().is_bool()) {
        return field_error(source, field + ".capabilities." + std::string(kv.key()), "not a boolean");
      }
      p.capabilities[std::string(kv.key())] = kv.value().get_bool();
    }
  }
  sort_keys(v);
  p.bytes = go_marshal(v);
  return p;
}

Result<bool> read_bool(const json::object& o, std::string_view key, std::string_view source) {
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (it->value().is_bool()) return it->value().get_bool();
  if (it->value().is_string()) {
    std::string s(it->value().get_string());
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return field_error(source, key, "must be true or false");
}

// Picks the version to use: the highest of cniVersion and cniVersions that knode implements.
Status choose_version(const json::object& o, std::string_view source, NetworkConfigList& list) {
  auto v = o.find("cniVersion");
  std::string declared;
  if (v != o.end()) {
    if (!v->value().is_string()) return field_error(source, "cniVersion", "not a string");
    declared = std::string(v->value().get_string());
    if (!parse_version(declared)) return field_error(source, "cniVersion", "\"" + declared + "\" is not a version");
    list.declared_versions.push_back(declared);
  }
  if (auto vs = o.find("cniVersions"); vs != o.end()) {
    if (!vs->value().is_array()) return field_error(source, "cniVersions", "not an array");
    size_t i = 0;
    for (const auto& e : vs->value().get_array()) {
      std::string f = "cniVersions[" + std::to_string(i++) + "]";
      if (!e.is_string() || !parse_version(e.get_string())) return field_error(source, f, "not a version");
      list.declared_versions.emplace_back(e.get_string());
    }
  }
  if (list.declared_versions.empty()) return field_error(source, "cniVersion", "missing");
  std::string best;
  for (const auto& d : list.declared_versions) {
    if (!result_version_supported(d)) continue;
    if (best.empty() || *parse_version(d) > *parse_version(best)) best = d;
  }
  if (best.empty()) {
    return field_error(source, declared.empty() ? "cniVersions" : "cniVersion",
                       "no version knode supports (0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0) in \"" +
                           (declared.empty() ? list.declared_versions.front() : declared) + "\"");
  }
  list.cni_version = best;
  return {};
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("error reading " + path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error("error reading " + path);
  return ss.str();
}

bool is_conf_ext(const fs::path& p) {
  auto e = p.extension().string();
  return e == ".conf" || e == ".conflist" || e == ".json";
}

}  // namespace

Status validate_network_name(std::string_view name) {
  if (name.empty()) return Error("network name is empty");
  auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  auto ok_rest = [&](char c) { return ok_first(c) || c == '_' || c == '.' || c == '-'; };
  if (!ok_first(name[0]) || !std::all_of(name.begin() + 1, name.end(), ok_rest)) {
    return Error("invalid network name \"" + std::string(name) +
                 "\": must start with a letter or digit and contain only letters, digits, '_', '.', '-'");
  }
  return {};
}

Status validate_container_id(std::string_view id) {
  if (id.empty()) return Error("container ID is empty");
  auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  auto ok_rest = [&](char c) { return ok_first(c) || c == '_' || c == '.' || c == '-'; };
  if (!ok_first(id[0]) || !std::all_of(id.begin() + 1, id.end(), ok_rest)) {
    return Error("invalid container ID \"" + std::string(id) +
                 "\": must start with a letter or digit and contain only letters, digits, '_', '.', '-'");
  }
  return {};
}

Status validate_interface_name(std::string_view ifname) {
  if (ifname.empty()) return Error("interface name is empty");
  if (ifname.size() > 15) return Error("interface name \"" + std::string(ifname) + "\" is longer than 15 characters");
  if (ifname == "." || ifname == "..") return Error("interface name \"" + std::string(ifname) + "\" is not allowed");
  for (char c : ifname) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) {
      return Error("interface name \"" + std::string(ifname) + "\" contains '/', ':' or whitespace");
    }
  }
  return {};
}

Result<NetworkConfigList> parse_network_list(std::string_view bytes, std::string_view source) {
  boost::system::error_code ec;
  json::value v = json::parse(bytes, ec);
  if (ec) return Error(std::string(source) + ": invalid JSON: " + ec.message());
  if (!v.is_object()) return Error(std::string(source) + ": not a JSON object");
  auto& o = v.get_object();
  NetworkConfigList list;
  list.source = std::string(source);
  list.bytes = std::string(bytes);
  auto n = o.find("name");
  if (n == o.end()) return field_error(source, "name", "missing");
  if (!n->value().is_string()) return field_error(source, "name", "not a string");
  list.name = std::string(n->value().get_string());
  if (auto st = validate_network_name(list.name); !st) return field_error(source, "name", st.message());
  if (auto st = choose_version(o, source, list); !st) return st.error();
  auto dc = read_bool(o, "disableCheck", source);
  if (!dc) return dc.error();
  list.disable_check = *dc;
  auto dg = read_bool(o, "disableGC", source);
  if (!dg) return dg.error();
  list.disable_gc = *dg;
  auto p = o.find("plugins");
  if (p == o.end()) return field_error(source, "plugins", "missing");
  if (!p->value().is_array()) return field_error(source, "plugins", "not an array");
  auto& arr = p->value().get_array();
  if (arr.empty()) return field_error(source, "plugins", "empty: a list needs at least one plugin");
  for (size_t i = 0; i < arr.size(); ++i) {
    auto pc = plugin_from_value(std::move(arr[i]), source, "plugins[" + std::to_string(i) + "]");
    if (!pc) return pc.error();
    list.plugins.push_back(std::move(*pc));
  }
  return list;
}

Result<NetworkConfigList> parse_single_conf(std::string_view bytes, std::string_view source) {
  boost::system::error_code ec;
  json::value v = json::parse(bytes, ec);
  if (ec) return Error(std::string(source) + ": invalid JSON: " + ec.message());
  if (!v.is_object()) return Error(std::string(source) + ": not a JSON object");
  auto& o = v.get_object();
  if (o.contains("plugins") && !o.contains("type")) {
    return field_error(source, "type", "missing (a list of plugins belongs in a .conflist file)");
  }
  auto n = o.find("name");
  if (n == o.end()) return field_error(source, "name", "missing");
  if (!n->value().is_string()) return field_error(source, "name", "not a string");
  auto cv = o.find("cniVersion");
  if (cv == o.end()) return field_error(source, "cniVersion", "missing");
  if (!cv->value().is_string()) return field_error(source, "cniVersion", "not a string");
  // libcni's wrapper: {"cniVersion", "name", "plugins":[conf]} re-encoded with sorted keys; those
  // bytes are what it caches as the network's config.
  json::object wrapper;
  wrapper["cniVersion"] = cv->value();
  wrapper["name"] = n->value();
  json::array plugins;
  plugins.push_back(v);
  wrapper["plugins"] = std::move(plugins);
  json::value wv(std::move(wrapper));
  sort_keys(wv);
  std::string wrapped = go_marshal(wv);
  auto list = parse_network_list(wrapped, source);
  if (!list) {
    // Name the field as the user wrote it: plugins[0].x is the file's own x.
    std::string m = list.error().message();
    std::string prefix = std::string(source) + ": plugins[0].";
    if (m.rfind(prefix, 0) == 0) m = std::string(source) + ": " + m.substr(prefix.size());
    return Error(m);
  }
  return list;
}

Result<NetworkConfigList> load_network_file(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.error();
  if (fs::path(path).extension() != ".conflist") return parse_single_conf(*bytes, path);
  auto list = parse_network_list(*bytes, path);
  if (!list) return list;
  // Drop-in plugin files <dir>/<network name>/*.conf (CNI 1.1), unless the list opts out.
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  bool inlined_only = false;
  if (!ec && v.is_object()) {
    auto lo = read_bool(v.get_object(), "loadOnlyInlinedPlugins", path);
    if (!lo) return lo.error();
    inlined_only = *lo;
  }
  if (!inlined_only) {
    fs::path dir = fs::path(path).parent_path() / list->name;
    std::error_code fec;
    if (fs::is_directory(dir, fec)) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(dir, fec)) {
        if (e.is_regular_file() && e.path().extension() == ".conf") files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        auto b = read_file(f);
        if (!b) return b.error();
        json::value pv = json::parse(*b, ec);
        if (ec) return Error(f + ": invalid JSON: " + ec.message());
        auto pc = plugin_from_value(std::move(pv), f, "plugin");
        if (!pc) return pc.error();
        list->plugins.push_back(std::move(*pc));
      }
    }
  }
  return list;
}

std::vector<std::string> conf_files(const std::string& conf_dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(conf_dir, ec)) {
    std::error_code sec;
    if (e.is_regular_file(sec) && is_conf_ext(e.path())) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<LoadedNetwork> load_network(const std::string& conf_dir, std::string_view name) {
  std::error_code ec;
  if (!fs::is_directory(conf_dir, ec)) return Error("CNI conf dir " + conf_dir + " does not exist");
  auto files = conf_files(conf_dir);
  if (files.empty()) return Error("no network configuration (.conf, .conflist, .json) in " + conf_dir);
  LoadedNetwork out;
  for (const auto& f : files) {
    auto list = load_network_file(f);
    if (!list) {
      out.skipped.push_back(list.error().message());
      continue;
    }
    if (!name.empty() && list->name != name) continue;
    out.list = std::move(*list);
    return out;
  }
  std::string msg = name.empty() ? "no valid network configuration in " + conf_dir
                                 : "no valid network configuration named \"" + std::string(name) + "\" in " + conf_dir;
  for (const auto& s : out.skipped) msg += "; " + s;
  return Error(msg);
}

}  // namespace knode::cni
