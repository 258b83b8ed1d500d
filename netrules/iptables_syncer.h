// Keeps iptables in step with the desired services: desired state → diff against what was
// programmed → one `iptables-restore --noflush` transaction.
//
//  - A full sync (at start, after any failure, after a flush seen by the canary, on request)
//    reads the tables with iptables-save, compares every chain we own with what it should hold
//    (canonical rule forms) and writes only the chains that differ, the missing jumps and the
//    deletion of stale service chains. A restarted proxy with its rules in place writes nothing.
//  - Every transaction also stamps a digest of the complete desired ruleset into the nat
//    KUBE-PROXY-CANARY chain. The digest is taken over what the rules are generated from (the
//    generator's fingerprint, node settings, every service port and its endpoints), so it costs
//    no rule rendering. The first sync after a start reads just the canary chains; when the
//    stamp matches, it adopts the rules without iptables-save and without rendering them (a
//    service's chains are rendered from its programmed inputs when it first changes). Later full
//    syncs always compare with iptables-save.
//  - A partial sync rebuilds only the services that changed since the last sync, rewrites their
//    changed KUBE-SVC/SVL/EXT/FW/SEP chains, deletes the chains they no longer use, and edits the
//    shared chains (KUBE-SERVICES, KUBE-NODEPORTS, …) line by line (-D / -I at the right position)
//    instead of rewriting them, so one endpoint change costs the same at 10 or 10 000 services.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/result.h"
#include "netrules/backend.h"
#include "netrules/conntrack.h"
#include "netrules/iptables_ruleset.h"
#include "netrules/model.h"

namespace knode::netrules {

class SavedTables;

// -A rules of the complete desired ruleset per table (kubeproxy_sync_proxy_rules_iptables_total).
struct RuleCounts {
  size_t nat = 0;
  size_t filter = 0;
};

struct SyncResult {
  bool full = false;        // a full sync (save + compare) rather than a partial one
  bool adopted = false;     // first sync: the canary stamp matched, rules adopted as they are
  bool restored = false;    // a payload was written (false: nothing to change)
  size_t chains_written = 0;
  size_t chains_deleted = 0;
  size_t rule_lines = 0;    // -A/-I/-D lines in the payload
  std::string payload;      // what was written ("" when nothing)
  ConntrackCleanup conntrack;  // flows to delete now that the rules are in place
  std::optional<RuleCounts> desired_rules;  // full syncs that compared (not adoptions)
};

class IptablesSyncer {
 public:
  IptablesSyncer(Backend& backend, NodeSettings node);

  // Adds or replaces one service port with its endpoints (the complete set). The shared form lets
  // the caller's copy of the port be the syncer's too (at 10k Services, ~2.5 MiB per copy).
  void update_service(std::shared_ptr<const ServicePort> port, std::vector<Endpoint> endpoints);
  void update_service(ServicePort port, std::vector<Endpoint> endpoints) {
    update_service(std::make_shared<const ServicePort>(std::move(port)), std::move(endpoints));
  }
  void delete_service(const ServicePortName& name);
  // Node settings changes need a full sync.
  void set_node_settings(NodeSettings node);
  void request_full_sync() { needs_full_sync_ = true; }
  // Whether SyncResult::payload holds what a full sync wrote (default; the proxy turns it off: at
  // 10k Services it is a 40 MB copy nobody reads).
  void set_keep_payload(bool keep) { keep_payload_ = keep; }
  bool full_sync_pending() const { return needs_full_sync_; }
  size_t service_count() const { return services_.size(); }
  // The ports of one Service that are in the desired state (not deleted).
  std::vector<ServicePortName> service_ports(std::string_view namespace_name, std::string_view name) const;

  // Computes and applies the difference in one transaction. On failure the next sync is full.
  Result<SyncResult> sync();

  // Checks the KUBE-PROXY-CANARY chains (mangle, nat, filter). Returns false and requests a full
  // sync when one is missing or was flushed. Only meaningful after a successful sync.
  Result<bool> check_canaries();

