#include "netrules/iptables_ruleset.h"

#include <fmt/format.h>

#include <algorithm>

#include "netrules/chain_names.h"

namespace knode::netrules {
namespace {

// Builds one rule text from words; words are joined with single spaces.
class Line {
 public:
  Line() { s_.reserve(160); }  // most rules are 60-170 characters: one allocation
  Line& add(std::string_view w) {
    if (!s_.empty()) s_ += ' ';
    s_ += w;
    return *this;
  }
  Line& add(const std::vector<std::string>& ws) {
    for (const auto& w : ws) add(w);
    return *this;
  }
  Line& comment(std::string_view c) { return add("-m").add("comment").add("--comment").add(c); }
  // A comment with spaces, written with quotes as upstream does.
  Line& quoted_comment(std::string_view c) {
    return add("-m").add("comment").add("--comment").add(fmt::format("\"{}\"", c));
  }
  Line& proto(const char* p) { return add("-m").add(p).add("-p").add(p); }
  Line& jump(std::string_view target) { return add("-j").add(target); }
  // Moves the text out: call once, when the rule is complete.
  std::string str() { return std::move(s_); }

 private:
  std::string s_;
};

std::vector<std::string>& shared(ServiceRuleset& r, SharedChain c) {
  return r.shared[static_cast<size_t>(c)];
}

void write_service_to_endpoint_rules(ChainRules& chain, const std::string& svc_name,
                                     const ServicePort& svc,
                                     const std::vector<const Endpoint*>& endpoints,
                                     const std::vector<std::string>& ep_chains, bool large) {
  if (svc.session_affinity_client_ip) {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      Line l;
      if (!large) l.quoted_comment(fmt::format("{} -> {}", svc_name, endpoints[i]->str()));
      l.add({"-m", "recent", "--name", ep_chains[i], "--rcheck", "--seconds",
             std::to_string(svc.sticky_max_age_seconds), "--reap"});
      l.jump(ep_chains[i]);
      chain.rules.push_back(std::move(l).str());
    }
  }
  size_t n = endpoints.size();
  for (size_t i = 0; i < n; ++i) {
    Line l;
    if (!large) l.quoted_comment(fmt::format("{} -> {}", svc_name, endpoints[i]->str()));
    if (i + 1 < n)
      l.add({"-m", "statistic", "--mode", "random", "--probability", probability(static_cast<int>(n - i))});
    l.jump(ep_chains[i]);
    chain.rules.push_back(std::move(l).str());
  }
}

}  // namespace

const char* shared_chain_table(SharedChain c) {
  switch (c) {
    case SharedChain::NatServices:
    case SharedChain::NatNodePorts: return "nat";
    default: return "filter";
  }
}

const char* shared_chain_name(SharedChain c) {
  switch (c) {
    case SharedChain::NatServices:
    case SharedChain::FilterServices: return kServicesChain;
    case SharedChain::NatNodePorts:
    case SharedChain::FilterNodePorts: return kNodePortsChain;
    case SharedChain::FilterExternalServices: return kExternalServicesChain;
    case SharedChain::FilterFirewall: return kProxyFirewallChain;
  }
  return "";
}

std::string probability(int n) { return fmt::format("{:0.10f}", 1.0 / n); }

