#include "cni/runtime.h"

#include <signal.h>
#include <string.h>

#include <boost/json.hpp>

#include "agent/base/log.h"
#include "cni/go_json.h"
#include "cni/result_json.h"
#include "cni/version.h"

namespace knode::cni {
namespace json = boost::json;

struct Runtime::Call {
  const NetworkConfigList& list;
  const PluginConfig& plugin;
  std::string command;                         // ADD, DEL, CHECK, STATUS, GC
  const RuntimeConf* rt = nullptr;             // absent for STATUS and GC
  const PluginResult* prev = nullptr;
  const std::vector<Attachment>* valid = nullptr;  // GC
};

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string describe(const PluginConfig& p) {
  std::string d = "plugin type=\"" + p.type + "\"";
  if (!p.name.empty()) d += " name=\"" + p.name + "\"";
  return d;
}

std::string excerpt(std::string_view s, size_t max = 512) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

// Why a finished invocation failed, in words; fills `pe` (verbatim when the plugin printed an error,
// and then sets `from_plugin`).
std::string explain(const ExecOutput& out, const ExecRequest& req, PluginError& pe, bool& from_plugin) {
  std::string why;
  if (out.timed_out) {
    why = "timed out after " + std::to_string(req.timeout.count()) + "ms and was killed";
  } else if (out.term_signal != 0) {
    const char* name = strsignal(out.term_signal);
    why = "killed by signal " + std::to_string(out.term_signal) + (name ? std::string(" (") + name + ")" : "");
  } else if (auto e = parse_plugin_error(out.stdout_data)) {
    pe = *e;
    from_plugin = true;
    return e->text();
  } else {
    why = "exit status " + std::to_string(out.exit_code);
    if (!out.stdout_data.empty()) why += "; stdout: " + excerpt(out.stdout_data);
  }
  if (!out.stderr_data.empty()) why += "; stderr: " + excerpt(out.stderr_data);
  pe = PluginError{kInternal, why, {}};
  return why;
}

// The highest version both sides speak that can carry `command`, at most the list's version.
std::optional<std::string> negotiate(const std::vector<std::string>& plugin_versions, std::string_view list_version,
                                     std::string_view command) {
  std::string_view floor = "0.3.0";
  if (command == "CHECK") floor = "0.4.0";
  if (command == "STATUS" || command == "GC") floor = "1.1.0";
  std::optional<std::string> best;
  for (const auto& v : plugin_versions) {
    if (!result_version_supported(v) || !version_at_least(v, floor) || !version_at_least(list_version, v)) continue;
    if (!best || !version_at_least(*best, v)) best = v;
  }
  return best;
}

bool in_list(const std::vector<std::string>& l, std::string_view v) {
  for (const auto& x : l) {
    if (x == v) return true;
  }
  return false;
}

}  // namespace

Runtime::Runtime(Executor& exec, RuntimeOptions options)
    : exec_(exec), options_(std::move(options)), cache_(options_.cache_dir) {}

Result<std::string> Runtime::stdin_for(const Call& c, std::string_view version) const {
  boost::system::error_code ec;
  json::value conf = json::parse(c.plugin.bytes, ec);
  if (ec || !conf.is_object()) return Error("plugin configuration is not a JSON object");
  auto& o = conf.get_object();
  o["name"] = c.list.name;
  o["cniVersion"] = version;
  // DEL carries prevResult from 0.4.0 on; ADD and CHECK whenever there is one.
  if (c.prev && (c.command != "DEL" || version_at_least(version, "0.4.0"))) {
    auto pr = result_to_object(*c.prev, version);
    if (!pr) return pr.error();
    o["prevResult"] = std::move(*pr);
  }
  if (c.valid) {
    json::array a;
    for (const auto& v : *c.valid) a.push_back(json::object{{"containerID", v.container_id}, {"ifname", v.ifname}});
    o["cni.dev/valid-attachments"] = std::move(a);
  }
  sort_keys(o, false);  // Go marshals the injected map with sorted keys
  if (c.rt) {
    json::object rc;
    for (const auto& [cap, enabled] : c.plugin.capabilities) {
      if (!enabled) continue;
      auto it = c.rt->capability_args.find(cap);
      if (it == c.rt->capability_args.end()) continue;
      json::value v = json::parse(it->second, ec);
      if (ec) return Error("capability argument \"" + cap + "\" is not JSON: " + ec.message());
      rc[cap] = std::move(v);
    }
    if (!rc.empty()) {
      o["runtimeConfig"] = std::move(rc);
      sort_keys(conf);  // libcni re-encodes the whole document once more to add runtimeConfig
    }
  }
  return go_marshal(conf);
}

