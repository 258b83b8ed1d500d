// The boundary to the kernel's iptables: one restore payload in, save text out. The real
// implementation execs iptables-restore/iptables-save (iptables_backend.h); tests use FakeBackend.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"

namespace knode::netrules {

class Backend {
 public:
  virtual ~Backend() = default;
  // One transaction: `iptables-restore --noflush --counters` fed with payload.
  virtual Status restore(std::string_view payload) = 0;
  // The same transaction given in pieces (one payload, split anywhere).
  virtual Status restore_pieces(const std::vector<std::string_view>& pieces) {
    std::string payload;
    for (auto p : pieces) payload += p;
    return restore(payload);
  }
  // iptables-save output of every table.
  virtual Result<std::string> save() = 0;
  // The same output handed to `sink` piece by piece as it is read (split anywhere).
  virtual Status save_to(const std::function<void(std::string_view)>& sink) {
    auto text = save();
    if (!text) return text.error();
    sink(*text);
    return Status::Ok();
  }
  // The rules of one chain (texts after "-A <chain> "), or nullopt when the chain does not exist
  // (`iptables -t table -S chain`). Used by the canary check.
  virtual Result<std::optional<std::vector<std::string>>> list_chain(std::string_view table,
                                                                     std::string_view chain) = 0;
};

}  // namespace knode::netrules
