// An in-memory picture of iptables tables: parses iptables-save output and iptables-restore
// payloads (with --noflush semantics), renders it back as iptables-save text, and gives every rule
// a canonical form so that rules we wrote can be compared with what iptables-save prints back
// (iptables reorders matches, adds /32, rewrites MARK and probabilities).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/base/result.h"

namespace knode::netrules {

// Splits one iptables line into words; double quotes group (and are removed), \" escapes.
std::vector<std::string> split_iptables_words(std::string_view line);

struct RuleOption {
  bool negated = false;
  std::string name;                // "-s", "--dport", "--comment", …
  std::vector<std::string> args;
  const std::string& arg(size_t i = 0) const;
};

struct RuleMatch {
  std::string module;              // "comment", "tcp", "statistic", …
  std::vector<RuleOption> options;
  const RuleOption* option(std::string_view name) const;
};

// One rule, i.e. the words after "-A CHAIN".
struct ParsedRule {
  std::vector<RuleOption> base;    // -s -d -p -i -o (long forms are folded to these)
  std::vector<RuleMatch> matches;  // in order
  std::string target;              // "" when the rule has no -j/-g
  bool is_goto = false;
  std::vector<RuleOption> target_options;

  const RuleOption* base_option(std::string_view name) const;
  const RuleMatch* match(std::string_view module) const;
  const RuleOption* target_option(std::string_view name) const;
};

Result<ParsedRule> parse_rule(std::string_view rule_text);
// A canonical rendering: equal for rules iptables treats as equal (as far as our rules go).
std::string canonical_rule(const ParsedRule& r);
// canonical_rule(parse_rule(text)) or the text itself when it does not parse.
std::string canonical_rule_text(std::string_view rule_text);

struct ChainState {
  std::string policy = "-";        // "ACCEPT"/"DROP" for built-in chains
  std::vector<std::string> rules;  // rule texts (the words after "-A CHAIN"), in order
};

struct TableState {
  std::vector<std::string> order;  // chain names, creation order
  std::unordered_map<std::string, ChainState> chains;
  const ChainState* chain(std::string_view name) const;
};

class IptablesState {
 public:
  // Applies an iptables-restore payload as `iptables-restore --noflush` would: a ":CHAIN" line
  // creates or flushes the chain; -A/-I/-D/-N/-F/-X work as iptables does. All or nothing.
  Status apply(std::string_view payload);
  // iptables-save style text (tables sorted by name, built-in chains first).
  std::string save() const;
  // Drops all rules of a table (like `iptables -t nat -F`) but keeps the chains.
  void flush_table(const std::string& table);

  const TableState* table(std::string_view name) const;
  const ChainState* chain(std::string_view table, std::string_view chain) const;
  size_t rule_count() const;
  const std::map<std::string, TableState, std::less<>>& tables() const { return tables_; }

 private:
  std::map<std::string, TableState, std::less<>> tables_;
};

// Parses iptables-save output (or a payload applied to empty tables).
Result<IptablesState> parse_iptables_save(std::string_view text);

}  // namespace knode::netrules