Result<std::vector<std::string>> Runtime::plugin_versions(const std::string& path, const NetworkConfigList& list) {
  {
    std::lock_guard lock(versions_mu_);
    if (auto it = versions_.find(path); it != versions_.end()) return it->second;
  }
  ExecRequest req{.path = path,
                  .env = {"CNI_COMMAND=VERSION"},
                  .stdin_data = "{\"cniVersion\":\"" + list.cni_version + "\"}",
                  .timeout = options_.plugin_timeout};
  auto out = exec_.run(req);
  if (!out) return out.error();
  std::vector<std::string> versions;
  boost::system::error_code ec;
  json::value v = json::parse(out->stdout_data, ec);
  if (out->success() && !ec && v.is_object()) {
    if (auto s = v.get_object().find("supportedVersions"); s != v.get_object().end() && s->value().is_array()) {
      for (const auto& e : s->value().get_array()) {
        if (e.is_string()) versions.emplace_back(e.get_string());
      }
    }
  }
  if (versions.empty()) versions = {"0.1.0", "0.2.0"};  // plugins from before VERSION existed
  std::lock_guard lock(versions_mu_);
  versions_[path] = versions;
  return versions;
}

Result<std::optional<PluginResult>> Runtime::invoke(const Call& c, PluginError* failure) {
  const std::string what = describe(c.plugin) + " failed (" + lower(c.command) + ")";
  // The plugin's own error JSON is kept as it printed it; knode's failures get the whole story in msg.
  auto fail = [&](const std::string& why, PluginError pe, bool from_plugin = false) -> Error {
    if (!from_plugin) pe.msg = what + ": " + why;
    if (failure) *failure = pe;
    return Error(what + ": " + why);
  };
  auto path = exec_.find_plugin(c.plugin.type, options_.bin_dirs);
  if (!path) return fail(path.error().message(), {kInternal, path.error().message(), {}});

  std::vector<std::string> env = {"CNI_COMMAND=" + c.command};
  if (c.rt) {
    env.push_back("CNI_CONTAINERID=" + c.rt->container_id);
    env.push_back("CNI_NETNS=" + c.rt->netns);
    env.push_back("CNI_IFNAME=" + c.rt->ifname);
    env.push_back("CNI_ARGS=" + format_cni_args(c.rt->args));
  }
  std::string cni_path;
  for (const auto& d : options_.bin_dirs) cni_path += (cni_path.empty() ? "" : ":") + d;
  env.push_back("CNI_PATH=" + cni_path);

  // Use the list's version unless this plugin is known not to speak it.
  std::string version = c.list.cni_version;
  bool negotiated = false;
  std::optional<std::vector<std::string>> known;
  {
    std::lock_guard lock(versions_mu_);
    if (auto it = versions_.find(*path); it != versions_.end()) known = it->second;
  }
  if (!known && (c.command == "STATUS" || c.command == "GC")) {
    // Plugins older than 1.1 do not know these commands and fail them in their own ways (e.g.
    // "missing containerID"), not with "incompatible CNI versions": ask which versions they speak.
    if (auto v = plugin_versions(*path, c.list)) known = std::move(*v);
  }
  if (known && !in_list(*known, version)) {
    auto v = negotiate(*known, c.list.cni_version, c.command);
    if (!v) {
      if (c.command == "CHECK" || c.command == "STATUS" || c.command == "GC") return std::optional<PluginResult>();
      return fail("plugin does not support CNI version " + version, {kIncompatibleVersion, "incompatible CNI versions", {}});
    }
    version = *v;
    negotiated = true;
  }

  while (true) {
    auto in = stdin_for(c, version);
    if (!in) return fail(in.error().message(), {kInternal, in.error().message(), {}});
    ExecRequest req{.path = *path, .env = env, .stdin_data = std::move(*in), .timeout = options_.plugin_timeout};
    if (log::V(4)) log::info("Invoking CNI plugin", "command", c.command, "path", *path, "cniVersion", version);
    auto out = exec_.run(req);
    if (!out) return fail(out.error().message(), {kInternal, out.error().message(), {}});
    if (!out->stderr_data.empty() && log::V(4)) log::info("CNI plugin stderr", "path", *path, "stderr", out->stderr_data);
    if (!out->success()) {
      PluginError pe;
      bool from_plugin = false;
      std::string why = explain(*out, req, pe, from_plugin);
      // A plugin that does not speak this version says so with code 1: ask it which it speaks and
      // retry with the configuration (and prevResult) translated to the best common version.
      if (pe.code == kIncompatibleVersion && !out->timed_out && out->term_signal == 0 && !negotiated) {
        auto versions = plugin_versions(*path, c.list);
        if (versions) {
          auto v = negotiate(*versions, c.list.cni_version, c.command);
          if (v && *v != version) {
            log::infov(2, "Negotiated CNI version with plugin", "plugin", c.plugin.type, "listVersion",
                       c.list.cni_version, "version", *v);
            version = *v;
            negotiated = true;
            continue;
          }
          if (!v && (c.command == "CHECK" || c.command == "STATUS" || c.command == "GC")) {
            return std::optional<PluginResult>();  // it does not implement this command
          }
          std::string sv;
          for (const auto& s : *versions) sv += (sv.empty() ? "" : ", ") + s;
          why += " (plugin supports " + sv + "; network uses " + c.list.cni_version + ")";
        }
      }
      return fail(why, pe, from_plugin);
    }
    if (c.command != "ADD") return std::optional<PluginResult>();
    auto r = parse_result(out->stdout_data);
    if (!r) {
      std::string why = "invalid result: " + r.error().message() + "; stdout: \"" + excerpt(out->stdout_data) + "\"";
      return fail(why, {kDecodeFailure, why, {}});
    }
    return std::optional<PluginResult>(std::move(*r));
  }
}

