#include "netrules/iptables_syncer.h"

#include "netrules/chunked_text.h"
#include "netrules/saved_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "agent/base/log.h"
#include "netrules/chain_names.h"
#include "netrules/iptables_state.h"

namespace knode::netrules {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t hash_rules(const std::vector<std::string>& rules) {
  uint64_t h = kFnvOffset;
  for (const auto& r : rules) {
    for (unsigned char c : r) {
      h ^= c;
      h *= kFnvPrime;
    }
    h ^= '\n';
    h *= kFnvPrime;
  }
  return h;
}

uint64_t mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  h ^= 0xff;
  h *= kFnvPrime;
  return h;
}

uint64_t mix(uint64_t h, int64_t v) {
  return mix(h, std::string_view(reinterpret_cast<const char*>(&v), sizeof v));
}

uint64_t mix(uint64_t h, const std::vector<std::string>& v) {
  h = mix(h, static_cast<int64_t>(v.size()));
  for (const auto& s : v) h = mix(h, s);
  return h;
}

// A rendered service's rules (the generator fingerprint below).
uint64_t rendered_digest(const ServiceRuleset& rs) {
  uint64_t h = kFnvOffset;
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

uint64_t rendered_digest(const NodeRuleset& n) {
  uint64_t h = kFnvOffset;
  for (const auto& j : n.jumps) h = mix(mix(mix(h, j.table), j.from), j.rule);
  for (const auto& c : n.chains) {
    h = mix(mix(h, c.table), c.chain.name);
    for (const auto& r : c.chain.rules) h = mix(h, r);
  }
  for (const auto& r : n.nat_services_tail) h = mix(h, r);
  return h;
}

// The digest covers every input field; a new field must be added here (the sizes catch it).
static_assert(sizeof(ServicePort) == 240 && sizeof(Endpoint) == 40 && sizeof(NodeSettings) == 128,
              "update service_inputs_digest / node_inputs_digest for the new field");

// A service's share of the ruleset digest, over what its rules are generated from.
uint64_t service_inputs_digest(const ServicePort& p, const std::vector<Endpoint>& eps) {
  uint64_t h = kFnvOffset;
  h = mix(mix(mix(mix(h, p.name.namespace_name), p.name.name), p.name.port), static_cast<int64_t>(p.name.protocol));
  h = mix(mix(mix(h, p.cluster_ip), int64_t{p.port}), int64_t{p.node_port});
  h = mix(h, p.external_ips);
  h = mix(h, static_cast<int64_t>(p.load_balancer_ingress.size()));
  for (const auto& lb : p.load_balancer_ingress) h = mix(mix(h, lb.ip), static_cast<int64_t>(lb.mode));
  h = mix(h, p.load_balancer_source_ranges);
  h = mix(mix(h, int64_t{p.session_affinity_client_ip}), int64_t{p.sticky_max_age_seconds});
  h = mix(mix(h, static_cast<int64_t>(p.external_traffic_policy)), static_cast<int64_t>(p.internal_traffic_policy));
  h = mix(h, int64_t{p.health_check_node_port});
  h = mix(h, static_cast<int64_t>(eps.size()));
  for (const auto& e : eps) {
    h = mix(mix(h, e.ip), int64_t{e.port});
    h = mix(h, int64_t{e.ready} | int64_t{e.serving} << 1 | int64_t{e.terminating} << 2 | int64_t{e.is_local} << 3);
  }
  return h;
}

uint64_t node_inputs_digest(const NodeSettings& n) {
  uint64_t h = kFnvOffset;
  h = mix(mix(mix(h, static_cast<int64_t>(n.family)), int64_t{n.masquerade_bit}), int64_t{n.masquerade_all});
  h = mix(mix(h, static_cast<int64_t>(n.local_detector.mode)), n.local_detector.value);
  h = mix(mix(mix(h, n.node_ip), int64_t{n.nodeport_all_local}), n.nodeport_ips);
  h = mix(mix(h, int64_t{n.localhost_nodeports}), int64_t{n.conntrack_tcp_be_liberal});
  h = mix(mix(h, int64_t{n.masquerade_random_fully}), int64_t{n.large_cluster_endpoints_threshold});
  return h;
}

// Services exercising every branch of the rule generator. Their rendered rules enter the digest,
// so a proxy whose generator writes different rules never adopts an older proxy's ruleset.
const std::vector<std::pair<ServicePort, std::vector<Endpoint>>>& fingerprint_services() {
  static const auto* services = [] {
    using LB = LoadBalancerIngress;
    auto* v = new std::vector<std::pair<ServicePort, std::vector<Endpoint>>>;
    v->push_back({ServicePort{.name = {"fp", "a", "p", Protocol::TCP}, .cluster_ip = "10.0.0.1", .port = 80,
                              .session_affinity_client_ip = true},
                  {{.ip = "10.1.0.1", .port = 8080, .is_local = true}, {.ip = "10.1.0.2", .port = 8080}}});
    v->push_back({ServicePort{.name = {"fp", "b", "", Protocol::UDP}, .cluster_ip = "10.0.0.2", .port = 53,
                              .node_port = 30053, .external_ips = {"192.0.2.1"},
                              .load_balancer_ingress = {LB{"192.0.2.2"}, LB{"192.0.2.3", LoadBalancerIPMode::Proxy}},
                              .load_balancer_source_ranges = {"192.0.2.0/24", "0.0.0.0/0"},
                              .external_traffic_policy = TrafficPolicy::Local,
                              .internal_traffic_policy = TrafficPolicy::Local, .health_check_node_port = 30100},
                  {{.ip = "10.1.0.3", .port = 53, .ready = false, .terminating = true, .is_local = true},
                   {.ip = "10.1.0.4", .port = 53}}});
    v->push_back({ServicePort{.name = {"fp", "c", "q", Protocol::SCTP}, .cluster_ip = "10.0.0.3", .port = 90,
                              .node_port = 30090, .external_ips = {"192.0.2.4"},
                              .load_balancer_ingress = {LB{"192.0.2.5"}}},
                  {}});
    v->push_back({ServicePort{.name = {"fp", "d", "", Protocol::TCP}, .cluster_ip = "10.0.0.4", .port = 80,
                              .node_port = 30091, .external_traffic_policy = TrafficPolicy::Local},
                  {{.ip = "10.1.0.5", .port = 80}}});
    return v;
  }();
  return *services;
}

// Canonical comparison of what a chain holds with what it should hold.
bool same_rules(const SavedTables::Chain& have, const std::vector<std::string>& want) {
  if (have.size() != want.size()) return false;
  size_t i = 0;
  return have.each([&](std::string_view r) {
    const std::string& w = want[i++];
    return r == w || canonical_rule_text(r) == canonical_rule_text(w);
  });
}

// One restore transaction, table by table: chain lines, deletions, rules, then chain removals.
struct Payload {
  struct Table {
    ChunkedText decls, dels, rules, removals;
  };
  std::map<std::string, Table, std::less<>> tables;
  size_t rule_lines = 0;

  Table& table(std::string_view name) {
    auto it = tables.find(name);
    if (it == tables.end()) it = tables.emplace(std::string(name), Table{}).first;
    return it->second;
  }
  void declare(std::string_view table_name, std::string_view chain) {
    auto& d = table(table_name).decls;
    d += ':';
    d += chain;
    d += " - [0:0]\n";
  }
  void write_chain(std::string_view table_name, std::string_view chain, const std::vector<std::string>& rules) {
    declare(table_name, chain);
    auto& t = table(table_name).rules;
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
  void remove_chain(std::string_view table_name, std::string_view chain) {
    declare(table_name, chain);  // flushes it
    table(table_name).removals += fmt::format("-X {}\n", chain);
  }
  void delete_rule(std::string_view table_name, std::string_view chain, const std::string& rule) {
    table(table_name).dels += fmt::format("-D {} {}\n", chain, rule);
    ++rule_lines;
  }
  void insert_rule(std::string_view table_name, std::string_view chain, size_t pos, const std::string& rule) {
    table(table_name).rules += fmt::format("-I {} {} {}\n", chain, pos, rule);
    ++rule_lines;
  }
  void append_rule(std::string_view table_name, std::string_view chain, const std::string& rule) {
    table(table_name).rules += fmt::format("-A {} {}\n", chain, rule);
    ++rule_lines;
  }
  bool empty() const { return tables.empty(); }
  std::string render() const { return join(pieces_merged(*this, nullptr)); }

  // `head` then `tail`, section by section (tail's chains are declared after head's, ...), as the
  // pieces of one payload, pointing into the two payloads (which must outlive them).
  static std::vector<std::string_view> pieces_merged(const Payload& head, const Payload* tail) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kOrder{
        {{"filter", "*filter\n"}, {"nat", "*nat\n"}, {"mangle", "*mangle\n"}}};
    std::vector<std::string_view> out;
    for (const auto& [name, header] : kOrder) {
      std::array<const Table*, 2> t{};
      if (auto it = head.tables.find(name); it != head.tables.end()) t[0] = &it->second;
      if (tail)
        if (auto it = tail->tables.find(name); it != tail->tables.end()) t[1] = &it->second;
      if (!t[0] && !t[1]) continue;
      out.push_back(header);
      for (ChunkedText Table::*section : {&Table::decls, &Table::dels, &Table::rules, &Table::removals})
        for (const Table* x : t)
          if (x) (x->*section).pieces(out);
      out.push_back("COMMIT\n");
    }
    return out;
  }
  static std::string join(const std::vector<std::string_view>& pieces) {
    size_t n = 0;
    for (auto p : pieces) n += p.size();
    std::string s;
    s.reserve(n);
    for (auto p : pieces) s += p;
    return s;
  }
};

}  // namespace

