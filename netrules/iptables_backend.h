// The real iptables boundary: execs iptables-restore / iptables-save / iptables of the chosen
// flavour (nft or legacy), optionally inside a network namespace.
#pragma once

#include <string>

#include "netrules/backend.h"
#include "netrules/model.h"

namespace knode::netrules {

// Which iptables the host uses. System: the plain `iptables-*` names (whatever the
// alternatives point to).
enum class IptablesMode { Nft, Legacy, System };
const char* iptables_mode_name(IptablesMode m);

struct IptablesBackendOptions {
  IptablesMode mode = IptablesMode::Nft;
  IPFamily family = IPFamily::IPv4;
  std::string netns;       // "" or a path like /run/netns/NAME
  int wait_seconds = 5;    // -w, as upstream
};

class IptablesRestoreBackend final : public Backend {
 public:
  explicit IptablesRestoreBackend(IptablesBackendOptions options);
  Status restore(std::string_view payload) override;
  Status restore_pieces(const std::vector<std::string_view>& pieces) override;
  Result<std::string> save() override;
  Status save_to(const std::function<void(std::string_view)>& sink) override;
  Result<std::optional<std::vector<std::string>>> list_chain(std::string_view table,
                                                             std::string_view chain) override;
  const IptablesBackendOptions& options() const { return options_; }
  // Whether this family's iptables works here (its nat POSTROUTING chain can be listed), as
  // upstream's dual-stack detection checks each family.
  bool present();

 private:
  std::string tool(std::string_view base) const;  // e.g. "iptables-nft-restore"
  IptablesBackendOptions options_;
};

// Upstream's choice between the two iptables flavours (iptables-wrappers): a kubelet canary
// (KUBE-IPTABLES-HINT / KUBE-KUBELET-CANARY) in nft's mangle table means nft; one in legacy's
// tables means legacy; otherwise the flavour holding more rules; nft when undecided.
IptablesMode choose_iptables_mode(std::string_view nft_save, std::string_view legacy_save);
// Runs iptables-nft-save and iptables-legacy-save (in netns) and applies choose_iptables_mode.
IptablesMode detect_iptables_mode(IPFamily family = IPFamily::IPv4, const std::string& netns = {});

}  // namespace knode::netrules