std::string Runtime::rollback(const NetworkConfigList& list, const RuntimeConf& rt,
                              const std::optional<PluginResult>& prev) {
  std::string errors;
  for (auto it = list.plugins.rbegin(); it != list.plugins.rend(); ++it) {
    Call c{.list = list, .plugin = *it, .command = "DEL", .rt = &rt, .prev = prev ? &*prev : nullptr};
    auto r = invoke(c, nullptr);
    if (!r) errors += "; " + r.error().message();
  }
  if (!errors.empty()) return "; undoing the ADD with DEL also failed" + errors;
  return {};
}

Result<PluginResult> Runtime::add(const NetworkConfigList& list, const RuntimeConf& rt, PluginError* failure) {
  for (const Status& st : {validate_container_id(rt.container_id), validate_interface_name(rt.ifname),
                           validate_network_name(list.name)}) {
    if (!st) {
      if (failure) *failure = {kInvalidEnvironment, st.message(), {}};
      return st.error();
    }
  }
  if (list.plugins.empty()) return Error("network \"" + list.name + "\" has no plugins");
  std::optional<PluginResult> prev;
  for (const auto& p : list.plugins) {
    Call c{.list = list, .plugin = p, .command = "ADD", .rt = &rt, .prev = prev ? &*prev : nullptr};
    auto r = invoke(c, failure);
    if (!r) {
      std::string undo = rollback(list, rt, prev);
      return Error("network \"" + list.name + "\": " + r.error().message() + undo);
    }
    prev = std::move(**r);
  }
  prev->cni_version = list.cni_version;
  CacheEntry entry{.container_id = rt.container_id,
                   .network_name = list.name,
                   .ifname = rt.ifname,
                   .netns = rt.netns,
                   .config = list.bytes,
                   .cni_args = rt.args,
                   .capability_args = rt.capability_args,
                   .result = prev};
  if (auto st = cache_.write(entry); !st) {
    std::string undo = rollback(list, rt, prev);
    if (failure) *failure = {kIOFailure, st.message(), {}};
    return Error("network \"" + list.name + "\": failed to set cached result: " + st.message() + undo);
  }
  return std::move(*prev);
}

