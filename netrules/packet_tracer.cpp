#include "netrules/packet_tracer.h"

#include <cstdio>
#include <cstdlib>
#include <map>

namespace knode::netrules {
namespace {

bool in_cidr(const std::string& ip, const std::string& cidr) {
  return cidr_contains(cidr, ip) || ip == cidr.substr(0, cidr.find('/'));
}

bool port_in(int port, const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == std::string::npos) return port == std::atoi(spec.c_str());
  return port >= std::atoi(spec.substr(0, colon).c_str()) && port <= std::atoi(spec.substr(colon + 1).c_str());
}

enum class Verdict { Continue, Accept, Drop, Reject };

struct State {
  std::string src, dst;
  int dport;
  uint32_t mark = 0;
  bool dnatted = false;
  std::vector<bool> decisions;  // statistic outcomes to use, in order
  size_t next_decision = 0;
  std::vector<size_t> defaulted;  // indexes of decisions taken by default (true)
  TracePath path;
};

using ParsedChains = std::map<std::string, std::map<std::string, std::vector<ParsedRule>>>;

class Run {
 public:
  Run(const IptablesState& st, const ParsedChains& parsed, const std::vector<std::string>& local,
      const Packet& pkt)
      : st_(st), parsed_(parsed), local_(local), pkt_(pkt) {}

  bool is_local(const std::string& ip) const {
    if (in_cidr(ip, "127.0.0.0/8") || ip == "::1") return true;
    for (const auto& l : local_)
      if (l == ip) return true;
    return false;
  }

  Verdict chain(const std::string& table, const std::string& name, State& s, int depth = 0) {
    if (depth > 64) return Verdict::Drop;
    auto t = parsed_.find(table);
    if (t == parsed_.end()) return Verdict::Continue;
    auto c = t->second.find(name);
    if (c == t->second.end()) return Verdict::Continue;
    s.path.chains.push_back(table + "/" + name);
    for (const ParsedRule& r : c->second) {
      if (!matches(r, s)) continue;
      if (r.target.empty()) continue;
      const std::string& tg = r.target;
      if (tg == "ACCEPT") return Verdict::Accept;
      if (tg == "DROP") return Verdict::Drop;
      if (tg == "REJECT") {
        // What the kernel answers with: --reject-with, else the family's port unreachable.
        const RuleOption* with = r.target_option("--reject-with");
        s.path.reject_with = with ? with->arg()
                                  : is_ipv6(s.dst) ? "icmp6-port-unreachable" : "icmp-port-unreachable";
        return Verdict::Reject;
      }
      if (tg == "RETURN") return Verdict::Continue;
      if (tg == "DNAT") {
        const RuleOption* to = r.target_option("--to-destination");
        if (to) {
          std::string d = to->arg();
          s.path.dnat = d;
          auto colon = d.rfind(':');
          if (d.starts_with("[")) {
            auto close = d.find(']');
            s.dst = d.substr(1, close - 1);
            if (colon != std::string::npos && colon > close) s.dport = std::atoi(d.c_str() + colon + 1);
          } else if (colon != std::string::npos) {
            s.dst = d.substr(0, colon);
            s.dport = std::atoi(d.c_str() + colon + 1);
          } else {
            s.dst = d;
          }
          s.dnatted = true;
        }
        return Verdict::Accept;
      }
      if (tg == "MASQUERADE" || tg == "SNAT") {
        s.path.masquerade = true;
        return Verdict::Accept;
      }
      if (tg == "MARK") {
        apply_mark(r, s);
        continue;
      }
      if (st_.chain(table, tg)) {
        Verdict v = chain(table, tg, s, depth + 1);
        if (v != Verdict::Continue) return v;
        continue;
      }
      // LOG and other non-terminating targets.
    }
    return Verdict::Continue;
  }

  Verdict builtin(const std::string& table, const std::string& name, State& s) {
    Verdict v = chain(table, name, s);
    if (v != Verdict::Continue) return v;
    const ChainState* c = st_.chain(table, name);
    if (c && c->policy == "DROP") return Verdict::Drop;
    return Verdict::Accept;
  }

