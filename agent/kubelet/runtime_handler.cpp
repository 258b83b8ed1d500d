#include "agent/kubelet/runtime_handler.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/base/log.h"
#include "cri/types.h"

namespace knode::kubelet {
namespace json = boost::json;

RuntimeHandlerInfo runtime_handler_info(const cri::v1::StatusResponse& status, const std::string& name) {
  RuntimeHandlerInfo info;
  for (const auto& h : status.runtime_handlers()) {
    info.reported = true;
    if (!h.name().empty()) info.names.push_back(h.name());
  }
  // containerd 1.6: the CRI plugin's configuration as JSON in the verbose info.
  auto cfg = status.info().find("config");
  if (cfg != status.info().end()) {
    boost::system::error_code ec;
    json::value v = json::parse(cfg->second, ec);
    const json::object* runtimes = nullptr;
    if (!ec && v.is_object())
      if (auto* c = v.get_object().if_contains("containerd"); c && c->is_object())
        if (auto* r = c->get_object().if_contains("runtimes"); r && r->is_object()) runtimes = &r->get_object();
    if (runtimes) {
      info.config_shown = true;
      if (!info.reported) {
        info.reported = true;
        for (const auto& [k, _] : *runtimes) info.names.emplace_back(k);
      }
      if (auto* h = runtimes->if_contains(name); h && h->is_object())
        if (auto* d = h->get_object().if_contains("cniConfDir"); d && d->is_string())
          info.cni_conf_dir = std::string(d->get_string());
    }
  }
  for (const auto& n : info.names) info.known = info.known || n == name;
  return info;
}

Result<bool> write_in_place_if_changed(const std::string& path, const std::string& content) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str() == content) return false;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.flush();
  if (!out) return Error("cannot write " + path);
  return true;
}

Result<std::string> prepare_knode_handler(cri::Runtime& runtime, const std::string& name,
                                          const cni::HandlerConf& conf) {
  auto st = runtime.RuntimeStatus(true);
  if (!st) return st.error().wrap("cannot read the container runtime's status");
  return prepare_knode_handler(*st, name, conf);
}

Result<std::string> prepare_knode_handler(const cri::v1::StatusResponse& status, const std::string& name,
                                          const cni::HandlerConf& conf) {
  const RuntimeHandlerInfo info = runtime_handler_info(status, name);
  if (info.reported && !info.known) {
    std::string have;
    for (const auto& n : info.names) have += (have.empty() ? "" : ", ") + n;
    return Error("the container runtime has no runtime handler \"" + name + "\" (it has: " + have +
                 "); add it to the runtime's configuration (knode's cni/containerd/config.toml) and restart the "
                 "runtime");
  }
  std::string dir = info.cni_conf_dir;
  if (dir.empty()) {
    if (info.config_shown)
      return Error("runtime handler \"" + name + "\" has no cni_conf_dir: its pods would get the runtime's default "
                   "network, not knode's; set cni_conf_dir for it (knode's cni/containerd/config.toml)");
    dir = kDefaultHandlerConfDir;
  }
  std::string path = dir + "/" + kHandlerConfFile;
  auto wrote = write_in_place_if_changed(path, cni::handler_conflist(conf));
  if (!wrote) return wrote.error().wrap("runtime handler \"" + name + "\"");
  if (*wrote)
    log::info("Wrote the runtime handler's CNI configuration", "handler", name, "file", path, "cniConfDir",
              conf.conf_dir);
  return path;
}

}  // namespace knode::kubelet
