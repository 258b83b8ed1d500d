// The start-up steps both roles share once their flags are parsed: report a parse error, answer
// --help and --version, configure logging, and log the warnings collected while loading.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "agent/base/log.h"
#include "agent/base/result.h"

namespace knode {

// Returns the exit code when the process should stop now, or nullopt to go on running the role.
template <class Options>
std::optional<int> handle_role_options(const Result<Options>& loaded, std::string (*usage)()) {
  if (!loaded) {
    std::fprintf(stderr, "Error: %s\n", loaded.error().message().c_str());
    return 1;
  }
  const Options& o = *loaded;
  if (o.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (o.version) {
    std::printf("Kubernetes %s\n", KNODE_KUBE_VERSION);
    return 0;
  }
  if (auto st = log::configure(o.logging); !st) {
    std::fprintf(stderr, "Error: %s\n", st.message().c_str());
    return 1;
  }
  for (const auto& w : o.warnings) log::warning(w);
  return std::nullopt;
}

}  // namespace knode
