// The desired iptables rules, in upstream kube-proxy's layout and wording, built per service port
// (its own KUBE-SVC/SVL/EXT/FW/SEP chains plus the lines it adds to shared chains) and per node
// (KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-FORWARD, jumps from the built-in chains, canaries).
// Pure functions: no I/O, so a sync can rebuild just the services that changed.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "netrules/model.h"

namespace knode::netrules {

inline constexpr const char* kServicesChain = "KUBE-SERVICES";
inline constexpr const char* kExternalServicesChain = "KUBE-EXTERNAL-SERVICES";
inline constexpr const char* kNodePortsChain = "KUBE-NODEPORTS";
inline constexpr const char* kPostroutingChain = "KUBE-POSTROUTING";
inline constexpr const char* kMarkMasqChain = "KUBE-MARK-MASQ";
inline constexpr const char* kForwardChain = "KUBE-FORWARD";
inline constexpr const char* kProxyFirewallChain = "KUBE-PROXY-FIREWALL";
inline constexpr const char* kKubeletFirewallChain = "KUBE-FIREWALL";
inline constexpr const char* kCanaryChain = "KUBE-PROXY-CANARY";

// A chain and its rules; each rule is the text after "-A <chain> ".
struct ChainRules {
  std::string name;
  std::vector<std::string> rules;
  bool operator==(const ChainRules&) const = default;
};

// Chains shared by all services, to which each service adds lines.
enum class SharedChain { NatServices, NatNodePorts, FilterServices, FilterExternalServices,
                         FilterNodePorts, FilterFirewall };
inline constexpr size_t kSharedChainCount = 6;
const char* shared_chain_table(SharedChain c);
const char* shared_chain_name(SharedChain c);

struct ServiceRuleset {
  std::vector<ChainRules> nat_chains;  // owned chains, in the order they are written
  std::array<std::vector<std::string>, kSharedChainCount> shared;  // indexed by SharedChain
  bool has_endpoints = false;
  std::vector<std::string> endpoint_chains;  // subset of nat_chains' names: the KUBE-SEP chains
};

// What build_service_rules renders: everything, or only has_endpoints and the lines in shared
// chains (what a partial sync needs of services it does not change).
enum class RulesetPart { All, SharedOnly };

ServiceRuleset build_service_rules(const ServicePort& svc, const std::vector<Endpoint>& endpoints,
                                   const NodeSettings& node, bool large_cluster_mode,
                                   RulesetPart part = RulesetPart::All);

struct JumpRule {
  std::string table;
  std::string from;  // built-in chain
  std::string rule;  // text after "-A <from> "
};

struct TableChain {
  std::string table;
  ChainRules chain;
};

struct NodeRuleset {
  std::vector<JumpRule> jumps;          // ensured at the top of the built-in chains
  std::vector<TableChain> chains;       // fully owned node-wide chains
  std::vector<std::string> nat_services_tail;  // last rules of nat KUBE-SERVICES (to KUBE-NODEPORTS)
};

NodeRuleset build_node_rules(const NodeSettings& node);

// `%0.10f` of 1/n, as upstream's computeProbability.
std::string probability(int n);

}  // namespace knode::netrules
