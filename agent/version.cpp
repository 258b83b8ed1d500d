#include <cstdio>

#include "agent/roles.h"

namespace knode {

std::string version_string() { return "knode v" KNODE_VERSION; }

int version_main(const std::vector<std::string>&) {
  std::printf("%s\n", version_string().c_str());
  return 0;
}

}  // namespace knode