namespace {
constexpr std::array<std::string_view, 5> kChainPrefixes{"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"};
}  // namespace

IptablesSyncer::ChainDigest IptablesSyncer::ChainDigest::of(std::string_view name, uint64_t rules) {
  ChainDigest d;
  d.rules = rules;
  d.kind = 0xff;  // not a service chain name (not made by chain_names.h): kept as its first 16 characters
  for (size_t k = 0; k < kChainPrefixes.size(); ++k)
    if (name.size() == kChainPrefixes[k].size() + d.hash.size() && name.starts_with(kChainPrefixes[k])) {
      d.kind = static_cast<uint8_t>(k);
      name.remove_prefix(kChainPrefixes[k].size());
      break;
    }
  name.copy(d.hash.data(), std::min(name.size(), d.hash.size()));
  return d;
}

IptablesSyncer::SharedLines::SharedLines(const std::array<std::vector<std::string>, kSharedChainCount>& by_chain) {
  size_t n = 0;
  for (const auto& c : by_chain) n += c.size();
  lines_.reserve(n);
  for (size_t i = 0; i < kSharedChainCount; ++i) {
    begin_[i] = static_cast<uint32_t>(lines_.size());
    lines_.insert(lines_.end(), by_chain[i].begin(), by_chain[i].end());
  }
  begin_[kSharedChainCount] = static_cast<uint32_t>(lines_.size());
}

