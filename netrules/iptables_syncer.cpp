#include "netrules/iptables_syncer.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "agent/base/log.h"
#include "netrules/chain_names.h"
#include "netrules/iptables_state.h"

namespace knode::netrules {
namespace {

uint64_t hash_rules(const std::vector<std::string>& rules) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& r : rules) {
    for (unsigned char c : r) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= '\n';
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= 0xff;
  h *= 1099511628211ull;
  return h;
}

// A service's share of the ruleset digest: its chains and its lines in shared chains.
uint64_t service_digest(const ServiceRuleset& rs) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& c : rs.nat_chains) {
    h = mix(h, c.name);
    for (const auto& r : c.rules) h = mix(h, r);
  }
  for (size_t i = 0; i < kSharedChainCount; ++i) {
    h = mix(h, shared_chain_name(static_cast<SharedChain>(i)));
    for (const auto& r : rs.shared[i]) h = mix(h, r);
  }
  return h;
}

uint64_t node_digest(const NodeRuleset& n) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& j : n.jumps) h = mix(mix(mix(h, j.table), j.from), j.rule);
  for (const auto& c : n.chains) {
    h = mix(mix(h, c.table), c.chain.name);
    for (const auto& r : c.chain.rules) h = mix(h, r);
  }
  for (const auto& r : n.nat_services_tail) h = mix(h, r);
  return h;
}

// Canonical comparison of what a chain holds with what it should hold.
bool same_rules(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  if (have.size() != want.size()) return false;
  for (size_t i = 0; i < have.size(); ++i)
    if (have[i] != want[i] && canonical_rule_text(have[i]) != canonical_rule_text(want[i])) return false;
  return true;
}

// One restore transaction, table by table: chain lines, deletions, rules, then chain removals.
struct Payload {
  struct Table {
    std::string decls, dels, rules, removals;
  };
  std::map<std::string, Table> tables;
  size_t rule_lines = 0;

  void declare(const std::string& table, const std::string& chain) {
    tables[table].decls += fmt::format(":{} - [0:0]\n", chain);
  }
  void write_chain(const std::string& table, const std::string& chain, const std::vector<std::string>& rules) {
    declare(table, chain);
    auto& t = tables[table].rules;
    for (const auto& r : rules) {
      t += "-A ";
      t += chain;
      if (!r.empty()) {
        t += ' ';
        t += r;
      }
      t += '\n';
    }
    rule_lines += rules.size();
  }
  void remove_chain(const std::string& table, const std::string& chain) {
    declare(table, chain);  // flushes it
    tables[table].removals += fmt::format("-X {}\n", chain);
  }
  void delete_rule(const std::string& table, const std::string& chain, const std::string& rule) {
    tables[table].dels += fmt::format("-D {} {}\n", chain, rule);
    ++rule_lines;
  }
  void insert_rule(const std::string& table, const std::string& chain, size_t pos, const std::string& rule) {
    tables[table].rules += fmt::format("-I {} {} {}\n", chain, pos, rule);
    ++rule_lines;
  }
  void append_rule(const std::string& table, const std::string& chain, const std::string& rule) {
    tables[table].rules += fmt::format("-A {} {}\n", chain, rule);
    ++rule_lines;
  }
  bool empty() const { return tables.empty(); }
  std::string render() const {
    std::string out;
    for (const char* name : {"filter", "nat", "mangle"}) {
      auto it = tables.find(name);
      if (it == tables.end()) continue;
      out += "*";
      out += name;
      out += '\n';
      out += it->second.decls;
      out += it->second.dels;
      out += it->second.rules;
      out += it->second.removals;
      out += "COMMIT\n";
    }
    return out;
  }
};

std::vector<std::string> compose_shared(SharedChain sc, const std::map<ServicePortName, ServiceRuleset>& built,
                                        const NodeRuleset& node) {
  std::vector<std::string> lines;
  for (const auto& [_, rs] : built) {
    const auto& v = rs.shared[static_cast<size_t>(sc)];
    lines.insert(lines.end(), v.begin(), v.end());
  }
  if (sc == SharedChain::NatServices)
    lines.insert(lines.end(), node.nat_services_tail.begin(), node.nat_services_tail.end());
  return lines;
}