  // The complete payload for empty tables (for --dry-run and golden tests); no I/O.
  std::string full_payload() const;
  // Renders the desired ruleset service by service to count its rules; no I/O.
  RuleCounts count_desired_rules() const;

 private:
  // A service chain's name rebuilt from a ChainDigest, without allocating.
  struct ChainName {
    std::array<char, 32> buf{};
    uint8_t len = 0;
    std::string_view view() const { return {buf.data(), len}; }
  };
  // An owned chain as programmed: its name and a hash of its rules (not the rules). Packed (25
  // bytes instead of 40: ~1.6 MiB at 10k Services x 10 endpoints): service chain names are one of
  // five prefixes and 16 hash characters (chain_names.h).
#pragma pack(push, 1)
  struct ChainDigest {
    uint64_t rules = 0;
    std::array<char, 16> hash{};
    uint8_t kind = 0;  // index of the name's prefix
    static ChainDigest of(std::string_view name, uint64_t rules);
    ChainName name() const;
  };
#pragma pack(pop)
  // What partial syncs and conntrack cleanup need to know about an old service port.
  struct ConntrackMemo {
    std::shared_ptr<const ServicePort> port;  // as programmed
    std::vector<std::string> reachable_ips;  // endpoint IPs behind the rules
  };
  // A service's lines in the shared chains: one vector and offsets (6 vectors were 144 bytes per
  // service, mostly empty).
  class SharedLines {
   public:
    SharedLines() = default;
    explicit SharedLines(const std::array<std::vector<std::string>, kSharedChainCount>& by_chain);
    bool operator==(const SharedLines&) const = default;
    std::span<const std::string> chain(size_t i) const {
      return {lines_.data() + begin_[i], static_cast<size_t>(begin_[i + 1] - begin_[i])};
    }

   private:
    std::vector<std::string> lines_;
    std::array<uint32_t, kSharedChainCount + 1> begin_{};
  };
  struct Programmed {
    std::vector<ChainDigest> chains;  // owned nat chains
    SharedLines shared;               // its lines in shared chains
    bool has_endpoints = false;
    bool chains_pending = false;  // adopted at start: `chains` not rendered yet (inputs unchanged)
    std::unique_ptr<ConntrackMemo> conntrack;  // UDP and SCTP only
    uint64_t digest = 0;  // this service's share of the ruleset digest (over its inputs)
  };
  struct Entry {
    bool present = false;  // false: deleted, waiting for the next sync to remove its rules
    std::shared_ptr<const ServicePort> port;
    std::vector<Endpoint> endpoints;
    bool programmed = false;
    Programmed prog;
  };
  struct Plan;

  bool large_cluster_mode() const;
  uint64_t node_digest(bool large) const;
  uint64_t services_digest() const;  // the present services' shares of the digest
  void plan_full(const SavedTables& current, bool large, Plan& plan) const;
  Result<SyncResult> full_sync();
  Result<bool> stamp_matches(uint64_t digest);
  std::string stamp_rule(uint64_t digest) const;
  Result<SyncResult> partial_sync();
  Programmed programmed_state(const Entry& e, const ServiceRuleset& rs) const;
  // The same programmed state (a full sync that changes nothing of a service keeps its state).
  static bool same_programmed(const Programmed& a, const Programmed& b);
  void commit_entry(Entry& e, Programmed prog);
  // Before the inputs of a service adopted at start change: render what it programmed.
  void render_adopted(Entry& e);
  void add_conntrack_cleanup(const Entry& e, bool has_endpoints_now, ConntrackCleanup& out) const;

  Backend& backend_;
  NodeSettings node_;
  std::map<ServicePortName, Entry> services_;
  std::set<ServicePortName> dirty_;
  size_t total_endpoints_ = 0;
  bool needs_full_sync_ = true;
  bool keep_payload_ = true;
  bool programmed_large_mode_ = false;
  bool first_sync_ = true;
  uint64_t node_digest_ = 0;     // node-wide share of the digest (as programmed)
  uint64_t services_digest_ = 0; // sum of programmed entries' digests
};

}  // namespace knode::netrules