IptablesSyncer::ChainName IptablesSyncer::ChainDigest::name() const {
  ChainName n;
  std::string_view prefix = kind < kChainPrefixes.size() ? kChainPrefixes[kind] : std::string_view();
  prefix.copy(n.buf.data(), prefix.size());
  std::array<char, 16> h = hash;  // (a packed member)
  size_t len = kind < kChainPrefixes.size() ? h.size() : strnlen(h.data(), h.size());
  std::copy_n(h.data(), len, n.buf.data() + prefix.size());
  n.len = static_cast<uint8_t>(prefix.size() + len);
  return n;
}

// Everything a full sync writes, given what the tables hold now.
struct IptablesSyncer::Plan {
  bool write = true;   // false: count only
  bool stage = false;  // keep each service's programmed state (for the commit after the restore)
  std::string stamp;
  Payload head;  // node-wide chains and shared chains
  Payload body;  // service chains, stale chain removals, jumps
  RuleCounts counts;
  size_t chains_written = 0, chains_deleted = 0;
  // Present services, in order: their new programmed state, or `keep` when it is the same as now
  // (a repair rewrites little; not copying every service's state again keeps the heap compact).
  struct Staged {
    const Entry* entry = nullptr;
    bool keep = false;
    Programmed prog;
    const Programmed& effective() const { return keep ? entry->prog : prog; }
  };
  std::vector<Staged> staged;
};