// Everything a full sync writes, given what the tables hold now.
void plan_full(const IptablesState& current, const NodeRuleset& node,
               const std::map<ServicePortName, ServiceRuleset>& built, const std::string& stamp, Payload& p,
               SyncResult& res) {
  std::unordered_set<std::string> desired_nat;
  auto ensure = [&](const std::string& table, const std::string& chain, const std::vector<std::string>& rules) {
    if (table == "nat") desired_nat.insert(chain);
    const ChainState* c = current.chain(table, chain);
    if (c && same_rules(c->rules, rules)) return;
    p.write_chain(table, chain, rules);
    ++res.chains_written;
  };
  for (const auto& tc : node.chains) {
    if (tc.table == "nat" && tc.chain.name == kCanaryChain) {
      auto rules = tc.chain.rules;
      rules.push_back(stamp);
      ensure(tc.table, tc.chain.name, rules);
    } else {
      ensure(tc.table, tc.chain.name, tc.chain.rules);
    }
  }
  for (size_t i = 0; i < kSharedChainCount; ++i) {
    auto sc = static_cast<SharedChain>(i);
    ensure(shared_chain_table(sc), shared_chain_name(sc), compose_shared(sc, built, node));
  }
  for (const auto& [_, rs] : built)
    for (const auto& c : rs.nat_chains) ensure("nat", c.name, c.rules);
  if (const TableState* nat = current.table("nat"))
    for (const auto& name : nat->order)
      if (is_service_chain_name(name) && !desired_nat.count(name)) {
        p.remove_chain("nat", name);
        ++res.chains_deleted;
      }
  for (const auto& j : node.jumps) {
    const ChainState* from = current.chain(j.table, j.from);
    bool found = false;
    if (from) {
      std::string want = canonical_rule_text(j.rule);
      for (const auto& r : from->rules)
        if (r == j.rule || canonical_rule_text(r) == want) {
          found = true;
          break;
        }
    }
    if (!found) p.insert_rule(j.table, j.from, 1, j.rule);
  }
}

}  // namespace

IptablesSyncer::IptablesSyncer(Backend& backend, NodeSettings node) : backend_(backend), node_(std::move(node)) {}

void IptablesSyncer::update_service(ServicePort port, std::vector<Endpoint> endpoints) {
  ServicePortName name = port.name;
  Entry& e = services_[name];
  if (e.present) total_endpoints_ -= e.endpoints.size();
  if (e.present && e.port == port && e.endpoints == endpoints) {
    total_endpoints_ += e.endpoints.size();
    return;
  }
  e.present = true;
  e.port = std::move(port);
  e.endpoints = std::move(endpoints);
  total_endpoints_ += e.endpoints.size();
  dirty_.insert(name);
}

void IptablesSyncer::delete_service(const ServicePortName& name) {
  auto it = services_.find(name);
  if (it == services_.end() || !it->second.present) return;
  total_endpoints_ -= it->second.endpoints.size();
  if (!it->second.programmed) {
    services_.erase(it);
    dirty_.erase(name);
    return;
  }
  it->second.present = false;
  it->second.endpoints.clear();
  dirty_.insert(name);
}

void IptablesSyncer::set_node_settings(NodeSettings node) {
  if (node == node_) return;
  node_ = std::move(node);
  needs_full_sync_ = true;
}

bool IptablesSyncer::large_cluster_mode() const {
  return total_endpoints_ > static_cast<size_t>(node_.large_cluster_endpoints_threshold);
}

Result<SyncResult> IptablesSyncer::sync() {
  auto r = needs_full_sync_ ? full_sync() : partial_sync();
  if (!r) needs_full_sync_ = true;
  return r;
}