ServiceRuleset build_service_rules(const ServicePort& svc, const std::vector<Endpoint>& endpoints,
                                   const NodeSettings& node, bool large, RulesetPart part) {
  ServiceRuleset out;
  const char* proto = protocol_lower(svc.name.protocol);
  const std::string name = svc.name.str();
  const ServiceChainNames chains = service_chain_names(svc.name);
  const std::string port = std::to_string(svc.port);
  const auto lb_vips = svc.load_balancer_vips();

  CategorizedEndpoints cat = categorize_endpoints(svc, endpoints);
  const bool has_endpoints = cat.has_any;
  out.has_endpoints = has_endpoints;

  const bool uses_cluster_chain = !cat.cluster.empty() && svc.uses_cluster_endpoints();
  const bool uses_local_chain = !cat.local.empty() && svc.uses_local_endpoints();

  std::string internal_chain = chains.cluster;
  bool has_internal = has_endpoints;
  if (svc.internal_policy_local()) {
    internal_chain = chains.local;
    if (cat.local.empty()) has_internal = false;
  }
  std::string external_policy_chain = chains.cluster;
  bool has_external = has_endpoints;
  if (svc.external_policy_local()) {
    external_policy_chain = chains.local;
    if (cat.local.empty()) has_external = false;
  }
  const std::string& external_chain = chains.external;
  const bool uses_external_chain = has_endpoints && svc.externally_accessible();
  const bool uses_fw_chain = has_endpoints && !lb_vips.empty() && !svc.load_balancer_source_ranges.empty();
  const std::string lb_chain = uses_fw_chain ? chains.firewall : external_chain;

  std::string internal_filter_target, internal_filter_comment, external_filter_target,
      external_filter_comment;
  if (!has_endpoints) {
    internal_filter_target = external_filter_target = "REJECT";
    internal_filter_comment = external_filter_comment = fmt::format("\"{} has no endpoints\"", name);
  } else {
    if (!has_internal) {
      internal_filter_target = "DROP";
      internal_filter_comment = fmt::format("\"{} has no local endpoints\"", name);
    }
    if (!has_external) {
      external_filter_target = "DROP";
      external_filter_comment = fmt::format("\"{} has no local endpoints\"", name);
    }
  }
  // Cluster IP.
  if (has_internal) {
    shared(out, SharedChain::NatServices)
        .push_back(Line().quoted_comment(name + " cluster IP").proto(proto)
                       .add({"-d", svc.cluster_ip, "--dport", port}).jump(internal_chain).str());
  } else {
    shared(out, SharedChain::FilterServices)
        .push_back(Line().add({"-m", "comment", "--comment", internal_filter_comment}).proto(proto)
                       .add({"-d", svc.cluster_ip, "--dport", port}).jump(internal_filter_target).str());
  }
  // External IPs.
  for (const auto& ip : svc.external_ips) {
    if (has_endpoints)
      shared(out, SharedChain::NatServices)
          .push_back(Line().quoted_comment(name + " external IP").proto(proto)
                         .add({"-d", ip, "--dport", port}).jump(external_chain).str());
    if (!has_external)
      shared(out, SharedChain::FilterExternalServices)
          .push_back(Line().add({"-m", "comment", "--comment", external_filter_comment}).proto(proto)
                         .add({"-d", ip, "--dport", port}).jump(external_filter_target).str());
  }

  // Load-balancer IPs.
  for (const auto& ip : lb_vips) {
    if (has_endpoints)
      shared(out, SharedChain::NatServices)
          .push_back(Line().quoted_comment(name + " loadbalancer IP").proto(proto)
                         .add({"-d", ip, "--dport", port}).jump(lb_chain).str());
    if (uses_fw_chain)
      shared(out, SharedChain::FilterFirewall)
          .push_back(Line().quoted_comment(fmt::format("{} traffic not accepted by {}", name, chains.firewall))
                         .proto(proto).add({"-d", ip, "--dport", port}).jump("DROP").str());
  }
  if (!has_external)
    for (const auto& ip : lb_vips)
      shared(out, SharedChain::FilterExternalServices)
          .push_back(Line().add({"-m", "comment", "--comment", external_filter_comment}).proto(proto)
                         .add({"-d", ip, "--dport", port}).jump(external_filter_target).str());

  // NodePort.
  if (svc.node_port != 0) {
    const std::string np = std::to_string(svc.node_port);
    if (has_endpoints)
      shared(out, SharedChain::NatNodePorts)
          .push_back(Line().comment(name).proto(proto).add({"--dport", np}).jump(external_chain).str());
    if (!has_external)
      shared(out, SharedChain::FilterExternalServices)
          .push_back(Line().add({"-m", "comment", "--comment", external_filter_comment})
                         .add({"-m", "addrtype", "--dst-type", "LOCAL"}).proto(proto)
                         .add({"--dport", np}).jump(external_filter_target).str());
  }

  // Health check node port.
  if (svc.health_check_node_port != 0)
    shared(out, SharedChain::FilterNodePorts)
        .push_back(Line().quoted_comment(name + " health check node port").proto("tcp")
                       .add({"--dport", std::to_string(svc.health_check_node_port)}).jump("ACCEPT").str());
  if (part == RulesetPart::SharedOnly) return out;

  // Owned nat chains. Upstream writes the masquerade rule of the internal chain first.
  std::vector<std::string> internal_masq;
  if (has_internal) {
    Line l;
    l.quoted_comment(name + " cluster IP").proto(proto).add({"-d", svc.cluster_ip, "--dport", port});
    if (node.masquerade_all) {
      internal_masq.push_back(std::move(l.jump(kMarkMasqChain)).str());
    } else if (node.local_detector.implemented()) {
      l.add(node.local_detector.if_not_local()).jump(kMarkMasqChain);
      internal_masq.push_back(std::move(l).str());
    }
  }

  if (uses_external_chain) {
    ChainRules ext{external_chain, {}};
    if (!svc.external_policy_local()) {
      ext.rules.push_back(Line().quoted_comment(fmt::format("masquerade traffic for {} external destinations", name))
                              .jump(kMarkMasqChain).str());
    } else {
      if (node.local_detector.implemented())
        ext.rules.push_back(Line().quoted_comment(fmt::format("pod traffic for {} external destinations", name))
                                .add(node.local_detector.if_local()).jump(chains.cluster).str());
      ext.rules.push_back(Line().quoted_comment(fmt::format("masquerade LOCAL traffic for {} external destinations", name))
                              .add({"-m", "addrtype", "--src-type", "LOCAL"}).jump(kMarkMasqChain).str());
      ext.rules.push_back(Line().quoted_comment(fmt::format("route LOCAL traffic for {} external destinations", name))
                              .add({"-m", "addrtype", "--src-type", "LOCAL"}).jump(chains.cluster).str());
    }
    if (has_external) ext.rules.push_back(Line().jump(external_policy_chain).str());
    out.nat_chains.push_back(std::move(ext));
  }

  if (uses_fw_chain) {
    ChainRules fw{chains.firewall, {}};
    bool allow_from_node = false;
    for (const auto& cidr : svc.load_balancer_source_ranges) {
      fw.rules.push_back(Line().quoted_comment(name + " loadbalancer IP").add({"-s", cidr}).jump(external_chain).str());
      if (cidr_contains(cidr, node.node_ip)) allow_from_node = true;
    }
    if (allow_from_node)
      for (const auto& ip : lb_vips)
        fw.rules.push_back(Line().quoted_comment(name + " loadbalancer IP").add({"-s", ip}).jump(external_chain).str());
    fw.rules.push_back(Line().quoted_comment(fmt::format("other traffic to {} will be dropped by KUBE-PROXY-FIREWALL", name)).str());
    out.nat_chains.push_back(std::move(fw));
  }

  // Each reachable endpoint's KUBE-SEP name, hashed once (cluster and local sets share them).
  std::vector<std::string> reachable_names;
  reachable_names.reserve(cat.all_reachable.size());
  for (const Endpoint* ep : cat.all_reachable) reachable_names.push_back(endpoint_chain_name(svc.name, *ep));
  auto sep_names = [&](const std::vector<const Endpoint*>& eps) {
    if (eps == cat.all_reachable) return reachable_names;  // the usual case: one policy in use
    std::vector<std::string> v;
    v.reserve(eps.size());
    for (const Endpoint* ep : eps) {
      auto at = std::find(cat.all_reachable.begin(), cat.all_reachable.end(), ep);
      v.push_back(at != cat.all_reachable.end() ? reachable_names[at - cat.all_reachable.begin()]
                                                 : endpoint_chain_name(svc.name, *ep));
    }
    return v;
  };
  if (uses_cluster_chain) {
    ChainRules c{chains.cluster, {}};
    if (internal_chain == chains.cluster) c.rules = internal_masq;
    write_service_to_endpoint_rules(c, name, svc, cat.cluster, sep_names(cat.cluster), large);
    out.nat_chains.push_back(std::move(c));
  }
  if (uses_local_chain) {
    ChainRules c{chains.local, {}};
    if (internal_chain == chains.local) c.rules = internal_masq;
    write_service_to_endpoint_rules(c, name, svc, cat.local, sep_names(cat.local), large);
    out.nat_chains.push_back(std::move(c));
  }

  for (size_t i = 0; i < cat.all_reachable.size(); ++i) {
    const Endpoint* ep = cat.all_reachable[i];
    ChainRules c{std::move(reachable_names[i]), {}};
    Line masq;
    if (!large) masq.comment(name);
    masq.add({"-s", ep->ip}).jump(kMarkMasqChain);
    c.rules.push_back(std::move(masq).str());
    Line dnat;
    if (!large) dnat.comment(name);
    if (svc.session_affinity_client_ip) dnat.add({"-m", "recent", "--name", c.name, "--set"});
    dnat.proto(proto).add({"-j", "DNAT", "--to-destination", ep->str()});
    c.rules.push_back(std::move(dnat).str());
    out.endpoint_chains.push_back(c.name);
    out.nat_chains.push_back(std::move(c));
  }
  return out;
}