IptablesSyncer::IptablesSyncer(Backend& backend, NodeSettings node) : backend_(backend), node_(std::move(node)) {}

void IptablesSyncer::render_adopted(Entry& e) {
  if (!e.programmed || !e.prog.chains_pending) return;
  e.prog = programmed_state(e, build_service_rules(*e.port, e.endpoints, node_, programmed_large_mode_));
}

void IptablesSyncer::update_service(std::shared_ptr<const ServicePort> port, std::vector<Endpoint> endpoints) {
  ServicePortName name = port->name;
  Entry& e = services_[name];
  if (e.present) total_endpoints_ -= e.endpoints.size();
  if (e.present && (e.port == port || *e.port == *port) && e.endpoints == endpoints) {
    e.port = std::move(port);  // the same value: share the caller's copy
    total_endpoints_ += e.endpoints.size();
    return;
  }
  render_adopted(e);
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
  render_adopted(it->second);
  it->second.present = false;
  it->second.endpoints = {};
  dirty_.insert(name);
}

std::vector<ServicePortName> IptablesSyncer::service_ports(std::string_view namespace_name,
                                                           std::string_view name) const {
  std::vector<ServicePortName> out;
  auto it = services_.lower_bound(ServicePortName{std::string(namespace_name), std::string(name), "", Protocol::TCP});
  for (; it != services_.end() && it->first.namespace_name == namespace_name && it->first.name == name; ++it)
    if (it->second.present) out.push_back(it->first);
  return out;
}

void IptablesSyncer::set_node_settings(NodeSettings node) {
  if (node == node_) return;
  node_ = std::move(node);
  needs_full_sync_ = true;
}

bool IptablesSyncer::large_cluster_mode() const {
  return total_endpoints_ > static_cast<size_t>(node_.large_cluster_endpoints_threshold);
}

uint64_t IptablesSyncer::node_digest(bool large) const {
  uint64_t h = mix(mix(rendered_digest(build_node_rules(node_)), node_inputs_digest(node_)), int64_t{large});
  for (const auto& [port, eps] : fingerprint_services())
    h = mix(h, static_cast<int64_t>(rendered_digest(build_service_rules(port, eps, node_, large))));
  return h;
}

uint64_t IptablesSyncer::services_digest() const {
  uint64_t digest = 0;
  for (const auto& [_, e] : services_)
    if (e.present) digest += service_inputs_digest(*e.port, e.endpoints);
  return digest;
}

Result<SyncResult> IptablesSyncer::sync() {
  auto r = needs_full_sync_ ? full_sync() : partial_sync();
  if (!r) needs_full_sync_ = true;
  return r;
}

IptablesSyncer::Programmed IptablesSyncer::programmed_state(const Entry& e, const ServiceRuleset& rs) const {
  Programmed p;
  p.chains.reserve(rs.nat_chains.size());
  for (const auto& c : rs.nat_chains) p.chains.push_back(ChainDigest::of(c.name, hash_rules(c.rules)));
  p.shared = SharedLines(rs.shared);
  p.has_endpoints = rs.has_endpoints;
  if (needs_conntrack_cleanup(e.port->name.protocol)) {
    p.conntrack = std::make_unique<ConntrackMemo>();
    p.conntrack->port = e.port;  // shared
    for (const Endpoint* ep : categorize_endpoints(*e.port, e.endpoints).all_reachable)
      p.conntrack->reachable_ips.push_back(ep->ip);
  }
  p.digest = service_inputs_digest(*e.port, e.endpoints);
  return p;
}

