// `kube-proxy --cleanup`: removes what any proxy mode installed — the iptables chains and jumps
// (in both the nft and the legacy iptables, IPv4 and IPv6) and the nftables `kube-proxy` tables —
// leaving other components' rules (the kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...) alone.
#pragma once

#include <string>
#include <vector>

#include "agent/base/result.h"

namespace knode::proxy {

// The iptables-restore payload that removes the proxy's chains from an iptables-save text
// ("" when nothing to remove). Pure; exposed for tests.
std::string iptables_cleanup_payload(const std::string& save_text);

// Runs the cleanup in the current network namespace. Returns what it removed, one line each.
Result<std::vector<std::string>> cleanup_all();

}  // namespace knode::proxy