void IptablesSyncer::commit_entry(Entry& e, const ServiceRuleset& rs) {
  e.programmed = true;
  e.prog.chains.clear();
  e.prog.chains.reserve(rs.nat_chains.size());
  for (const auto& c : rs.nat_chains) e.prog.chains.emplace_back(c.name, hash_rules(c.rules));
  e.prog.shared = rs.shared;
  e.prog.has_endpoints = rs.has_endpoints;
  e.prog.reachable_ips.clear();
  for (const Endpoint* ep : categorize_endpoints(e.port, e.endpoints).all_reachable)
    e.prog.reachable_ips.push_back(ep->ip);
  e.prog.port = e.port;
  services_digest_ -= e.prog.digest;
  e.prog.digest = service_digest(rs);
  services_digest_ += e.prog.digest;
}

void IptablesSyncer::add_conntrack_cleanup(const Entry& e, const ServiceRuleset* rs, ConntrackCleanup& out) const {
  // Flows of UDP/SCTP services outlive rule changes: a service that gains its first endpoint
  // has flows stuck on the REJECT path; an endpoint that goes away has flows still DNATed to it.
  const ServicePort& port = e.present ? e.port : e.prog.port;
  if (!needs_conntrack_cleanup(port.name.protocol)) return;
  const Protocol proto = port.name.protocol;
  bool had = e.programmed && e.prog.has_endpoints;
  bool has = rs && rs->has_endpoints;
  if (!had && has && e.present) {
    out.service_ips.push_back({port.cluster_ip, proto});
    for (const auto& ip : port.external_ips) out.service_ips.push_back({ip, proto});
    for (const auto& ip : port.load_balancer_vips()) out.service_ips.push_back({ip, proto});
    if (port.node_port) out.node_ports.push_back({port.node_port, proto});
  }
  if (!e.programmed) return;
  std::vector<std::string> now;
  if (e.present)
    for (const Endpoint* ep : categorize_endpoints(e.port, e.endpoints).all_reachable) now.push_back(ep->ip);
  const ServicePort& old = e.prog.port;
  for (const auto& ip : e.prog.reachable_ips) {
    if (std::find(now.begin(), now.end(), ip) != now.end()) continue;
    out.stale_endpoints.push_back({old.cluster_ip, ip, proto});
    for (const auto& x : old.external_ips) out.stale_endpoints.push_back({x, ip, proto});
    for (const auto& x : old.load_balancer_vips()) out.stale_endpoints.push_back({x, ip, proto});
    if (old.node_port) out.stale_node_port_endpoints.push_back({ip, old.node_port, proto});
  }
}

Result<SyncResult> IptablesSyncer::full_sync() {
  const bool large = large_cluster_mode();
  NodeRuleset node = build_node_rules(node_);
  std::map<ServicePortName, ServiceRuleset> built;
  uint64_t digest = node_digest(node);
  for (const auto& [name, e] : services_)
    if (e.present) {
      auto& rs = built.emplace(name, build_service_rules(e.port, e.endpoints, node_, large)).first->second;
      digest += service_digest(rs);
    }

  SyncResult res;
  res.full = true;
  bool adopt = false;
  if (first_sync_) {
    // A restart: if our stamp says the tables hold exactly this ruleset, keep them as they are.
    auto m = stamp_matches(digest);
    adopt = m.ok() && *m;
  }
  if (!adopt) {
    auto saved = backend_.save();
    if (!saved) return saved.error().wrap("iptables-save");
    auto current = parse_iptables_save(*saved);
    if (!current) return current.error().wrap("parsing iptables-save output");
    Payload p;
    plan_full(*current, node, built, stamp_rule(digest), p, res);
    res.rule_lines = p.rule_lines;
    if (!p.empty()) {
      res.payload = p.render();
      if (Status st = backend_.restore(res.payload); !st) return st.error();
      res.restored = true;
    }
  }
  res.adopted = adopt;
  for (auto it = services_.begin(); it != services_.end();) {
    Entry& e = it->second;
    auto b = built.find(it->first);
    if (dirty_.count(it->first) && !adopt)
      add_conntrack_cleanup(e, b == built.end() ? nullptr : &b->second, res.conntrack);
    if (!e.present) {
      services_digest_ -= e.prog.digest;
      it = services_.erase(it);
      continue;
    }
    commit_entry(e, b->second);
    ++it;
  }
  node_digest_ = node_digest(node);
  dirty_.clear();
  needs_full_sync_ = false;
  first_sync_ = false;
  programmed_large_mode_ = large;
  log::infov(2, "iptables full sync done", "services", services_.size(), "chainsWritten", res.chains_written,
             "chainsDeleted", res.chains_deleted, "restored", res.restored, "adopted", adopt);
  return res;
}