bool IptablesSyncer::same_programmed(const Programmed& a, const Programmed& b) {
  if (a.chains_pending || b.chains_pending || a.has_endpoints != b.has_endpoints || a.digest != b.digest ||
      a.chains.size() != b.chains.size() || !(a.shared == b.shared))
    return false;
  for (size_t i = 0; i < a.chains.size(); ++i)
    if (a.chains[i].rules != b.chains[i].rules || a.chains[i].kind != b.chains[i].kind ||
        a.chains[i].hash != b.chains[i].hash)
      return false;
  if (!a.conntrack || !b.conntrack) return !a.conntrack && !b.conntrack;
  return *a.conntrack->port == *b.conntrack->port && a.conntrack->reachable_ips == b.conntrack->reachable_ips;
}

void IptablesSyncer::commit_entry(Entry& e, Programmed prog) {
  services_digest_ -= e.prog.digest;
  e.prog = std::move(prog);
  services_digest_ += e.prog.digest;
  e.programmed = true;
}

void IptablesSyncer::add_conntrack_cleanup(const Entry& e, bool has_endpoints_now, ConntrackCleanup& out) const {
  // Flows of UDP/SCTP services outlive rule changes: a service that gains its first endpoint
  // has flows stuck on the REJECT path; an endpoint that goes away has flows still DNATed to it.
  const ConntrackMemo* old = e.programmed ? e.prog.conntrack.get() : nullptr;
  const ServicePort& port = e.present || !old ? *e.port : *old->port;
  if (!needs_conntrack_cleanup(port.name.protocol)) return;
  const Protocol proto = port.name.protocol;
  out.family = node_.family;
  bool had = e.programmed && e.prog.has_endpoints;
  if (!had && has_endpoints_now && e.present) {
    out.service_ips.push_back({port.cluster_ip, proto});
    for (const auto& ip : port.external_ips) out.service_ips.push_back({ip, proto});
    for (const auto& ip : port.load_balancer_vips()) out.service_ips.push_back({ip, proto});
    if (port.node_port) out.node_ports.push_back({port.node_port, proto});
  }
  if (!old) return;
  std::vector<std::string> now;
  if (e.present)
    for (const Endpoint* ep : categorize_endpoints(*e.port, e.endpoints).all_reachable) now.push_back(ep->ip);
  for (const auto& ip : old->reachable_ips) {
    if (std::find(now.begin(), now.end(), ip) != now.end()) continue;
    out.stale_endpoints.push_back({old->port->cluster_ip, ip, proto});
    for (const auto& x : old->port->external_ips) out.stale_endpoints.push_back({x, ip, proto});
    for (const auto& x : old->port->load_balancer_vips()) out.stale_endpoints.push_back({x, ip, proto});
    if (old->port->node_port) out.stale_node_port_endpoints.push_back({ip, old->port->node_port, proto});
  }
}

