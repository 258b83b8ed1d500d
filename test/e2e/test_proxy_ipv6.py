"""End-to-end: `knode proxy` (iptables mode) on a dual-stack node, with real IPv6 packets in network
namespaces (fd00::/64 ULA addresses on the test's veths only): an IPv6 ClusterIP from a client pod
to backend pods over IPv6, a NodePort reached over IPv6 from outside the node, a dual-stack Service
answering on both families, REJECT (ICMPv6 port unreachable) without endpoints, and the ip6tables
rules themselves, UDP flows to a removed IPv6 endpoint deleted (`conntrack -f ipv6`), and an
IPv6-primary node. The API server double gives IPv6 cluster IPs from fd00:10:96::/108; the IPv6
endpoints are EndpointSlices of addressType IPv6 written by the test, as for selector-less Services.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import knode_e2e  # noqa: E402
import proxy_world  # noqa: E402
import test_proxy_services  # noqa: E402  (its helpers only; its tests run from their own file)
from proxy_world import CLIENT, EXT, NODE, NODE_IP6, NODE_NAME, POD_IPS6, in_ns  # noqa: E402


# test_proxy_services' UDP responder and client, over IPv6 ('' binds in6addr_any).
UDP_PORT, UDP_TARGET = test_proxy_services.UDP_PORT, test_proxy_services.UDP_TARGET
UDP_RESPONDER = test_proxy_services.UDP_RESPONDER.replace("AF_INET,", "AF_INET6,")
UDP_ASK = test_proxy_services.UDP_ASK.replace("AF_INET,", "AF_INET6,")


def slice6(service, ips, name=None, port=("http", 8080, "TCP")):
    """An EndpointSlice of addressType IPv6 for `service` (port "http" → 8080), endpoints ready."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name or service + "-v6", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv6",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False},
                           "nodeName": NODE_NAME} for ip in ips],
            "ports": [{"name": port[0], "port": port[1], "protocol": port[2]}]}


@unittest.skipUnless(proxy_world.usable() and proxy_world.shutil.which("ip6tables"),
                     "needs root, ip, busybox, kubectl, iptables, ip6tables and the knode binary")
