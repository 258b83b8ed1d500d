#include <catch2/catch.hpp>

#include "netrules/chain_names.h"
#include "netrules/iptables_ruleset.h"

using namespace knode::netrules;

TEST_CASE("service chain names use upstream's hash", "[netrules][names]") {
  CHECK(port_proto_hash("default/kubernetes:https", "tcp") == "NPX46M4PTMTKRN6Y");
  CHECK(port_proto_hash("kube-system/kube-dns:dns", "udp") == "TCOU7JCQXEZGVUNU");
  CHECK(port_proto_hash("kube-system/kube-dns:dns-tcp", "tcp") == "ERIFXISQEP7F7OF4");

  ServicePortName dns{.namespace_name = "kube-system", .name = "kube-dns", .port = "dns", .protocol = Protocol::UDP};
  auto names = service_chain_names(dns);
  CHECK(names.cluster == "KUBE-SVC-TCOU7JCQXEZGVUNU");
  CHECK(names.local == "KUBE-SVL-TCOU7JCQXEZGVUNU");
  CHECK(names.external == "KUBE-EXT-TCOU7JCQXEZGVUNU");
  CHECK(names.firewall == "KUBE-FW-TCOU7JCQXEZGVUNU");
  ServicePortName api{.namespace_name = "default", .name = "kubernetes", .port = "https", .protocol = Protocol::TCP};
  CHECK(service_chain_names(api).cluster == "KUBE-SVC-NPX46M4PTMTKRN6Y");
}

TEST_CASE("endpoint chain names hash the endpoint too", "[netrules][names]") {
  ServicePortName n{.namespace_name = "ns1", .name = "svc1", .port = "p80", .protocol = Protocol::TCP};
  Endpoint a{.ip = "10.180.0.1", .port = 80};
  Endpoint b{.ip = "10.180.0.2", .port = 80};
  std::string ca = endpoint_chain_name(n, a);
  CHECK(ca.starts_with("KUBE-SEP-"));
  CHECK(ca.size() == 25);
  CHECK(ca == "KUBE-SEP-" + port_proto_hash("ns1/svc1:p80", "tcp10.180.0.1:80"));
  CHECK(ca != endpoint_chain_name(n, b));
  CHECK(is_service_chain_name(ca));
  CHECK(is_service_chain_name("KUBE-FW-ABC"));
  CHECK_FALSE(is_service_chain_name("KUBE-SERVICES"));
  CHECK_FALSE(is_service_chain_name("KUBE-MARK-MASQ"));
}

TEST_CASE("service port names and endpoint strings", "[netrules][names]") {
  CHECK(ServicePortName{.namespace_name = "ns", .name = "s", .port = ""}.str() == "ns/s");
  CHECK(ServicePortName{.namespace_name = "ns", .name = "s", .port = "http"}.str() == "ns/s:http");
  CHECK(Endpoint{.ip = "fd00::1", .port = 53}.str() == "[fd00::1]:53");
  NodeSettings node;
  CHECK(node.masquerade_mark() == "0x4000");
  node.masquerade_bit = 0;
  CHECK(node.masquerade_mark() == "0x1");
}

TEST_CASE("probabilities are formatted like upstream", "[netrules][names]") {
  CHECK(probability(2) == "0.5000000000");
  CHECK(probability(3) == "0.3333333333");
  CHECK(probability(4) == "0.2500000000");
  CHECK(probability(7) == "0.1428571429");
  CHECK(probability(10) == "0.1000000000");
}
