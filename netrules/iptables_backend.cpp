#include "netrules/iptables_backend.h"

#include <fmt/format.h>

#include <regex>

#include "netrules/exec.h"

namespace knode::netrules {

const char* iptables_mode_name(IptablesMode m) {
  switch (m) {
    case IptablesMode::Nft: return "nft";
    case IptablesMode::Legacy: return "legacy";
    case IptablesMode::System: return "system";
  }
  return "nft";
}

IptablesRestoreBackend::IptablesRestoreBackend(IptablesBackendOptions options)
    : options_(std::move(options)) {}

std::string IptablesRestoreBackend::tool(std::string_view base) const {
  // base: "", "-save" or "-restore"
  std::string name = options_.family == IPFamily::IPv6 ? "ip6tables" : "iptables";
  if (options_.mode == IptablesMode::Nft) name += "-nft";
  if (options_.mode == IptablesMode::Legacy) name += "-legacy";
  name += base;
  return name;
}

Status IptablesRestoreBackend::restore(std::string_view payload) {
  return restore_pieces(std::vector<std::string_view>{payload});
}

Status IptablesRestoreBackend::restore_pieces(const std::vector<std::string_view>& pieces) {
  // Upstream: iptables-restore -w 5 -W 100000 --noflush --counters. iptables 1.8.9 ignores -W
  // (with a warning), so only -w is passed.
  std::vector<std::string> argv{tool("-restore"), "-w", std::to_string(options_.wait_seconds),
                                "--noflush", "--counters"};
  auto r = run_program_io(argv, ExecIo{.stdin_pieces = pieces}, options_.netns);
  if (!r) return r.error().wrap(argv[0]);
  if (r->exit_code != 0)
    return Error(fmt::format("{} exited with {}: {}", argv[0], r->exit_code, r->err));
  return Status::Ok();
}

Status IptablesRestoreBackend::save_to(const std::function<void(std::string_view)>& sink) {
  std::vector<std::string> argv{tool("-save")};
  auto r = run_program_io(argv, ExecIo{.on_stdout = sink}, options_.netns);
  if (!r) return r.error().wrap(argv[0]);
  if (r->exit_code != 0)
    return Error(fmt::format("{} exited with {}: {}", argv[0], r->exit_code, r->err));
  return Status::Ok();
}

Result<std::string> IptablesRestoreBackend::save() {
  std::vector<std::string> argv{tool("-save")};
  auto r = run_program(argv, {}, options_.netns);
  if (!r) return r.error().wrap(argv[0]);
  if (r->exit_code != 0)
    return Error(fmt::format("{} exited with {}: {}", argv[0], r->exit_code, r->err));
  return std::move(r->out);
}

Result<std::optional<std::vector<std::string>>> IptablesRestoreBackend::list_chain(std::string_view table,
                                                                                   std::string_view chain) {
  std::vector<std::string> argv{tool(""), "-w", std::to_string(options_.wait_seconds), "-t",
                                std::string(table), "-S", std::string(chain)};
  auto r = run_program(argv, {}, options_.netns);
  if (!r) return r.error().wrap(argv[0]);
  if (r->exit_code == 1) return std::optional<std::vector<std::string>>{};  // no such chain
  if (r->exit_code != 0)
    return Error(fmt::format("{} exited with {}: {}", argv[0], r->exit_code, r->err));
  std::vector<std::string> rules;
  std::string prefix = fmt::format("-A {} ", chain);
  size_t pos = 0;
  while (pos < r->out.size()) {
    size_t nl = r->out.find('\n', pos);
    if (nl == std::string::npos) nl = r->out.size();
    std::string_view line(r->out.data() + pos, nl - pos);
    if (line.starts_with(prefix)) rules.emplace_back(line.substr(prefix.size()));
    pos = nl + 1;
  }
  return std::optional<std::vector<std::string>>(std::move(rules));
}

bool IptablesRestoreBackend::present() {
  auto r = list_chain("nat", "POSTROUTING");
  return r && r->has_value();
}

namespace {
bool has_kubelet_canary(std::string_view save) {
  static const std::regex re("(^|\n):(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) ");
  return std::regex_search(save.begin(), save.end(), re);
}
size_t count_rules(std::string_view save) {
  size_t n = 0;
  if (save.starts_with("-A ")) ++n;
  for (size_t pos = save.find("\n-A "); pos != std::string_view::npos; pos = save.find("\n-A ", pos + 1)) ++n;
  return n;
}
}  // namespace

IptablesMode choose_iptables_mode(std::string_view nft_save, std::string_view legacy_save) {
  if (has_kubelet_canary(nft_save)) return IptablesMode::Nft;
  if (has_kubelet_canary(legacy_save)) return IptablesMode::Legacy;
  if (count_rules(legacy_save) > count_rules(nft_save)) return IptablesMode::Legacy;
  return IptablesMode::Nft;
}

IptablesMode detect_iptables_mode(IPFamily family, const std::string& netns) {
  std::string base = family == IPFamily::IPv6 ? "ip6tables" : "iptables";
  std::string nft, legacy;
  if (auto r = run_program({base + "-nft-save"}, {}, netns); r && r->exit_code == 0) nft = r->out;
  if (auto r = run_program({base + "-legacy-save"}, {}, netns); r && r->exit_code == 0) legacy = r->out;
  return choose_iptables_mode(nft, legacy);
}

}  // namespace knode::netrules