void IptablesSyncer::plan_full(const SavedTables& current, bool large, Plan& plan) const {
  auto ensure = [&](Payload& p, std::string_view table, std::string_view chain, const std::vector<std::string>& rules) {
    if (table == "nat") plan.counts.nat += rules.size();
    else if (table == "filter") plan.counts.filter += rules.size();
    if (!plan.write) return;
    const SavedTables::Chain* c = current.chain(table, chain);
    if (c && same_rules(*c, rules)) return;
    p.write_chain(table, chain, rules);
    ++plan.chains_written;
  };
  // Service by service (one rendered service at a time), collecting their shared-chain lines.
  std::array<std::vector<std::string>, kSharedChainCount> shared;
  if (plan.stage) plan.staged.reserve(services_.size());
  for (const auto& [name, e] : services_) {
    if (!e.present) continue;
    ServiceRuleset rs = build_service_rules(*e.port, e.endpoints, node_, large);
    for (const auto& c : rs.nat_chains) ensure(plan.body, "nat", c.name, c.rules);
    if (plan.stage) {
      Programmed p = programmed_state(e, rs);
      if (e.programmed && same_programmed(e.prog, p)) plan.staged.push_back(Plan::Staged{.entry = &e, .keep = true});
      else plan.staged.push_back(Plan::Staged{.entry = &e, .keep = false, .prog = std::move(p)});
    }
    for (size_t i = 0; i < kSharedChainCount; ++i)
      std::move(rs.shared[i].begin(), rs.shared[i].end(), std::back_inserter(shared[i]));
  }
  const NodeRuleset node = build_node_rules(node_);
  for (const auto& tc : node.chains) {
    if (tc.table == "nat" && tc.chain.name == kCanaryChain) {
      auto rules = tc.chain.rules;
      rules.push_back(plan.stamp);
      ensure(plan.head, tc.table, tc.chain.name, rules);
    } else {
      ensure(plan.head, tc.table, tc.chain.name, tc.chain.rules);
    }
  }
  shared[static_cast<size_t>(SharedChain::NatServices)].insert(
      shared[static_cast<size_t>(SharedChain::NatServices)].end(), node.nat_services_tail.begin(),
      node.nat_services_tail.end());
  for (size_t i = 0; i < kSharedChainCount; ++i) {
    auto sc = static_cast<SharedChain>(i);
    ensure(plan.head, shared_chain_table(sc), shared_chain_name(sc), shared[i]);
  }
  if (!plan.write) return;
  if (const auto* nat_order = current.order("nat")) {
    std::vector<ChainName> desired;  // service chains we keep
    for (const auto& st : plan.staged)
      for (const auto& c : st.effective().chains) desired.push_back(c.name());
    auto by_name = [](const ChainName& a, const ChainName& b) { return a.view() < b.view(); };
    std::sort(desired.begin(), desired.end(), by_name);
    for (const auto& name : *nat_order)
      if (is_service_chain_name(name) &&
          !std::binary_search(desired.begin(), desired.end(), name, [](const auto& a, const auto& b) {
            auto view = [](const auto& x) -> std::string_view {
              if constexpr (std::is_same_v<std::decay_t<decltype(x)>, ChainName>) return x.view();
              else return std::string_view(x);
            };
            return view(a) < view(b);
          })) {
        plan.body.remove_chain("nat", name);
        ++plan.chains_deleted;
      }
  }
  for (const auto& j : node.jumps) {
    const SavedTables::Chain* from = current.chain(j.table, j.from);
    bool found = false;
    if (from) {
      std::string want = canonical_rule_text(j.rule);
      from->each([&](std::string_view r) {
        found = r == j.rule || canonical_rule_text(r) == want;
        return !found;
      });
    }
    if (!found) plan.body.insert_rule(j.table, j.from, 1, j.rule);
  }
}

