// A Backend that keeps the tables in memory (IptablesState) and records every payload.
#pragma once

#include <string>
#include <vector>

#include "netrules/backend.h"
#include "netrules/iptables_state.h"

namespace knode::netrules {

class FakeBackend final : public Backend {
 public:
  Status restore(std::string_view payload) override;
  Result<std::string> save() override;
  Result<std::optional<std::vector<std::string>>> list_chain(std::string_view table,
                                                             std::string_view chain) override;

  IptablesState& state() { return state_; }
  const std::vector<std::string>& payloads() const { return payloads_; }
  int saves() const { return saves_; }
  // The next restore fails (and changes nothing).
  void fail_next_restore() { fail_next_ = true; }

 private:
  IptablesState state_;
  std::vector<std::string> payloads_;
  int saves_ = 0;
  bool fail_next_ = false;
};

}  // namespace knode::netrules
