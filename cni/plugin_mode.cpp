#include "cni/plugin_mode.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>

#include "cni/go_json.h"
#include "cni/network_config.h"
#include "cni/plugin_error.h"
#include "cni/process_executor.h"
#include "cni/runtime.h"
#include "cni/version.h"

extern char** environ;

namespace knode::cni {
namespace json = boost::json;
namespace {

constexpr std::string_view kSelfType = "knode-cni";

PluginReply error_reply(const PluginError& e, std::string_view version) {
  return {1, plugin_error_json(e, version.empty() ? kCurrentVersion : version)};
}

std::string env_or(const PluginInvocation& inv, const std::string& key, std::string fallback = {}) {
  auto it = inv.env.find(key);
  return it == inv.env.end() ? fallback : it->second;
}

std::vector<std::string> split_path(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto c = s.find(':');
    if (c != 0) out.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s = s.substr(c + 1);
  }
  return out;
}

}  // namespace

PluginReply run_plugin_mode(const PluginInvocation& inv, Executor& exec) {
  const std::string command = env_or(inv, "CNI_COMMAND");
  boost::system::error_code ec;
  json::value conf = json::parse(inv.stdin_data, ec);
  std::string version;
  if (!ec && conf.is_object()) {
    if (auto v = conf.get_object().find("cniVersion"); v != conf.get_object().end() && v->value().is_string()) {
      version = std::string(v->value().get_string());
    }
  }
  if (command == "VERSION") {
    json::object o;
    o["cniVersion"] = result_version_supported(version) ? version : std::string(kCurrentVersion);
    json::array a;
    for (const auto& v : supported_versions()) a.emplace_back(v);
    o["supportedVersions"] = std::move(a);
    return {0, go_marshal(json::value(std::move(o)))};
  }
  if (command.empty()) return error_reply({kInvalidEnvironment, "CNI_COMMAND is not set", {}}, version);
  if (ec || !conf.is_object()) {
    return error_reply({kDecodeFailure, "cannot decode the network configuration on stdin",
                        ec ? ec.message() : std::string("not a JSON object")},
                       version);
  }
  if (!result_version_supported(version)) {
    return error_reply({kIncompatibleVersion, "incompatible CNI versions",
                        "config is \"" + version + "\", plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"},
                       "1.1.0");
  }
  const auto& o = conf.get_object();
  auto str = [&](std::string_view key, std::string fallback) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : fallback;
  };
  std::string outer_name = str("name", "");
  std::string conf_dir = str("confDir", "/etc/cni/net.d");
  RuntimeOptions options{.cache_dir = str("cacheDir", "/var/lib/cni")};
  if (auto b = o.find("binDir"); b != o.end() && b->value().is_array()) {
    options.bin_dirs.clear();
    for (const auto& d : b->value().get_array()) {
      if (d.is_string()) options.bin_dirs.emplace_back(d.get_string());
    }
  } else if (b != o.end() && b->value().is_string()) {
    options.bin_dirs = split_path(b->value().get_string());
  } else if (auto p = env_or(inv, "CNI_PATH"); !p.empty()) {
    options.bin_dirs = split_path(p);
  }
  if (auto t = o.find("timeoutSeconds"); t != o.end() && t->value().is_number()) {
    options.plugin_timeout = std::chrono::milliseconds(static_cast<long long>(t->value().to_number<double>() * 1000));
  }

  auto loaded = load_network(conf_dir, str("network", ""));
  if (!loaded) return error_reply({kInvalidNetworkConfig, "knode-cni: cannot load the network", loaded.error().message()}, version);
  const NetworkConfigList& inner = loaded->list;
  for (const auto& p : inner.plugins) {
    if (p.type == kSelfType) {
      return error_reply({kInvalidNetworkConfig, "knode-cni: the network in " + conf_dir + " calls knode-cni itself",
                          "point confDir at the node's real CNI configuration"},
                         version);
    }
  }
  if (inner.name == outer_name) {
    // Both caches would be one file: <cacheDir>/results/<name>-<id>-<ifname>.
    return error_reply({kInvalidNetworkConfig, "knode-cni: the outer and inner networks are both named \"" + outer_name + "\"",
                        "give the knode-cni conf its own name"},
                       version);
  }

  Runtime runtime(exec, options);
  PluginError failure{kInternal, {}, {}};
  // The runtime fills `failure` (a plugin's own error verbatim); the message is the fallback.
  auto failed = [&](const Error& e) {
    if (failure.msg.empty()) failure = {kInternal, e.message(), {}};
    return error_reply(failure, version);
  };
  if (command == "STATUS") {
    if (auto st = runtime.status(inner, &failure); !st) return failed(st.error());
    return {0, {}};
  }
  if (command == "GC") {
    std::vector<Attachment> valid;
    if (auto v = o.find("cni.dev/valid-attachments"); v != o.end() && v->value().is_array()) {
      for (const auto& a : v->value().get_array()) {
        if (!a.is_object()) continue;
        Attachment at;
        if (auto c = a.get_object().find("containerID"); c != a.get_object().end() && c->value().is_string()) {
          at.container_id = std::string(c->value().get_string());
        }
        if (auto c = a.get_object().find("ifname"); c != a.get_object().end() && c->value().is_string()) {
          at.ifname = std::string(c->value().get_string());
        }
        valid.push_back(std::move(at));
      }
    }
    if (auto st = runtime.gc(inner, valid, &failure); !st) {
      failure = {kInternal, {}, {}};  // GC reports all its failures together, in the message
      return failed(st.error());
    }
    return {0, {}};
  }

  RuntimeConf rt{.container_id = env_or(inv, "CNI_CONTAINERID"),
                 .netns = env_or(inv, "CNI_NETNS"),
                 .ifname = env_or(inv, "CNI_IFNAME")};
  auto args = parse_cni_args(env_or(inv, "CNI_ARGS"));
  if (!args) return error_reply({kInvalidEnvironment, args.error().message(), {}}, version);
  rt.args = std::move(*args);
  if (auto rc = o.find("runtimeConfig"); rc != o.end() && rc->value().is_object()) {
    for (const auto& kv : rc->value().get_object()) rt.capability_args[std::string(kv.key())] = go_marshal(kv.value());
  }

  if (command == "ADD") {
    if (rt.netns.empty()) return error_reply({kInvalidEnvironment, "CNI_NETNS is not set", {}}, version);
    auto r = runtime.add(inner, rt, &failure);
    if (!r) return failed(r.error());
    auto text = result_to_json(*r, version);
    if (!text) return error_reply({kInternal, text.error().message(), {}}, version);
    return {0, *text};
  }
  if (command == "DEL") {
    if (auto st = runtime.del(inner, rt, &failure); !st) return failed(st.error());
    return {0, {}};
  }
  if (command == "CHECK") {
    if (auto st = runtime.check(inner, rt, &failure); !st) return failed(st.error());
    return {0, {}};
  }
  return error_reply({kInvalidEnvironment, "unknown CNI_COMMAND \"" + command + "\"", {}}, version);
}

