#include "agent/proxy/cleanup.h"

#include <map>
#include <set>
#include <sstream>

#include "agent/base/log.h"
#include "netrules/exec.h"

namespace knode::proxy {
namespace {

bool proxy_chain(const std::string& c) {
  static const std::set<std::string> fixed = {
      "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-FORWARD",
      "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY"};  // KUBE-MARK-MASQ/DROP are shared with the kubelet
  if (fixed.count(c)) return true;
  for (const char* prefix : {"KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-EXT-", "KUBE-FW-", "KUBE-XLB-"})
    if (c.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

std::string iptables_cleanup_payload(const std::string& save_text) {
  // table -> (jumps to delete, chains to flush and delete)
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> tables;
  std::vector<std::string> order;
  std::string table;
  std::istringstream in(save_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      table = line.substr(1);
      if (!tables.count(table)) order.push_back(table);
      tables[table];
      continue;
    }
    if (line[0] == ':') {
      std::string chain = line.substr(1, line.find(' ') - 1);
      if (proxy_chain(chain)) tables[table].second.push_back(chain);
      continue;
    }
    if (line.rfind("-A ", 0) == 0) {
      std::istringstream ls(line.substr(3));
      std::string chain;
      ls >> chain;
      auto j = line.find(" -j ");
      if (j == std::string::npos) continue;
      std::string target = line.substr(j + 4);
      target = target.substr(0, target.find(' '));
      // Jumps from chains we do not own (built-ins, the kubelet's) into ours.
      if (proxy_chain(target) && !proxy_chain(chain)) tables[table].first.push_back("-D " + line.substr(3));
    }
  }
  std::string out;
  for (const auto& t : order) {
    auto& [jumps, chains] = tables[t];
    if (jumps.empty() && chains.empty()) continue;
    out += "*" + t + "\n";
    for (const auto& c : chains) out += ":" + c + " - [0:0]\n";
    for (const auto& j : jumps) out += j + "\n";
    for (const auto& c : chains) out += "-X " + c + "\n";
    out += "COMMIT\n";
  }
  return out;
}

Result<std::vector<std::string>> cleanup_all() {
  std::vector<std::string> done;
  std::string first_error;
  for (const char* flavour : {"nft", "legacy"}) {
    for (const char* v : {"iptables", "ip6tables"}) {
      std::string save = std::string(v) + "-" + flavour + "-save";
      std::string restore = std::string(v) + "-" + flavour + "-restore";
      auto s = netrules::run_program({save});
      if (!s || s->exit_code != 0) continue;  // flavour not installed or no tables
      std::string payload = iptables_cleanup_payload(s->out);
      if (payload.empty()) continue;
      auto r = netrules::run_program({restore, "--noflush", "-w", "5"}, payload);
      if (!r || r->exit_code != 0) {
        std::string e = r ? r->err : r.error().message();
        log::error_msg("Failed to remove iptables rules", "tool", restore, "error", e);
        if (first_error.empty()) first_error = restore + ": " + e;
        continue;
      }
      done.push_back(std::string(v) + "-" + flavour + ": removed kube-proxy chains");
    }
  }
  for (const char* family : {"ip", "ip6"}) {
    auto l = netrules::run_program({"nft", "list", "table", family, "kube-proxy"});
    if (!l || l->exit_code != 0) continue;
    auto d = netrules::run_program({"nft", "delete", "table", family, "kube-proxy"});
    if (!d || d->exit_code != 0) {
      if (first_error.empty()) first_error = std::string("nft delete table ") + family + " kube-proxy failed";
      continue;
    }
    done.push_back(std::string("nftables: deleted table ") + family + " kube-proxy");
  }
  if (!first_error.empty()) return Error(first_error);
  return done;
}

}  // namespace knode::proxy