 private:
  static uint32_t num(const std::string& s) { return static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 0)); }

  void apply_mark(const ParsedRule& r, State& s) {
    for (const auto& o : r.target_options) {
      std::string a = o.arg();
      auto slash = a.find('/');
      uint32_t v = num(a.substr(0, slash));
      uint32_t m = slash == std::string::npos ? 0xffffffffu : num(a.substr(slash + 1));
      if (o.name == "--or-mark") s.mark |= v;
      else if (o.name == "--xor-mark") s.mark ^= v;
      else if (o.name == "--and-mark") s.mark &= v;
      else if (o.name == "--set-mark") s.mark = (s.mark & ~m) | v;
      else if (o.name == "--set-xmark") s.mark = (s.mark & ~m) ^ v;
    }
  }

  bool decide(State& s) {
    if (s.next_decision < s.decisions.size()) return s.decisions[s.next_decision++];
    s.defaulted.push_back(s.decisions.size());
    s.decisions.push_back(true);
    ++s.next_decision;
    return true;
  }

  bool matches(const ParsedRule& r, State& s) {
    for (const auto& o : r.base) {
      bool m = true;
      if (o.name == "-s") m = in_cidr(s.src, o.arg());
      else if (o.name == "-d") m = in_cidr(s.dst, o.arg());
      else if (o.name == "-p") m = o.arg() == protocol_lower(pkt_.protocol) || o.arg() == "all";
      else if (o.name == "-i") {
        const std::string& want = o.arg();
        m = !pkt_.in_interface.empty() &&
            (want.ends_with("+") ? pkt_.in_interface.starts_with(want.substr(0, want.size() - 1))
                                 : pkt_.in_interface == want);
      } else if (o.name == "-o") m = false;
      if (m == o.negated) return false;
    }
    for (const auto& mt : r.matches) {
      const std::string& mod = mt.module;
      if (mod == "comment" || mod == "nfacct") continue;
      if (mod == "statistic") {
        if (!decide(s)) return false;
        continue;
      }
      if (mod == "recent") {
        const RuleOption* name = mt.option("--name");
        std::string list = name ? name->arg() : "DEFAULT";
        if (mt.option("--set")) {
          s.path.recent_set.push_back(list);
          continue;
        }
        if (mt.option("--rcheck") || mt.option("--update")) {
          if (!pkt_.recent_lists.count(list)) return false;
          continue;
        }
        continue;
      }
      for (const auto& o : mt.options) {
        bool m = true;
        if (mod == "tcp" || mod == "udp" || mod == "sctp") {
          if (mod != protocol_lower(pkt_.protocol)) return false;
          if (o.name == "--dport" || o.name == "--destination-port") m = port_in(s.dport, o.arg());
          else if (o.name == "--sport" || o.name == "--source-port") m = port_in(pkt_.src_port, o.arg());
        } else if (mod == "addrtype") {
          bool local = o.name == "--src-type" ? is_local(s.src) : is_local(s.dst);
          if (o.name == "--src-type" || o.name == "--dst-type") m = o.arg() == "LOCAL" ? local : !local;
        } else if (mod == "mark") {
          if (o.name == "--mark") {
            std::string a = o.arg();
            auto slash = a.find('/');
            uint32_t v = num(a.substr(0, slash));
            uint32_t mask = slash == std::string::npos ? 0xffffffffu : num(a.substr(slash + 1));
            m = (s.mark & mask) == v;
          }
        } else if (mod == "conntrack") {
          if (o.name == "--ctstate" || o.name == "--state") {
            m = false;
            std::string states = o.arg();
            size_t pos = 0;
            while (pos <= states.size()) {
              size_t comma = states.find(',', pos);
              if (comma == std::string::npos) comma = states.size();
              std::string st = states.substr(pos, comma - pos);
              if (st == "NEW" || (st == "DNAT" && s.dnatted)) m = true;
              pos = comma + 1;
            }
          }
        } else {
          m = false;  // a match we do not model never matches
        }
        if (m == o.negated) return false;
      }
    }
    return true;
  }

  const IptablesState& st_;
  const ParsedChains& parsed_;
  const std::vector<std::string>& local_;
  const Packet& pkt_;
};

}  // namespace

std::set<std::string> TraceResult::endpoints() const {
  std::set<std::string> out;
  for (const auto& p : paths)
    if (p.verdict == "ACCEPT" && !p.dnat.empty()) out.insert(p.dnat);
  return out;
}

std::string TraceResult::verdict() const {
  if (paths.empty()) return "";
  std::string v = paths[0].verdict;
  for (const auto& p : paths)
    if (p.verdict != v) return "MIXED";
  return v;
}

bool TraceResult::all_masqueraded() const {
  for (const auto& p : paths)
    if (!p.masquerade) return false;
  return !paths.empty();
}

bool TraceResult::none_masqueraded() const {
  for (const auto& p : paths)
    if (p.masquerade) return false;
  return true;
}

PacketTracer::PacketTracer(const IptablesState& state, std::vector<std::string> local_ips)
    : state_(state), local_ips_(std::move(local_ips)) {}

TraceResult PacketTracer::trace(const Packet& pkt) const {
  ParsedChains parsed;
  for (const auto& [tname, t] : state_.tables())
    for (const auto& [cname, c] : t.chains) {
      auto& v = parsed[tname][cname];
      for (const auto& r : c.rules) {
        auto pr = parse_rule(r);
        if (pr) v.push_back(std::move(*pr));
      }
    }
  TraceResult res;
  std::vector<std::vector<bool>> todo{{}};
  while (!todo.empty() && res.paths.size() < 1024) {
    State s;
    s.src = pkt.src_ip;
    s.dst = pkt.dst_ip;
    s.dport = pkt.dst_port;
    s.decisions = todo.back();
    todo.pop_back();
    Run run(state_, parsed, local_ips_, pkt);
    Verdict v;
    if (pkt.source == PacketSource::Node) {
      run.builtin("nat", "OUTPUT", s);
      v = run.builtin("filter", "OUTPUT", s);
    } else {
      run.builtin("nat", "PREROUTING", s);
      v = run.is_local(s.dst) ? run.builtin("filter", "INPUT", s) : run.builtin("filter", "FORWARD", s);
    }
    if (v == Verdict::Accept) run.builtin("nat", "POSTROUTING", s);
    s.path.verdict = v == Verdict::Accept ? "ACCEPT" : v == Verdict::Drop ? "DROP" : "REJECT";
    // Branch on every statistic decision that was taken by default.
    for (size_t idx : s.defaulted) {
      std::vector<bool> alt(s.decisions.begin(), s.decisions.begin() + static_cast<long>(idx));
      alt.push_back(false);
      todo.push_back(std::move(alt));
    }
    res.paths.push_back(std::move(s.path));
  }
  return res;
}

}  // namespace knode::netrules
