#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "netrules/fake_backend.h"
#include "netrules/iptables_syncer.h"
#include "netrules_test_cluster.h"

using namespace knode::netrules;
using namespace knode::netrules::testing;


TEST_CASE("full payload of a small cluster matches the golden file", "[netrules][golden]") {
  FakeBackend backend;
  IptablesSyncer syncer(backend, test_node());
  for (auto& s : small_cluster()) syncer.update_service(s.port, s.endpoints);
  check_golden("small_cluster_full.txt", syncer.full_payload());
  auto r = syncer.sync();
  REQUIRE(r.ok());
  CHECK(r->full);
  CHECK(r->payload == syncer.full_payload());
}

TEST_CASE("large cluster mode drops endpoint comments", "[netrules][golden]") {
  FakeBackend backend;
  NodeSettings node = test_node();
  node.large_cluster_endpoints_threshold = 2;
  IptablesSyncer syncer(backend, node);
  auto c = small_cluster();
  syncer.update_service(c[0].port, c[0].endpoints);
  check_golden("large_cluster_svc1.txt", syncer.full_payload());
}
