"""End-to-end: `knode proxy` (iptables mode) with real packets for the Service kinds beyond
ClusterIP/NodePort: session affinity, externalIPs, LoadBalancer ingress with source ranges, UDP with
stale conntrack flows, the health check node port bound to the node's primary IP, and a restart
that keeps connections and rules. The topology is proxy_world's; the proxy runs with
nodePortAddresses [primary].
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import proxy_world  # noqa: E402
from proxy_world import CLIENT, EXT, EXT_IP, EXT_IP2, NODE, NODE_IP, POD_IPS, in_ns  # noqa: E402

EXTERNAL_IP = "203.0.113.10"    # spec.externalIPs of "ext-ip"
NODE_OWN_IP = "203.0.113.11"    # on the node's lo, served by the node itself (never DNATed)
LB_IP = "203.0.113.20"          # "lb": eTP Local, source ranges allow EXT_IP only
LB_OPEN_IP = "203.0.113.21"     # "lb-open": no source ranges
UDP_PORT, UDP_TARGET = 5353, 9053
ECHO_PORT = 9000

UDP_RESPONDER = ("import socket,sys\n"
                 "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('',int(sys.argv[2])))\n"
                 "while True:\n"
                 " d,a=s.recvfrom(2048); s.sendto(sys.argv[1].encode(),a)\n")
UDP_ASK = ("import socket,sys\n"
           "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
           "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('',int(sys.argv[3])))\n"
           "s.settimeout(float(sys.argv[4])); s.sendto(b'who',(sys.argv[1],int(sys.argv[2])))\n"
           "try: print(s.recvfrom(2048)[0].decode())\n"
           "except OSError: print('')\n")
TCP_ECHO = ("import socket,threading\n"
            "srv=socket.socket(); srv.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            "srv.bind(('',%d)); srv.listen()\n"
            "def serve(c):\n"
            " for line in c.makefile('rb'): c.sendall(b'pod3:'+line)\n"
            "while True:\n"
            " c,_=srv.accept(); threading.Thread(target=serve,args=(c,),daemon=True).start()\n" % ECHO_PORT)
# One TCP connection kept open: a line from stdin is sent, the echo printed.
TCP_CLIENT = ("import socket,sys\n"
              "c=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5); f=c.makefile('rb')\n"
              "for line in sys.stdin:\n"
              " c.sendall(line.encode()); print(f.readline().decode().strip(),flush=True)\n")


@unittest.skipUnless(proxy_world.usable() and shutil.which("conntrack") and shutil.which("ss"),
                     "needs root, ip, busybox, kubectl, iptables, conntrack, ss and the knode binary")
class ProxyServicesE2E(proxy_world.ProxyWorld):
    CONFIG_EXTRA = "nodePortAddresses:\n- primary\n"

    @classmethod
    def cluster_objects(cls):
        http = [{"name": "http", "port": 80, "targetPort": 8080}]
        cls.add_service("web", {"type": "NodePort", "selector": {"app": "web"}, "ports": http})
        cls.add_service("sticky", {"selector": {"app": "web"}, "sessionAffinity": "ClientIP", "ports": http,
                                   "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}}})
        cls.add_service("ext-ip", {"selector": {"app": "web"}, "externalIPs": [EXTERNAL_IP], "ports": http})
        cls.add_service("lb", {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "web"},
                               "loadBalancerSourceRanges": [EXT_IP + "/32"], "ports": http})
        cls.add_service("lb-open", {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": http})
        cls.add_service("udp", {"selector": {"udp": "yes"},
                                "ports": [{"name": "dns", "protocol": "UDP", "port": UDP_PORT,
                                           "targetPort": UDP_TARGET}]})
        cls.add_service("echo", {"selector": {"echo": "yes"}, "ports": [{"port": ECHO_PORT, "targetPort": ECHO_PORT}]})
        cls.kubectl("label", "pod", "web-1", "udp=yes")
        cls.kubectl("label", "pod", "web-3", "echo=yes")
        cls.kubectl("patch", "service", "lb-open", "--subresource=status", "--type=merge", "-p",
                    json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": LB_OPEN_IP}]}}}))
        for i, ns in enumerate(proxy_world.PODS[:2]):
            cls.background(ns, sys.executable, "-c", UDP_RESPONDER, "pod%d" % (i + 1), str(UDP_TARGET))
        cls.background(proxy_world.PODS[2], sys.executable, "-c", TCP_ECHO)
        # The node itself answers "node" on an address no Service uses and, holding the external IP
        # as well (as nodes often do), on a port of it the Service does not have.
        www = os.path.join(cls.tmp, "www-node")
        os.makedirs(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("node\n")
        for ip, port in ((NODE_OWN_IP, 80), (EXTERNAL_IP, 8080)):
            in_ns(NODE, "ip", "addr", "add", ip + "/32", "dev", "lo")
            cls.background(NODE, "busybox", "httpd", "-f", "-p", "%s:%d" % (ip, port), "-h", www)

    def setUp(self):
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 30, "the proxy's first sync")

    def udp_ask(self, ip, port, sport, timeout=0.5):
        return in_ns(CLIENT, sys.executable, "-c", UDP_ASK, ip, str(port), str(sport), str(timeout)).stdout.strip()

    def conntrack(self, *args):
        r = in_ns(NODE, "conntrack", "-L", *args, check=False)
        return [line for line in r.stdout.splitlines() if line.strip()]

    # ------------------------------------------------------------------ tests (run in name order)
    def test_01_session_affinity_client_ip_sticks_to_one_backend(self):
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url("sticky"))[0] == 0, 20, "sticky service")
        sticky = self.fetch(CLIENT, self.cluster_url("sticky"), 30)
        self.assertTrue(all(status == 200 for status, _ in sticky), sticky)
        self.assertEqual(len({body for _, body in sticky}), 1, sticky)
        # The same client without affinity is spread over the backends.
        self.assertGreater(len(self.bodies(self.cluster_url("web"), 30)), 1)
        # sessionAffinityConfig's timeout is the rule's memory.
        self.assertEqual(in_ns(NODE, "iptables-save", "-t", "nat").stdout.count("--rcheck --seconds 600 --reap"), 3)

    def test_02_external_ip_reachable_and_only_that_ip_translated(self):
        url = "http://%s:80/" % EXTERNAL_IP
        self.wait_for(lambda: self.get(EXT, url)[0] == 0, 20, "externalIP from outside")
        self.assertEqual(self.bodies(url, 30, ns=EXT), {"pod1", "pod2", "pod3"})
        rc, body, err = self.get(CLIENT, url)  # from a pod too
        self.assertEqual(rc, 0, err)
        self.assertIn(body, {"pod1", "pod2", "pod3"})
        # Another address of the same node on the same port reaches the node itself, and so does
        # the external IP on a port the Service does not have: neither is translated.
        self.assertEqual(self.fetch(EXT, "http://%s:80/" % NODE_OWN_IP, 5), [(200, "node")] * 5)
        self.assertEqual(self.fetch(EXT, "http://%s:8080/" % EXTERNAL_IP, 5), [(200, "node")] * 5)

    def test_03_load_balancer_ingress_and_source_ranges(self):
        # The open load balancer answers both external sources.
        open_url = "http://%s:80/" % LB_OPEN_IP
        self.wait_for(lambda: self.get(EXT, open_url, source=EXT_IP2)[0] == 0, 20, "open LB from the second source")
        self.assertEqual(self.get(EXT, open_url, source=EXT_IP)[0], 0)
        # The restricted one gets its ingress IP now, through the status subresource.
        self.kubectl("patch", "service", "lb", "--subresource=status", "--type=merge", "-p",
                     json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": LB_IP}]}}}))
        url = "http://%s:80/" % LB_IP
        t0 = time.time()
        self.wait_for(lambda: self.get(EXT, url, source=EXT_IP)[0] == 0, 20, "LB ingress IP from an allowed source")
        print("\n  LB ingress IP answering %.2fs after the status update (incl. kubectl)" % (time.time() - t0),
              file=sys.stderr)
        self.assertEqual(self.bodies(url, 20, ns=EXT), {"pod1", "pod2", "pod3"})
        # A source outside loadBalancerSourceRanges is dropped (no answer, not refused) ...
        t0 = time.time()
        rc, _, err = self.get(EXT, url, timeout=1.5, source=EXT_IP2)
        self.assertNotEqual(rc, 0)
        self.assertIn("timed out", err.lower())
        self.assertGreater(time.time() - t0, 1.4)
        # ... while the same source reaches the node's NodePort, and the rule says why.
        self.assertEqual(self.get(EXT, "http://%s:%d/" % (NODE_IP, self.node_port("web")), source=EXT_IP2)[0], 0)
        # (upstream's layout: KUBE-FW lets allowed sources on, filter KUBE-PROXY-FIREWALL drops the rest)
        nat = in_ns(NODE, "iptables-save", "-t", "nat").stdout
        self.assertRegex(nat, r"-A KUBE-FW-\w+ -s %s/32 .*-j KUBE-EXT-" % re.escape(EXT_IP))
        self.assertRegex(in_ns(NODE, "iptables-save", "-t", "filter").stdout,
                         r"-A KUBE-PROXY-FIREWALL -d %s/32 .*--dport 80 -j DROP" % re.escape(LB_IP))

    def test_04_health_check_node_port_listens_on_the_primary_node_ip_only(self):
        hc = self.svc["lb"]["spec"]["healthCheckNodePort"]
        self.wait_for(lambda: self.listeners(hc), 10, "health check listener")
        self.assertEqual(self.listeners(hc), ["%s:%d" % (NODE_IP, hc)])
        status, body = self.http(EXT, "http://%s:%d/" % (NODE_IP, hc))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["localEndpoints"], 3)
        head = in_ns(EXT, sys.executable, "-c", "import http.client,sys; c=http.client.HTTPConnection(sys.argv[1],"
                     "int(sys.argv[2]),timeout=3); c.request('HEAD','/'); r=c.getresponse(); print(r.status,"
                     "r.getheader('X-Load-Balancing-Endpoint-Weight'))", NODE_IP, str(hc)).stdout.split()
        self.assertEqual(head, ["200", "3"])
        status, err = self.fetch(NODE, "http://127.0.0.1:%d/" % hc, 1, 1)[0]
        self.assertEqual(status, 0)
        self.assertIn("refused", err.lower())

    def test_05_udp_service_and_stale_flows_of_a_removed_endpoint(self):
        vip = self.svc["udp"]["spec"]["clusterIP"]
        sport = 40053  # one client flow all along: without cleanup its conntrack entry would pin pod1
        self.wait_for(lambda: self.udp_ask(vip, UDP_PORT, sport) == "pod1", 20, "UDP answer from pod1")
        flows = self.conntrack("-p", "udp", "--orig-dst", vip)
        self.assertTrue(any("sport=%d" % sport in f and "src=%s" % POD_IPS[0] in f for f in flows), flows)
        # pod2 joins, then pod1 leaves; the flow keeps being used every 0.2 s.
        self.kubectl("label", "pod", "web-2", "udp=yes")
        pod2_dnat = "--to-destination %s:%d" % (POD_IPS[1], UDP_TARGET)
        self.wait_for(lambda: pod2_dnat in in_ns(NODE, "iptables-save", "-t", "nat").stdout, 20,
                      "pod2 in the UDP service's rules")
        self.assertEqual(self.udp_ask(vip, UDP_PORT, sport), "pod1")  # the flow is pinned
        t0 = time.time()
        self.kubectl("label", "pod", "web-1", "udp-")
        self.wait_for(lambda: self.udp_ask(vip, UDP_PORT, sport, 0.2) == "pod2", 10, "the flow to move to pod2")
        took = time.time() - t0
        print("\n  UDP flow moved to the remaining endpoint %.2fs after the label change (incl. kubectl)" % took,
              file=sys.stderr)
        flows = self.conntrack("-p", "udp", "--orig-dst", vip)
        self.assertFalse([f for f in flows if "src=%s" % POD_IPS[0] in f], flows)

    def test_06_restart_keeps_connections_and_rules(self):
        vip = self.svc["echo"]["spec"]["clusterIP"]
        self.wait_for(lambda: in_ns(CLIENT, sys.executable, "-c",
                                    "import socket,sys; socket.create_connection((sys.argv[1],%d),timeout=1)" % ECHO_PORT,
                                    vip, check=False).returncode == 0, 20, "echo service")
        client = subprocess.Popen(["ip", "netns", "exec", CLIENT, sys.executable, "-c", TCP_CLIENT, vip, str(ECHO_PORT)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(client)
        client.stdin.write("one\n")
        client.stdin.flush()
        self.assertEqual(client.stdout.readline().strip(), "pod3:one")

        def rules():
            text = in_ns(NODE, "iptables-save", "-c").stdout
            return [line for line in text.splitlines() if not line.startswith("#")]

        def counters(lines):
            out = {}
            for line in lines:
                m = re.match(r"\[(\d+):\d+\] (-A .*)", line)
                if m:
                    out[m.group(2)] = int(m.group(1))
            return out

        before = rules()
        self.assertEqual(self.stop_proxy(signal.SIGKILL), -signal.SIGKILL)
        log_offset = len(self.proxy_text())
        t0 = time.time()
        self.start_proxy()
        synced = self.wait_for(lambda: re.search(r'"Synced proxy rules" full=true .*', self.proxy_text()[log_offset:]),
                               20, "the restarted proxy's first sync")
        print("\n  restarted proxy synced in %.2fs: %s" % (time.time() - t0, synced.group(0)), file=sys.stderr)
        self.assertIn("adopted=true", synced.group(0))
        self.assertIn("chainsWritten=0", synced.group(0))
        after = rules()
        # The same rules, and no counter went back to zero: nothing was rewritten or flushed.
        self.assertEqual(sorted(counters(before)), sorted(counters(after)))
        regressed = {r: (counters(before)[r], n) for r, n in counters(after).items() if n < counters(before)[r]}
        self.assertEqual(regressed, {})
        self.assertGreater(sum(counters(after).values()), 0)
        # The connection opened before the restart still works, over the same conntrack entry.
        client.stdin.write("two\n")
        client.stdin.flush()
        self.assertEqual(client.stdout.readline().strip(), "pod3:two")
        flows = self.conntrack("-p", "tcp", "--orig-dst", vip, "--state", "ESTABLISHED")
        self.assertEqual(len(flows), 1, flows)
        client.stdin.close()
        client.wait(timeout=10)
        # And the restarted proxy serves new connections.
        self.assertEqual(self.get(CLIENT, self.cluster_url("web"))[0], 0)


if __name__ == "__main__":
    unittest.main()