class ProxyIPv6E2E(proxy_world.ProxyWorld):
    IPV6 = True
    CLUSTER_CIDR = "10.244.0.0/16,fd00::244:0/112"

    @classmethod
    def cluster_objects(cls):
        http = [{"name": "http", "port": 80, "targetPort": 8080}]
        cls.add_service("web6", {"ipFamilies": ["IPv6"], "ports": http})
        cls.apply(slice6("web6", POD_IPS6))
        cls.add_service("np6", {"type": "NodePort", "ipFamilies": ["IPv6"], "ports": http})
        cls.apply(slice6("np6", POD_IPS6[:2]))
        cls.add_service("empty6", {"ipFamilies": ["IPv6"], "ports": http})
        cls.apply(slice6("empty6", []))
        # Dual-stack: the double's controller writes the IPv4 slice from the pods, the test the IPv6 one.
        cls.add_service("dual", {"ipFamilyPolicy": "PreferDualStack", "selector": {"app": "web"}, "ports": http})
        cls.apply(slice6("dual", POD_IPS6[1:]))
        cls.add_service("udp6", {"ipFamilies": ["IPv6"], "ports": [{"name": "dns", "protocol": "UDP",
                                                                     "port": UDP_PORT, "targetPort": UDP_TARGET}]})
        cls.apply(slice6("udp6", POD_IPS6[:1], port=("dns", UDP_TARGET, "UDP")))
        for i, ns in enumerate(proxy_world.PODS[:2]):
            cls.background(ns, sys.executable, "-c", UDP_RESPONDER, "pod%d" % (i + 1), str(UDP_TARGET))

    def ip(self, name, family):
        for ip in self.svc[name]["spec"]["clusterIPs"]:
            if (":" in ip) == (family == 6):
                return ip
        self.fail("service %s has no IPv%d cluster IP: %s" % (name, family, self.svc[name]["spec"]))

    def url6(self, ip, port=80):
        return "http://[%s]:%d/" % (ip, port)

    def wait_bodies(self, url, want, ns=CLIENT):
        return self.wait_for(lambda: self.bodies(url, 20, ns) == want, what="%s to answer %s" % (url, sorted(want)))

    def test_01_dual_stack_mode(self):
        self.assertEqual(self.svc["web6"]["spec"]["ipFamilies"], ["IPv6"])
        self.assertEqual(len(self.svc["dual"]["spec"]["clusterIPs"]), 2)
        self.wait_for(lambda: "kube-proxy running in dual-stack mode" in self.proxy_text(), what="dual-stack mode")
        self.assertIn('primary ipFamily="IPv4"', self.proxy_text())

    def test_02_ipv6_cluster_ip_from_a_pod(self):
        url = self.url6(self.ip("web6", 6))
        self.wait_bodies(url, {"pod1", "pod2", "pod3"})
        # The backends saw the client's own IPv6 address (pod traffic is not masqueraded).
        save = in_ns(NODE, "ip6tables-save", "-t", "nat").stdout
        self.assertIn("-d %s/128" % self.ip("web6", 6), save)
        self.assertIn("--to-destination [%s]:8080" % POD_IPS6[0], save)

    def test_03_ipv6_node_port_from_outside(self):
        url = self.url6(NODE_IP6, self.node_port("np6"))
        self.wait_bodies(url, {"pod1", "pod2"}, ns=EXT)

    def test_04_dual_stack_service_on_both_families(self):
        self.wait_bodies("http://%s:80/" % self.ip("dual", 4), {"pod1", "pod2", "pod3"})
        self.wait_bodies(self.url6(self.ip("dual", 6)), {"pod2", "pod3"})

    def test_05_no_endpoints_rejected_with_icmp6(self):
        url = self.url6(self.ip("empty6", 6))

        def refused():
            start = time.time()
            status, text = self.fetch(CLIENT, url, 1, 3)[0]
            return status == 0 and "ConnectionRefused" in text and time.time() - start < 2
        self.wait_for(refused, what="a connection refused by the REJECT rule")
        save = in_ns(NODE, "ip6tables-save", "-t", "filter").stdout
        self.assertIn("--reject-with icmp6-port-unreachable", save)
        self.assertIn("%s has no endpoints" % "default/empty6:http", save)

    def test_06_ipv4_only_parts_stay_out_of_ip6tables(self):
        self.wait_for(lambda: "KUBE-SERVICES" in in_ns(NODE, "ip6tables-save").stdout, what="ip6tables rules")
        save6 = in_ns(NODE, "ip6tables-save").stdout
        self.assertNotIn("KUBE-FIREWALL", save6)
        self.assertNotIn("127.0.0.0/8", save6)
        self.assertIn("! -d ::1/128", save6)
        self.assertNotIn("10.244.", save6)
        self.assertIn("fd00::244:0/112", save6)  # this family's part of clusterCIDR
        save4 = in_ns(NODE, "iptables-save").stdout
        self.assertNotIn("fd00:", save4)
        self.assertIn("KUBE-FIREWALL", save4)

    def test_07_endpoint_change_and_family_health(self):
        url = self.url6(self.ip("web6", 6))
        self.apply(slice6("web6", POD_IPS6[2:]))
        self.wait_bodies(url, {"pod3"})
        self.apply(slice6("web6", POD_IPS6))
        self.wait_bodies(url, {"pod1", "pod2", "pod3"})
        r = in_ns(NODE, "python3", "-c", "import urllib.request;print(urllib.request.urlopen("
                  "'http://127.0.0.1:10256/healthz',timeout=3).read().decode())")
        self.assertIn("lastUpdated", r.stdout)

    def test_09_udp_stale_flow_deleted_with_conntrack_f_ipv6(self):
        vip = self.ip("udp6", 6)
        sport = 40053  # one flow all along: without `conntrack -D -f ipv6` it would stay on pod1

        def ask(timeout=0.5):
            return in_ns(CLIENT, sys.executable, "-c", UDP_ASK, vip, str(UDP_PORT), str(sport), str(timeout)).stdout.strip()
        self.wait_for(lambda: ask() == "pod1", what="a UDP answer from pod1 over IPv6")
        self.assertTrue(any("sport=%d" % sport in f for f in in_ns(
            NODE, "conntrack", "-L", "-f", "ipv6", "-p", "udp", "--orig-dst", vip, check=False).stdout.splitlines()))
        both = ("dns", UDP_TARGET, "UDP")
        self.apply(slice6("udp6", POD_IPS6[:2], port=both))
        self.wait_for(lambda: "[%s]:%d" % (POD_IPS6[1], UDP_TARGET) in in_ns(NODE, "ip6tables-save", "-t", "nat").stdout,
                      what="pod2 in the UDP service's rules")
        self.assertEqual(ask(), "pod1")  # the flow is pinned
        t0 = time.time()
        self.apply(slice6("udp6", POD_IPS6[1:2], port=both))
        self.wait_for(lambda: ask(0.2) == "pod2", 10, "the IPv6 flow to move to pod2")
        print("\n  IPv6 UDP flow moved to the remaining endpoint %.2fs after the slice update (incl. kubectl)"
              % (time.time() - t0), file=sys.stderr)
        self.assertFalse([f for f in in_ns(NODE, "conntrack", "-L", "-f", "ipv6", "-p", "udp", "--orig-dst", vip,
                                           check=False).stdout.splitlines() if "src=%s" % POD_IPS6[0] in f])

    def test_08_dry_run_prints_both_families(self):
        r = in_ns(NODE, knode_e2e.KNODE, "proxy", "--config", self.config, "--dry-run", check=False, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        head, sep, v6 = r.stdout.partition("# IPv6: ip6tables-restore\n")
        self.assertTrue(sep, r.stdout[-2000:])
        self.assertIn(self.ip("dual", 4), head)
        self.assertNotIn(self.ip("dual", 6), head)
        self.assertIn("-d %s " % self.ip("dual", 6), v6)



@unittest.skipUnless(proxy_world.usable() and proxy_world.shutil.which("ip6tables"),
                     "needs root, ip, busybox, kubectl, iptables, ip6tables and the knode binary")
class ProxyIPv6PrimaryE2E(proxy_world.ProxyWorld):
    """A node whose first address is IPv6, with nodePortAddresses naming only an IPv6 CIDR: IPv6 is
    the primary family, NodePorts of IPv6 go to that CIDR's node address only, IPv4 (no CIDR of its
    family) keeps every local address, as upstream."""
    IPV6 = True
    IPV6_PRIMARY = True
    CLUSTER_CIDR = "fd00::244:0/112,10.244.0.0/16"
    CONFIG_EXTRA = 'nodePortAddresses: ["fd00::/64"]\n'

    @classmethod
    def cluster_objects(cls):
        http = [{"name": "http", "port": 80, "targetPort": 8080}]
        cls.add_service("np", {"type": "NodePort", "ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"],
                               "selector": {"app": "web"}, "ports": http})
        cls.apply(slice6("np", POD_IPS6[:1]))

    def test_01_ipv6_primary_and_node_ports_per_family(self):
        self.assertEqual(self.svc["np"]["spec"]["ipFamilies"], ["IPv6", "IPv4"])
        self.assertIn(":", self.svc["np"]["spec"]["clusterIP"])
        self.wait_for(lambda: 'primary ipFamily="IPv6"' in self.proxy_text(), what="IPv6 as the primary family")
        ip6, ip4 = self.svc["np"]["spec"]["clusterIPs"]
        self.wait_for(lambda: self.bodies("http://[%s]:80/" % ip6, 10) == {"pod1"}, what="the IPv6 cluster IP")
        self.wait_for(lambda: self.bodies("http://%s:80/" % ip4, 20) == {"pod1", "pod2", "pod3"},
                      what="the IPv4 cluster IP")
        port = self.node_port("np")
        self.wait_for(lambda: self.bodies("http://[%s]:%d/" % (NODE_IP6, port), 10, EXT) == {"pod1"},
                      what="the IPv6 NodePort from outside")
        self.wait_for(lambda: self.bodies("http://%s:%d/" % (proxy_world.NODE_IP, port), 20, EXT) ==
                      {"pod1", "pod2", "pod3"}, what="the IPv4 NodePort from outside")
        nat6 = in_ns(NODE, "ip6tables-save", "-t", "nat").stdout
        self.assertIn("-d %s/128 -m comment --comment \"kubernetes service nodeports;" % NODE_IP6, nat6)
        self.assertNotIn("--dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS", nat6)
        nat4 = in_ns(NODE, "iptables-save", "-t", "nat").stdout
        self.assertIn("-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS", nat4)



if __name__ == "__main__":
    unittest.main()