int plugin_process_main() {
  PluginInvocation inv;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "CNI_", 4) != 0) continue;
    const char* eq = std::strchr(*e, '=');
    if (eq) inv.env[std::string(*e, static_cast<size_t>(eq - *e))] = std::string(eq + 1);
  }
  if (inv.env.count("CNI_COMMAND") && inv.env["CNI_COMMAND"] != "VERSION") {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(0, buf, sizeof buf)) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      inv.stdin_data.append(buf, static_cast<size_t>(n));
    }
  } else if (inv.env.count("CNI_COMMAND")) {
    char buf[4096];
    ssize_t n;  // VERSION's stdin is optional; read it when it is there
    while ((n = ::read(0, buf, sizeof buf)) > 0) inv.stdin_data.append(buf, static_cast<size_t>(n));
  }
  ProcessExecutor exec;
  PluginReply r = run_plugin_mode(inv, exec);
  size_t off = 0;
  while (off < r.stdout_data.size()) {
    ssize_t w = ::write(1, r.stdout_data.data() + off, r.stdout_data.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  return r.exit_code;
}

std::string handler_conflist(const HandlerConf& conf) {
  auto q = [](std::string_view v) { return json::serialize(json::string(v)); };
  std::string bins;
  for (const auto& d : conf.bin_dirs) bins += (bins.empty() ? "" : ":") + d;
  std::string out = "{\n  \"cniVersion\": \"1.0.0\",\n  \"name\": " + q(conf.name) +
                    ",\n  \"plugins\": [\n    {\n      \"type\": \"knode-cni\",\n";
  out += "      \"confDir\": " + q(conf.conf_dir) + ",\n";
  out += "      \"binDir\": " + q(bins) + ",\n";
  out += "      \"cacheDir\": " + q(conf.cache_dir) + ",\n";
  out += "      \"timeoutSeconds\": " + std::to_string(conf.timeout_seconds) + ",\n";
  out += "      \"capabilities\": {\n";
  const char* caps[] = {"portMappings", "bandwidth", "dns", "ipRanges", "ips", "mac", "cgroupPath"};
  for (size_t i = 0; i < std::size(caps); ++i)
    out += std::string("        \"") + caps[i] + "\": true" + (i + 1 < std::size(caps) ? ",\n" : "\n");
  out += "      }\n    }\n  ]\n}\n";
  return out;
}

}  // namespace knode::cni