std::string IptablesSyncer::stamp_rule(uint64_t digest) const {
  return fmt::format("-m comment --comment \"knode ruleset {:016x}\" -j RETURN", digest);
}

Result<bool> IptablesSyncer::stamp_matches(uint64_t digest) {
  for (const char* table : {"mangle", "filter", "nat"}) {
    auto rules = backend_.list_chain(table, kCanaryChain);
    if (!rules) return rules.error();
    if (!rules->has_value() || (*rules)->empty()) return false;
    if (std::string_view(table) == "nat") {
      std::string want = fmt::format("knode ruleset {:016x}", digest);
      for (const auto& r : **rules)
        if (r.find(want) != std::string::npos) return true;
      return false;
    }
  }
  return false;
}

Result<SyncResult> IptablesSyncer::partial_sync() {
  const bool large = large_cluster_mode();
  if (large != programmed_large_mode_) return full_sync();  // every endpoint comment changes
  SyncResult res;
  if (dirty_.empty()) return res;

  Payload p;
  std::map<ServicePortName, ServiceRuleset> built;
  for (const auto& name : dirty_) {
    Entry& e = services_.at(name);
    const ServiceRuleset* rs = nullptr;
    if (e.present) rs = &built.emplace(name, build_service_rules(e.port, e.endpoints, node_, large)).first->second;
    // Owned chains: write the changed, remove the unused.
    std::unordered_set<std::string> keep;
    if (rs)
      for (const auto& c : rs->nat_chains) {
        keep.insert(c.name);
        uint64_t h = hash_rules(c.rules);
        bool same = false;
        for (const auto& [n, oh] : e.prog.chains)
          if (n == c.name) {
            same = oh == h;
            break;
          }
        if (!same || !e.programmed) {
          p.write_chain("nat", c.name, c.rules);
          ++res.chains_written;
        }
      }
    if (e.programmed)
      for (const auto& [n, _] : e.prog.chains)
        if (!keep.count(n)) {
          p.remove_chain("nat", n);
          ++res.chains_deleted;
        }
  }

  // Shared chains: delete a changed service's old lines, insert its new lines where they belong
  // (services in name order, nat KUBE-SERVICES' nodeports jump last).
  NodeRuleset node;
  bool node_built = false;
  static const std::vector<std::string> kNone;
  for (size_t i = 0; i < kSharedChainCount; ++i) {
    auto sc = static_cast<SharedChain>(i);
    const std::string table = shared_chain_table(sc);
    const std::string chain = shared_chain_name(sc);
    auto new_lines = [&](const ServicePortName& name) -> const std::vector<std::string>& {
      auto b = built.find(name);
      return b == built.end() ? kNone : b->second.shared[i];
    };
    size_t changed_lines = 0;
    for (const auto& name : dirty_) {
      const Entry& e = services_.at(name);
      const auto& old = e.programmed ? e.prog.shared[i] : kNone;
      const auto& now = new_lines(name);
      if (old != now) changed_lines += old.size() + now.size();
    }
    if (changed_lines == 0) continue;
    // Walk all services once: positions of new lines, and whether any unchanged line follows.
    struct Insert { size_t pos; const std::string* line; };
    std::vector<Insert> inserts;
    std::vector<const std::string*> deletes;
    size_t pos = 0, last_kept = 0;
    std::vector<const std::string*> all;  // the whole desired chain, in case a rewrite is cheaper
    for (const auto& [name, e] : services_) {
      bool dirty = dirty_.count(name) > 0;
      const auto& old = e.programmed ? e.prog.shared[i] : kNone;
      const auto& now = dirty ? new_lines(name) : old;
      bool changed = dirty && old != now;
      if (changed)
        for (const auto& l : old) deletes.push_back(&l);
      for (const auto& l : now) {
        ++pos;
        all.push_back(&l);
        if (changed) inserts.push_back({pos, &l});
        else last_kept = pos;
      }
    }
    if (sc == SharedChain::NatServices) {
      if (!node_built) {
        node = build_node_rules(node_);
        node_built = true;
      }
      for (const auto& l : node.nat_services_tail) {
        ++pos;
        last_kept = pos;
        all.push_back(&l);
      }
    }
    if (changed_lines > 64 && changed_lines > all.size() / 4) {
      std::vector<std::string> lines;
      lines.reserve(all.size());
      for (const std::string* l : all) lines.push_back(*l);
      p.write_chain(table, chain, lines);
      ++res.chains_written;
      continue;
    }
    for (const std::string* l : deletes) p.delete_rule(table, chain, *l);
    for (const auto& ins : inserts) {
      if (ins.pos > last_kept) p.append_rule(table, chain, *ins.line);
      else p.insert_rule(table, chain, ins.pos, *ins.line);
    }
  }

  if (!p.empty()) {
    // Restamp the nat canary with the digest of the ruleset after this transaction.
    uint64_t digest = node_digest_ + services_digest_;
    for (const auto& name : dirty_) {
      const Entry& e = services_.at(name);
      if (e.programmed) digest -= e.prog.digest;
      if (auto b = built.find(name); b != built.end()) digest += service_digest(b->second);
    }
    if (!node_built) node = build_node_rules(node_);
    for (const auto& tc : node.chains)
      if (tc.table == "nat" && tc.chain.name == kCanaryChain) {
        auto rules = tc.chain.rules;
        rules.push_back(stamp_rule(digest));
        p.write_chain("nat", kCanaryChain, rules);
      }
  }
  res.rule_lines = p.rule_lines;
  if (!p.empty()) {
    res.payload = p.render();
    if (Status st = backend_.restore(res.payload); !st) return st.error();
    res.restored = true;
  }
  for (const auto& name : dirty_) {
    auto it = services_.find(name);
    Entry& e = it->second;
    auto b = built.find(name);
    add_conntrack_cleanup(e, b == built.end() ? nullptr : &b->second, res.conntrack);
    if (!e.present) {
      services_digest_ -= e.prog.digest;
      services_.erase(it);
    } else {
      commit_entry(e, b->second);
    }
  }
  dirty_.clear();
  return res;
}

Result<bool> IptablesSyncer::check_canaries() {
  for (const char* table : {"mangle", "nat", "filter"}) {
    auto rules = backend_.list_chain(table, kCanaryChain);
    if (!rules) return rules.error();
    if (!rules->has_value() || (*rules)->empty()) {
      log::info("iptables canary missing or flushed; forcing a full resync", "table", table);
      needs_full_sync_ = true;
      return false;
    }
  }
  return true;
}

std::string IptablesSyncer::full_payload() const {
  const bool large = large_cluster_mode();
  NodeRuleset node = build_node_rules(node_);
  std::map<ServicePortName, ServiceRuleset> built;
  for (const auto& [name, e] : services_)
    if (e.present) built.emplace(name, build_service_rules(e.port, e.endpoints, node_, large));
  uint64_t digest = node_digest(node);
  for (const auto& [_, rs] : built) digest += service_digest(rs);
  IptablesState empty;
  Payload p;
  SyncResult res;
  plan_full(empty, node, built, stamp_rule(digest), p, res);
  return p.render();
}

}  // namespace knode::netrules