Status Runtime::del(const NetworkConfigList& list, const RuntimeConf& rt, PluginError* failure) {
  for (const Status& st : {validate_container_id(rt.container_id), validate_interface_name(rt.ifname)}) {
    if (!st) {
      if (failure) *failure = {kInvalidEnvironment, st.message(), {}};
      return st.error();
    }
  }
  std::optional<PluginResult> prev;
  if (version_at_least(list.cni_version, "0.4.0")) {
    auto cached = cache_.read(list.name, rt.container_id, rt.ifname);
    if (!cached) {
      log::warning("Ignoring unreadable cached CNI result", "error", cached.error().message());
      (void)cache_.remove(list.name, rt.container_id, rt.ifname);
    } else if (*cached && (*cached)->result) {
      prev = (*cached)->result;
    }
  }
  for (auto it = list.plugins.rbegin(); it != list.plugins.rend(); ++it) {
    Call c{.list = list, .plugin = *it, .command = "DEL", .rt = &rt, .prev = prev ? &*prev : nullptr};
    auto r = invoke(c, failure);
    if (!r) return Error("network \"" + list.name + "\": " + r.error().message());
  }
  return cache_.remove(list.name, rt.container_id, rt.ifname);
}

Status Runtime::check(const NetworkConfigList& list, const RuntimeConf& rt, PluginError* failure) {
  if (!version_at_least(list.cni_version, "0.4.0")) {
    if (failure) *failure = {kIncompatibleVersion, "CHECK needs CNI version 0.4.0 or later", {}};
    return Error("network \"" + list.name + "\": configuration version \"" + list.cni_version +
                 "\" does not support the CHECK command");
  }
  if (list.disable_check) return {};
  auto cached = cache_.read(list.name, rt.container_id, rt.ifname);
  if (!cached) {
    if (failure) *failure = {kIOFailure, cached.error().message(), {}};
    return Error("network \"" + list.name + "\": failed to get cached result: " + cached.error().message());
  }
  if (!*cached || !(*cached)->result) {
    if (failure) *failure = {kUnknownContainer, "no cached result", {}};
    return Error("network \"" + list.name + "\": no cached result for container " + rt.container_id + " interface " +
                 rt.ifname + " (it was not added, or was deleted)");
  }
  const PluginResult& prev = *(*cached)->result;
  for (const auto& p : list.plugins) {
    Call c{.list = list, .plugin = p, .command = "CHECK", .rt = &rt, .prev = &prev};
    auto r = invoke(c, failure);
    if (!r) return Error("network \"" + list.name + "\": " + r.error().message());
  }
  return {};
}

Status Runtime::status(const NetworkConfigList& list, PluginError* failure) {
  if (!version_at_least(list.cni_version, "1.1.0")) return {};
  for (const auto& p : list.plugins) {
    Call c{.list = list, .plugin = p, .command = "STATUS"};
    auto r = invoke(c, failure);
    if (!r) return Error("network \"" + list.name + "\": " + r.error().message());
  }
  return {};
}

Status Runtime::gc(const NetworkConfigList& list, const std::vector<Attachment>& valid, PluginError* failure) {
  std::string errors;
  for (const auto& e : cache_.list()) {
    if (e.network_name != list.name) continue;
    bool keep = false;
    for (const auto& v : valid) keep = keep || (v.container_id == e.container_id && v.ifname == e.ifname);
    if (keep) continue;
    RuntimeConf rt{.container_id = e.container_id,
                   .netns = e.netns,
                   .ifname = e.ifname,
                   .args = e.cni_args,
                   .capability_args = e.capability_args};
    // DEL with the configuration the attachment was made with, when it is still readable.
    auto cached_list = parse_network_list(e.config, cache_.path(e.network_name, e.container_id, e.ifname));
    const NetworkConfigList& use = cached_list && cached_list->name == list.name ? *cached_list : list;
    log::info("Deleting stale CNI attachment", "network", list.name, "containerID", e.container_id, "ifname",
              e.ifname);
    if (auto st = del(use, rt, failure); !st) {
      errors += (errors.empty() ? "" : "; ") + std::string("failed to delete stale attachment ") + e.container_id +
                " " + e.ifname + ": " + st.message();
    }
  }
  if (version_at_least(list.cni_version, "1.1.0") && !list.disable_gc) {
    for (const auto& p : list.plugins) {
      Call c{.list = list, .plugin = p, .command = "GC", .valid = &valid};
      auto r = invoke(c, failure);
      if (!r) errors += (errors.empty() ? "" : "; ") + r.error().message();
    }
  }
  if (!errors.empty()) return Error("network \"" + list.name + "\": " + errors);
  return {};
}

Result<std::optional<CacheEntry>> Runtime::cached(const NetworkConfigList& list, const RuntimeConf& rt) const {
  return cache_.read(list.name, rt.container_id, rt.ifname);
}

}  // namespace knode::cni