Result<SyncResult> IptablesSyncer::full_sync() {
  const bool large = large_cluster_mode();
  const uint64_t node_part = node_digest(large);
  const uint64_t digest = node_part + services_digest();

  SyncResult res;
  res.full = true;
  bool adopt = false;
  if (first_sync_) {
    // A restart: if our stamp says the tables hold exactly this ruleset, keep them as they are.
    auto m = stamp_matches(digest);
    adopt = m.ok() && *m;
  }
  if (adopt) {
    // Nothing is rendered but each service's lines in shared chains (partial syncs insert next
    // to them); its own chains are rendered when it first changes (render_adopted).
    for (auto it = services_.begin(); it != services_.end();) {
      Entry& e = it->second;
      if (!e.present) {
        services_digest_ -= e.prog.digest;
        it = services_.erase(it);
        continue;
      }
      Programmed p =
          programmed_state(e, build_service_rules(*e.port, e.endpoints, node_, large, RulesetPart::SharedOnly));
      p.chains_pending = true;
      commit_entry(e, std::move(p));
      ++it;
    }
  } else {
    // Read as it is printed, into mapped blocks (saved_tables.h): no 33 MB string at 10k Services.
    auto current = std::make_unique<SavedTables>();
    if (Status st = backend_.save_to([&](std::string_view piece) { current->feed(piece); }); !st)
      return st.error().wrap("iptables-save");
    if (Status st = current->finish(); !st) return st.error().wrap("parsing iptables-save output");
    Plan plan;
    plan.stage = true;
    plan.stamp = stamp_rule(digest);
    plan_full(*current, large, plan);
    current.reset();
    res.chains_written = plan.chains_written;
    res.chains_deleted = plan.chains_deleted;
    res.rule_lines = plan.head.rule_lines + plan.body.rule_lines;
    res.desired_rules = plan.counts;
    if (!plan.head.empty() || !plan.body.empty()) {
      // Written to iptables-restore piece by piece: never one 40 MB string at 10k Services.
      const auto pieces = Payload::pieces_merged(plan.head, &plan.body);
      if (keep_payload_) res.payload = Payload::join(pieces);
      if (Status st = backend_.restore_pieces(pieces); !st) return st.error();
      res.restored = true;
    }
    auto staged = plan.staged.begin();
    for (auto it = services_.begin(); it != services_.end();) {
      Entry& e = it->second;
      const bool dirty = dirty_.count(it->first) > 0;
      if (!e.present) {
        if (dirty) add_conntrack_cleanup(e, false, res.conntrack);
        services_digest_ -= e.prog.digest;
        it = services_.erase(it);
        continue;
      }
      Plan::Staged& st = *staged++;
      if (dirty) add_conntrack_cleanup(e, st.effective().has_endpoints, res.conntrack);
      if (!st.keep) commit_entry(e, std::move(st.prog));
      ++it;
    }
  }
  res.adopted = adopt;
  node_digest_ = node_part;
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
    if (e.present) rs = &built.emplace(name, build_service_rules(*e.port, e.endpoints, node_, large)).first->second;
    // Owned chains: write the changed, remove the unused.
    std::vector<std::string_view> keep;
    if (rs)
      for (const auto& c : rs->nat_chains) {
        keep.push_back(c.name);
        uint64_t h = hash_rules(c.rules);
        bool same = false;
        for (const auto& old : e.prog.chains)
          if (old.name().view() == c.name) {
            same = old.rules == h;
            break;
          }
        if (!same || !e.programmed) {
          p.write_chain("nat", c.name, c.rules);
          ++res.chains_written;
        }
      }
    if (e.programmed)
      for (const auto& old : e.prog.chains)
        if (auto n = old.name(); std::find(keep.begin(), keep.end(), n.view()) == keep.end()) {
          p.remove_chain("nat", n.view());
          ++res.chains_deleted;
        }
  }

  // Shared chains: delete a changed service's old lines, insert its new lines where they belong
  // (services in name order, nat KUBE-SERVICES' nodeports jump last).
  NodeRuleset node;
  bool node_built = false;
  static const std::vector<std::string> kNone;
  using Lines = std::span<const std::string>;
  for (size_t i = 0; i < kSharedChainCount; ++i) {
    auto sc = static_cast<SharedChain>(i);
    const std::string table = shared_chain_table(sc);
    const std::string chain = shared_chain_name(sc);
    auto new_lines = [&](const ServicePortName& name) -> Lines {
      auto b = built.find(name);
      return b == built.end() ? Lines(kNone) : Lines(b->second.shared[i]);
    };
    size_t changed_lines = 0;
    for (const auto& name : dirty_) {
      const Entry& e = services_.at(name);
      const Lines old = e.programmed ? e.prog.shared.chain(i) : Lines(kNone);
      const Lines now = new_lines(name);
      if (!std::ranges::equal(old, now)) changed_lines += old.size() + now.size();
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
      const Lines old = e.programmed ? e.prog.shared.chain(i) : Lines(kNone);
      const Lines now = dirty ? new_lines(name) : old;
      bool changed = dirty && !std::ranges::equal(old, now);
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
      if (e.present) digest += service_inputs_digest(*e.port, e.endpoints);
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
    add_conntrack_cleanup(e, b != built.end() && b->second.has_endpoints, res.conntrack);
    if (!e.present) {
      services_digest_ -= e.prog.digest;
      services_.erase(it);
    } else {
      commit_entry(e, programmed_state(e, b->second));
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
  SavedTables empty;
  Plan plan;
  plan.stamp = stamp_rule(node_digest(large) + services_digest());
  plan_full(empty, large, plan);
  return Payload::join(Payload::pieces_merged(plan.head, &plan.body));
}

RuleCounts IptablesSyncer::count_desired_rules() const {
  SavedTables empty;
  Plan plan;
  plan.write = false;
  plan_full(empty, large_cluster_mode(), plan);
  return plan.counts;
}

}  // namespace knode::netrules
