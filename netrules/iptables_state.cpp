#include "netrules/iptables_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace knode::netrules {
namespace {

const std::vector<std::string>& builtin_chains(std::string_view table) {
  static const std::vector<std::string> filter{"INPUT", "FORWARD", "OUTPUT"};
  static const std::vector<std::string> nat{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
  static const std::vector<std::string> mangle{"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
                                               "POSTROUTING"};
  static const std::vector<std::string> raw{"PREROUTING", "OUTPUT"};
  static const std::vector<std::string> security{"INPUT", "FORWARD", "OUTPUT"};
  static const std::vector<std::string> none;
  if (table == "filter") return filter;
  if (table == "nat") return nat;
  if (table == "mangle") return mangle;
  if (table == "raw") return raw;
  if (table == "security") return security;
  return none;
}

bool is_builtin(std::string_view table, std::string_view chain) {
  const auto& b = builtin_chains(table);
  return std::find(b.begin(), b.end(), chain) != b.end();
}

TableState new_table(std::string_view name) {
  TableState t;
  for (const auto& c : builtin_chains(name)) {
    t.order.push_back(c);
    t.chains[c].policy = "ACCEPT";
  }
  return t;
}

bool is_option_word(std::string_view w) {
  return w.size() >= 2 && w[0] == '-' && !(w[1] >= '0' && w[1] <= '9');
}

std::string fold_base(std::string_view w) {
  if (w == "-s" || w == "--source" || w == "--src") return "-s";
  if (w == "-d" || w == "--destination" || w == "--dst") return "-d";
  if (w == "-p" || w == "--protocol") return "-p";
  if (w == "-i" || w == "--in-interface") return "-i";
  if (w == "-o" || w == "--out-interface") return "-o";
  return "";
}

std::string normalize_addr(const std::string& a) {
  if (a.find('/') != std::string::npos) return a;
  return a + (a.find(':') != std::string::npos ? "/128" : "/32");
}

std::string normalize_hex(std::string_view v) {
  unsigned long n = std::strtoul(std::string(v).c_str(), nullptr, 0);
  return fmt::format("{:#x}", n);
}

// "v/m" with both in canonical hex; a bare value means mask 0xffffffff.
std::string normalize_mark(std::string_view v) {
  auto slash = v.find('/');
  if (slash == std::string_view::npos) return normalize_hex(v) + "/0xffffffff";
  return normalize_hex(v.substr(0, slash)) + "/" + normalize_hex(v.substr(slash + 1));
}

std::string option_text(const RuleOption& o) {
  std::string s;
  if (o.negated) s += "! ";
  s += o.name;
  for (const auto& a : o.args) {
    s += ' ';
    s += a;
  }
  return s;
}

}  // namespace

std::vector<std::string> split_iptables_words(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0, n = line.size();
  while (i < n) {
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= n) break;
    std::string w;
    bool quoted = false;
    while (i < n) {
      char c = line[i];
      if (quoted) {
        if (c == '\\' && i + 1 < n && (line[i + 1] == '"' || line[i + 1] == '\\')) {
          w.push_back(line[i + 1]);
          i += 2;
          continue;
        }
        if (c == '"') {
          quoted = false;
          ++i;
          continue;
        }
        w.push_back(c);
        ++i;
      } else {
        if (c == ' ' || c == '\t' || c == '\r') break;
        if (c == '"') {
          quoted = true;
          ++i;
          continue;
        }
        w.push_back(c);
        ++i;
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

const std::string& RuleOption::arg(size_t i) const {
  static const std::string empty;
  return i < args.size() ? args[i] : empty;
}

const RuleOption* RuleMatch::option(std::string_view name) const {
  for (const auto& o : options)
    if (o.name == name) return &o;
  return nullptr;
}

const RuleOption* ParsedRule::base_option(std::string_view name) const {
  for (const auto& o : base)
    if (o.name == name) return &o;
  return nullptr;
}

const RuleMatch* ParsedRule::match(std::string_view module) const {
  for (const auto& m : matches)
    if (m.module == module) return &m;
  return nullptr;
}

const RuleOption* ParsedRule::target_option(std::string_view name) const {
  for (const auto& o : target_options)
    if (o.name == name) return &o;
  return nullptr;
}

Result<ParsedRule> parse_rule(std::string_view text) {
  auto words = split_iptables_words(text);
  ParsedRule r;
  enum class Ctx { None, Match, Target } ctx = Ctx::None;
  bool negate = false;
  for (size_t i = 0; i < words.size();) {
    const std::string& w = words[i];
    if (w == "!") {
      negate = true;
      ++i;
      continue;
    }
    if (!is_option_word(w)) return Error(fmt::format("unexpected word {:?} in rule", w));
    if (w == "-m" || w == "--match") {
      if (i + 1 >= words.size()) return Error("-m without a module");
      r.matches.push_back(RuleMatch{.module = words[i + 1], .options = {}});
      ctx = Ctx::Match;
      i += 2;
      continue;
    }
    if (w == "-j" || w == "--jump" || w == "-g" || w == "--goto") {
      if (i + 1 >= words.size()) return Error("-j without a target");
      r.target = words[i + 1];
      r.is_goto = (w == "-g" || w == "--goto");
      ctx = Ctx::Target;
      i += 2;
      continue;
    }
    RuleOption o;
    o.negated = negate;
    negate = false;
    std::string base = fold_base(w);
    o.name = base.empty() ? w : base;
    ++i;
    if (o.name == "--comment") {
      if (i < words.size()) o.args.push_back(words[i++]);
    } else {
      while (i < words.size() && words[i] != "!" && !is_option_word(words[i])) o.args.push_back(words[i++]);
    }
    // Old-style negation after the option ("--dport ! 80") is not used by us; ignore.
    if (!base.empty() && ctx != Ctx::Target) {
      r.base.push_back(std::move(o));
      continue;
    }
    if (ctx == Ctx::Target) {
      r.target_options.push_back(std::move(o));
    } else if (ctx == Ctx::Match) {
      r.matches.back().options.push_back(std::move(o));
    } else {
      // An option before any -m: implicitly the protocol's match (-p tcp --dport 80).
      const RuleOption* p = r.base_option("-p");
      if (!p || p->args.empty()) return Error(fmt::format("option {} outside a match", o.name));
      r.matches.push_back(RuleMatch{.module = p->arg(), .options = {}});
      r.matches.back().options.push_back(std::move(o));
      ctx = Ctx::Match;
    }
  }
  return r;
}

std::string canonical_rule(const ParsedRule& r) {
  std::string out;
  for (const char* name : {"-s", "-d", "-p", "-i", "-o"}) {
    const RuleOption* o = r.base_option(name);
    if (!o) continue;
    RuleOption c = *o;
    if (c.name == "-s" || c.name == "-d") {
      for (auto& a : c.args) a = normalize_addr(a);
    } else if (c.name == "-p") {
      for (auto& a : c.args)
        std::transform(a.begin(), a.end(), a.begin(), [](unsigned char ch) { return std::tolower(ch); });
    }
    out += option_text(c);
    out += ' ';
  }
  for (const auto& m : r.matches) {
    std::vector<std::string> opts;
    for (const auto& o : m.options) {
      RuleOption c = o;
      if (m.module == "recent" && (c.name == "--rsource" ||
                                   (c.name == "--mask" && (c.arg() == "255.255.255.255" ||
                                                             c.arg() == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))))
        continue;
      if (m.module == "statistic" && c.name == "--probability" && !c.args.empty()) {
        double p = std::strtod(c.args[0].c_str(), nullptr);
        c.args[0] = std::to_string(std::lround(p * 2147483648.0));
      }
      if (m.module == "mark" && c.name == "--mark" && !c.args.empty()) c.args[0] = normalize_mark(c.args[0]);
      if (m.module == "conntrack" && (c.name == "--ctstate" || c.name == "--state") && !c.args.empty()) {
        std::vector<std::string> states;
        std::string s = c.args[0];
        for (size_t pos = 0; pos <= s.size();) {
          size_t comma = s.find(',', pos);
          if (comma == std::string::npos) comma = s.size();
          states.push_back(s.substr(pos, comma - pos));
          pos = comma + 1;
        }
        std::sort(states.begin(), states.end());
        std::string joined;
        for (const auto& st : states) joined += (joined.empty() ? "" : ",") + st;
        c.args[0] = joined;
      }
      opts.push_back(option_text(c));
    }
    std::sort(opts.begin(), opts.end());
    out += "-m " + m.module;
    for (const auto& o : opts) out += " " + o;
    out += ' ';
  }
  if (!r.target.empty()) {
    out += r.is_goto ? "-g " : "-j ";
    out += r.target;
    std::vector<std::string> opts;
    for (const auto& o : r.target_options) {
      RuleOption c = o;
      if (r.target == "MARK" && !c.args.empty()) {
        std::string v = c.args[0];
        if (c.name == "--or-mark") {
          c.name = "--set-xmark";
          c.args[0] = normalize_hex(v) + "/" + normalize_hex(v);
        } else if (c.name == "--xor-mark") {
          c.name = "--set-xmark";
          c.args[0] = normalize_hex(v) + "/0x0";
        } else if (c.name == "--set-mark") {
          c.name = "--set-xmark";
          c.args[0] = normalize_mark(v);
        } else if (c.name == "--set-xmark") {
          c.args[0] = normalize_mark(v);
        }
      }
      // The default ICMP type of each family (what iptables-save / ip6tables-save print for a
      // bare `-j REJECT`) is left out, so both forms compare equal in either family.
      if (r.target == "REJECT" && c.name == "--reject-with" &&
          (c.arg() == "icmp-port-unreachable" || c.arg() == "icmp6-port-unreachable"))
        continue;
      opts.push_back(option_text(c));
    }
    std::sort(opts.begin(), opts.end());
    for (const auto& o : opts) out += " " + o;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string canonical_rule_text(std::string_view text) {
  auto r = parse_rule(text);
  if (!r) return std::string(text);
  return canonical_rule(*r);
}

const ChainState* TableState::chain(std::string_view name) const {
  auto it = chains.find(std::string(name));
  return it == chains.end() ? nullptr : &it->second;
}

const TableState* IptablesState::table(std::string_view name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

const ChainState* IptablesState::chain(std::string_view table, std::string_view chain) const {
  const TableState* t = this->table(table);
  return t ? t->chain(chain) : nullptr;
}

size_t IptablesState::rule_count() const {
  size_t n = 0;
  for (const auto& [_, t] : tables_)
    for (const auto& [__, c] : t.chains) n += c.rules.size();
  return n;
}

void IptablesState::flush_table(const std::string& table) {
  auto it = tables_.find(table);
  if (it == tables_.end()) return;
  for (auto& [_, c] : it->second.chains) c.rules.clear();
}

namespace {

// Target of a rule text, found without a full parse.
std::string_view rule_target(std::string_view text) {
  size_t pos = 0;
  for (;;) {
    size_t j = text.find("-j ", pos);
    size_t g = text.find("-g ", pos);
    size_t k = std::min(j, g);
    if (k == std::string_view::npos) return {};
    if (k == 0 || text[k - 1] == ' ') {
      size_t start = k + 3;
      size_t end = text.find(' ', start);
      return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    }
    pos = k + 1;
  }
}

Error line_error(size_t lineno, std::string_view line, std::string_view msg) {
  return Error(fmt::format("line {}: {} ({})", lineno, msg, line.substr(0, 200)));
}

}  // namespace

Status IptablesState::apply(std::string_view payload) {
  auto work = tables_;
  TableState* table = nullptr;
  std::string table_name;
  std::unordered_set<std::string> touched;
  size_t lineno = 0;
  size_t pos = 0;
  while (pos < payload.size()) {
    size_t nl = payload.find('\n', pos);
    if (nl == std::string_view::npos) nl = payload.size();
    std::string_view line = payload.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {  // counters from iptables-save -c
      size_t close = line.find("] ");
      if (close != std::string_view::npos) line.remove_prefix(close + 2);
    }
    if (line[0] == '*') {
      table_name = std::string(line.substr(1));
      auto it = work.find(table_name);
      if (it == work.end()) it = work.emplace(table_name, new_table(table_name)).first;
      table = &it->second;
      touched.insert(table_name);
      continue;
    }
    if (line == "COMMIT") {
      table = nullptr;
      continue;
    }
    if (!table) return line_error(lineno, line, "rule outside a table");
    if (line[0] == ':') {
      size_t sp = line.find(' ');
      std::string name(line.substr(1, sp == std::string_view::npos ? std::string_view::npos : sp - 1));
      std::string policy = "-";
      if (sp != std::string_view::npos) {
        std::string_view rest = line.substr(sp + 1);
        size_t sp2 = rest.find(' ');
        policy = std::string(rest.substr(0, sp2));
      }
      auto it = table->chains.find(name);
      if (it == table->chains.end()) {
        if (is_builtin(table_name, name) && policy == "-") return line_error(lineno, line, "bad policy");
        table->order.push_back(name);
        table->chains[name].policy = policy;
      } else if (is_builtin(table_name, name)) {
        if (policy != "-") it->second.policy = policy;  // --noflush: built-ins keep their rules
      } else {
        it->second.rules.clear();
      }
      continue;
    }
    // -A/-I/-D/-N/-F/-X CHAIN …
    if (line.size() < 3 || line[0] != '-') return line_error(lineno, line, "unknown line");
    char op = line[1];
    std::string_view rest = line.substr(2);
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    size_t sp = rest.find(' ');
    std::string chain(rest.substr(0, sp));
    std::string_view spec = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    auto cit = table->chains.find(chain);
    if (op == 'N') {
      if (cit != table->chains.end()) return line_error(lineno, line, "chain already exists");
      table->order.push_back(chain);
      table->chains[chain];
      continue;
    }
    if (cit == table->chains.end()) return line_error(lineno, line, "no chain by that name");
    auto& rules = cit->second.rules;
    switch (op) {
      case 'A':
        rules.emplace_back(spec);
        break;
      case 'I': {
        size_t at = 0;
        auto words_end = spec.find(' ');
        std::string_view first = spec.substr(0, words_end);
        if (!first.empty() && std::all_of(first.begin(), first.end(), ::isdigit)) {
          at = std::stoul(std::string(first)) - 1;
          spec = words_end == std::string_view::npos ? std::string_view{} : spec.substr(words_end + 1);
        }
        if (at > rules.size()) return line_error(lineno, line, "index of insertion too big");
        rules.insert(rules.begin() + static_cast<long>(at), std::string(spec));
        break;
      }
      case 'D': {
        if (!spec.empty() && std::all_of(spec.begin(), spec.end(), ::isdigit)) {
          size_t n = std::stoul(std::string(spec));
          if (n == 0 || n > rules.size()) return line_error(lineno, line, "index of deletion too big");
          rules.erase(rules.begin() + static_cast<long>(n - 1));
          break;
        }
        std::string want = canonical_rule_text(spec);
        auto it = std::find_if(rules.begin(), rules.end(),
                               [&](const std::string& r) { return canonical_rule_text(r) == want; });
        if (it == rules.end()) return line_error(lineno, line, "rule to delete does not exist");
        rules.erase(it);
        break;
      }
      case 'F':
        rules.clear();
        break;
      case 'X':
        if (is_builtin(table_name, chain)) return line_error(lineno, line, "cannot delete a built-in chain");
        if (!rules.empty()) return line_error(lineno, line, "chain is not empty");
        table->chains.erase(cit);
        table->order.erase(std::find(table->order.begin(), table->order.end(), chain));
        break;
      default:
        return line_error(lineno, line, "unknown command");
    }
  }
  // Every jump into a KUBE- chain must land on an existing chain.
  for (const auto& name : touched) {
    const TableState& t = work.at(name);
    for (const auto& [cname, c] : t.chains)
      for (const auto& r : c.rules) {
        std::string_view target = rule_target(r);
        if (target.starts_with("KUBE-") && !t.chains.count(std::string(target)))
          return Error(fmt::format("table {}: chain {} jumps to missing chain {}", name, cname, target));
      }
  }
  tables_ = std::move(work);
  return Status::Ok();
}

std::string IptablesState::save() const {
  std::string out;
  for (const auto& [name, t] : tables_) {
    out += "*" + name + "\n";
    std::vector<std::string> order;
    for (const auto& b : builtin_chains(name))
      if (t.chains.count(b)) order.push_back(b);
    std::vector<std::string> user;
    for (const auto& c : t.order)
      if (!is_builtin(name, c)) user.push_back(c);
    std::sort(user.begin(), user.end());
    order.insert(order.end(), user.begin(), user.end());
    for (const auto& c : order) out += ":" + c + " " + t.chains.at(c).policy + " [0:0]\n";
    for (const auto& c : order)
      for (const auto& r : t.chains.at(c).rules) out += "-A " + c + " " + r + "\n";
    out += "COMMIT\n";
  }
  return out;
}

Result<IptablesState> parse_iptables_save(std::string_view text) {
  IptablesState s;
  if (Status st = s.apply(text); !st) return st.error();
  return s;
}

}  // namespace knode::netrules
