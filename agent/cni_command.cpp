// `knode cni add|check|del|status|gc [flags]`: an operator's cnitool on the cni/ library, and
// `knode cni plugin`: knode answering as the knode-cni CNI plugin (environment + stdin).
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "agent/base/log.h"
#include "agent/roles.h"
#include "cni/go_json.h"
#include "cni/network_config.h"
#include "cni/plugin_mode.h"
#include "cni/process_executor.h"
#include "cni/runtime.h"

namespace knode {
namespace {

constexpr const char* kUsage =
    "Usage:\n"
    "  knode cni add|check|del --netns PATH --container-id ID [flags]\n"
    "  knode cni status|gc [flags]\n"
    "  knode cni plugin        (run as the knode-cni CNI plugin: CNI_* environment, config on stdin)\n\n"
    "Flags:\n"
    "  --conf-dir DIR            network configurations (default /etc/cni/net.d)\n"
    "  --bin-dir DIR[:DIR...]    plugin directories (default /opt/cni/bin:/usr/lib/cni)\n"
    "  --cache-dir DIR           result cache (default /var/lib/cni)\n"
    "  --network NAME            use this network (default: the first valid configuration)\n"
    "  --ifname IF               interface in the container (default eth0)\n"
    "  --args K=V;...            CNI_ARGS\n"
    "  --cap-args JSON           capability arguments, e.g. '{\"portMappings\":[...]}'\n"
    "  --valid-attachments JSON  gc: [{\"containerID\":\"...\",\"ifname\":\"eth0\"}, ...] to keep\n"
    "  --timeout SECONDS         per-plugin timeout (default 60)\n"
    "  -v N                      log verbosity\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "knode cni: %s\n\n%s", msg.c_str(), kUsage);
  return 2;
}

std::vector<std::string> split_colon(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(':', start);
    std::string part = s.substr(start, c == std::string::npos ? std::string::npos : c - start);
    if (!part.empty()) out.push_back(part);
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

}  // namespace

int cni_main(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fprintf(args.empty() ? stderr : stdout, "%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  if (cmd == "plugin") return cni::plugin_process_main();
  if (cmd != "add" && cmd != "check" && cmd != "del" && cmd != "status" && cmd != "gc") {
    return usage_error("unknown command \"" + cmd + "\"");
  }
  std::map<std::string, std::string> flags = {{"conf-dir", "/etc/cni/net.d"},
                                              {"bin-dir", "/opt/cni/bin:/usr/lib/cni"},
                                              {"cache-dir", "/var/lib/cni"},
                                              {"ifname", "eth0"},
                                              {"timeout", "60"}};
  static const char* kKnown[] = {"netns", "container-id", "conf-dir", "bin-dir", "cache-dir", "network", "ifname",
                                 "args", "cap-args", "valid-attachments", "timeout", "v"};
  for (size_t i = 1; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) == 0) a = a.substr(2);
    else if (a.rfind("-", 0) == 0) a = a.substr(1);
    else return usage_error("unexpected argument \"" + args[i] + "\"");
    std::string value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usage_error("flag --" + a + " needs a value");
    }
    bool known = false;
    for (const char* k : kKnown) known = known || a == k;
    if (!known) return usage_error("unknown flag --" + a);
    flags[a] = value;
  }
  if (flags.count("v")) {
    log::Options lo;
    lo.verbosity = std::atoi(flags["v"].c_str());
    (void)log::configure(lo);
  }

  cni::RuntimeOptions options{.bin_dirs = split_colon(flags["bin-dir"]), .cache_dir = flags["cache-dir"]};
  double timeout = std::atof(flags["timeout"].c_str());
  if (timeout <= 0) return usage_error("--timeout must be a positive number of seconds");
  options.plugin_timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));

  auto loaded = cni::load_network(flags["conf-dir"], flags.count("network") ? flags["network"] : "");
  if (!loaded) {
    std::fprintf(stderr, "knode cni: %s\n", loaded.error().message().c_str());
    return 1;
  }
  for (const auto& s : loaded->skipped) log::warning("Skipped invalid CNI configuration", "reason", s);
  const cni::NetworkConfigList& list = loaded->list;

  cni::RuntimeConf rt{.container_id = flags["container-id"], .netns = flags["netns"], .ifname = flags["ifname"]};
  if (flags.count("args")) {
    auto a = cni::parse_cni_args(flags["args"]);
    if (!a) return usage_error(a.error().message());
    rt.args = std::move(*a);
  }
  if (flags.count("cap-args")) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(flags["cap-args"], ec);
    if (ec || !v.is_object()) return usage_error("--cap-args must be a JSON object");
    for (const auto& kv : v.get_object()) rt.capability_args[std::string(kv.key())] = cni::go_marshal(kv.value());
  }
  if ((cmd == "add" || cmd == "check" || cmd == "del") && rt.container_id.empty()) {
    return usage_error("--container-id is required for " + cmd);
  }
  if ((cmd == "add" || cmd == "check") && rt.netns.empty()) return usage_error("--netns is required for " + cmd);

  cni::ProcessExecutor exec;
  cni::Runtime runtime(exec, options);
  Status st;
  if (cmd == "add") {
    auto r = runtime.add(list, rt);
    if (!r) {
      std::fprintf(stderr, "knode cni: %s\n", r.error().message().c_str());
      return 1;
    }
    auto text = cni::result_to_json(*r, list.cni_version, "    ");
    if (!text) {
      std::fprintf(stderr, "knode cni: %s\n", text.error().message().c_str());
      return 1;
    }
    std::printf("%s\n", text->c_str());
    return 0;
  }
  if (cmd == "check") st = runtime.check(list, rt);
  if (cmd == "del") st = runtime.del(list, rt);
  if (cmd == "status") st = runtime.status(list);
  if (cmd == "gc") {
    std::vector<cni::Attachment> valid;
    if (flags.count("valid-attachments")) {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(flags["valid-attachments"], ec);
      if (ec || !v.is_array()) return usage_error("--valid-attachments must be a JSON array");
      for (const auto& e : v.get_array()) {
        if (!e.is_object()) return usage_error("--valid-attachments entries must be objects");
        cni::Attachment at;
        if (auto* c = e.get_object().if_contains("containerID"); c && c->is_string()) at.container_id = c->get_string();
        if (auto* c = e.get_object().if_contains("ifname"); c && c->is_string()) at.ifname = c->get_string();
        valid.push_back(std::move(at));
      }
    }
    st = runtime.gc(list, valid);
  }
  if (!st) {
    std::fprintf(stderr, "knode cni: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace knode
