#include "netrules/fake_backend.h"

namespace knode::netrules {

Status FakeBackend::restore(std::string_view payload) {
  payloads_.emplace_back(payload);
  if (fail_next_) {
    fail_next_ = false;
    return Error("iptables-restore: injected failure");
  }
  return state_.apply(payload);
}

Result<std::string> FakeBackend::save() {
  ++saves_;
  return state_.save();
}

Result<std::optional<std::vector<std::string>>> FakeBackend::list_chain(std::string_view table,
                                                                        std::string_view chain) {
  const ChainState* c = state_.chain(table, chain);
  if (!c) return std::optional<std::vector<std::string>>{};
  return std::optional<std::vector<std::string>>(c->rules);
}

}  // namespace knode::netrules