NodeRuleset build_node_rules(const NodeSettings& node) {
  NodeRuleset out;
  const bool v6 = node.family == IPFamily::IPv6;
  const std::string mark = node.masquerade_mark();
  const std::string mark_mask = mark + "/" + mark;
  auto jump = [&](const char* table, const char* from, std::vector<std::string> extra, const char* comment,
                  const char* to) {
    Line l;
    l.add(extra);
    if (comment && *comment) l.quoted_comment(comment);
    l.jump(to);
    out.jumps.push_back({table, from, std::move(l).str()});
  };
  const std::vector<std::string> ctnew{"-m", "conntrack", "--ctstate", "NEW"};
  jump("filter", "INPUT", ctnew, "kubernetes externally-visible service portals", kExternalServicesChain);
  jump("filter", "FORWARD", ctnew, "kubernetes externally-visible service portals", kExternalServicesChain);
  jump("filter", "INPUT", {}, "kubernetes health check service ports", kNodePortsChain);
  jump("filter", "FORWARD", ctnew, "kubernetes service portals", kServicesChain);
  jump("filter", "OUTPUT", ctnew, "kubernetes service portals", kServicesChain);
  jump("filter", "FORWARD", {}, "kubernetes forwarding rules", kForwardChain);
  jump("filter", "INPUT", ctnew, "kubernetes load balancer firewall", kProxyFirewallChain);
  jump("filter", "OUTPUT", ctnew, "kubernetes load balancer firewall", kProxyFirewallChain);
  jump("filter", "FORWARD", ctnew, "kubernetes load balancer firewall", kProxyFirewallChain);
  jump("nat", "OUTPUT", {}, "kubernetes service portals", kServicesChain);
  jump("nat", "PREROUTING", {}, "kubernetes service portals", kServicesChain);
  jump("nat", "POSTROUTING", {}, "kubernetes postrouting rules", kPostroutingChain);
  const bool localhost_nodeports = node.localhost_nodeports && !v6;
  if (localhost_nodeports) {
    jump("filter", "INPUT", {}, "", kKubeletFirewallChain);
    jump("filter", "OUTPUT", {}, "", kKubeletFirewallChain);
  }

  ChainRules post{kPostroutingChain, {}};
  post.rules.push_back(Line().add({"-m", "mark", "!", "--mark", mark_mask}).jump("RETURN").str());
  post.rules.push_back(Line().add({"-j", "MARK", "--xor-mark", mark}).str());
  Line masq;
  masq.quoted_comment("kubernetes service traffic requiring SNAT").jump("MASQUERADE");
  if (node.masquerade_random_fully) masq.add("--random-fully");
  post.rules.push_back(std::move(masq).str());
  out.chains.push_back({"nat", std::move(post)});
  out.chains.push_back({"nat", ChainRules{kMarkMasqChain, {Line().add({"-j", "MARK", "--or-mark", mark}).str()}}});

  ChainRules fwd{kForwardChain, {}};
  if (!node.conntrack_tcp_be_liberal)
    fwd.rules.push_back(Line().add({"-m", "conntrack", "--ctstate", "INVALID"}).jump("DROP").str());
  fwd.rules.push_back(Line().quoted_comment("kubernetes forwarding rules")
                          .add({"-m", "mark", "--mark", mark_mask}).jump("ACCEPT").str());
  fwd.rules.push_back(Line().quoted_comment("kubernetes forwarding conntrack rule")
                          .add({"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}).jump("ACCEPT").str());
  out.chains.push_back({"filter", std::move(fwd)});

  if (localhost_nodeports)
    out.chains.push_back({"filter", ChainRules{kKubeletFirewallChain,
                                               {Line().quoted_comment("block incoming localnet connections")
                                                    .add({"-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8", "-m",
                                                          "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT"})
                                                    .jump("DROP").str()}}});

  // Canaries: upstream keeps them empty and watches for their deletion; ours also hold one rule
  // so that a flush of the table (`iptables -t nat -F`) is noticed too.
  for (const char* t : {"mangle", "nat", "filter"})
    out.chains.push_back({t, ChainRules{kCanaryChain, {Line().quoted_comment("kube-proxy canary: a flush of this table forces a full resync").jump("RETURN").str()}}});

  const char* tail_comment = "kubernetes service nodeports; NOTE: this must be the last rule in this chain";
  if (node.nodeport_all_local) {
    Line l;
    l.quoted_comment(tail_comment).add({"-m", "addrtype", "--dst-type", "LOCAL"});
    if (v6) l.add({"!", "-d", "::1/128"});
    else if (!node.localhost_nodeports) l.add({"!", "-d", "127.0.0.0/8"});
    l.jump(kNodePortsChain);
    out.nat_services_tail.push_back(std::move(l).str());
  } else {
    for (const auto& ip : node.nodeport_ips) {
      bool loopback = v6 ? ip == "::1" : ip.starts_with("127.");
      if (loopback && (v6 || !node.localhost_nodeports)) continue;
      out.nat_services_tail.push_back(Line().quoted_comment(tail_comment).add({"-d", ip}).jump(kNodePortsChain).str());
    }
  }
  return out;
}

}  // namespace knode::netrules
