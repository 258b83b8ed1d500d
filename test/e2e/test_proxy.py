"""End-to-end: `knode proxy` (iptables mode) against the API server double, with real packets.

Topology (all namespaces made here and removed afterwards; the root netns is not touched):
  node netns  — runs the double on its own 127.0.0.1, kubectl and `knode proxy`; node IP
                192.168.77.1 on a veth to the "external" netns (192.168.77.2)
  pod1..pod3  — busybox httpd on :8080, 10.244.1.11-13/32, default route via 169.254.1.1
                (the address of every host-side veth in the node netns)
  client      — a pod-like netns (10.244.1.100) that calls ClusterIPs
  ext         — outside the cluster, calls NodePorts and health check node ports
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import knode_e2e  # noqa: E402

SUFFIX = str(os.getpid())
NODE = "knpx-node-" + SUFFIX
PODS = ["knpx-pod%d-%s" % (i, SUFFIX) for i in (1, 2, 3)]
CLIENT = "knpx-client-" + SUFFIX
EXT = "knpx-ext-" + SUFFIX
NODE_NAME = "knpx-node"
NODE_IP = "192.168.77.1"
POD_IPS = ["10.244.1.11", "10.244.1.12", "10.244.1.13"]
CLIENT_IP = "10.244.1.100"
API_PORT = 16443
APISERVER = os.path.join(knode_e2e.SOURCE_DIR, "test", "apiserver", "apiserver.py")


def sh(*args, check=True, timeout=30):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def in_ns(ns, *args, check=True, timeout=30):
    return sh("ip", "netns", "exec", ns, *args, check=check, timeout=timeout)


def usable():
    return os.geteuid() == 0 and shutil.which("ip") and shutil.which("busybox") and shutil.which("kubectl") \
        and shutil.which("iptables") and os.path.exists(knode_e2e.KNODE)


@unittest.skipUnless(usable(), "needs root, ip, busybox, kubectl, iptables and the knode binary")
class ProxyE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="knode-proxy-e2e-")
        cls.procs = []
        cls.namespaces = []
        cls.files = []
        try:
            cls._network()
            cls._apiserver()
            cls._cluster_objects()
            cls._start_proxy()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for ns in reversed(cls.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        for f in cls.files:
            f.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ world
    @classmethod
    def _netns(cls, name):
        sh("ip", "netns", "add", name)
        cls.namespaces.append(name)
        in_ns(name, "ip", "link", "set", "lo", "up")

    @classmethod
    def _network(cls):
        cls._netns(NODE)
        in_ns(NODE, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # external link
        cls._netns(EXT)
        sh("ip", "link", "add", "knpx-ext", "netns", NODE, "type", "veth", "peer", "name", "eth0", "netns", EXT)
        in_ns(NODE, "ip", "addr", "add", NODE_IP + "/24", "dev", "knpx-ext")
        in_ns(NODE, "ip", "link", "set", "knpx-ext", "up")
        in_ns(EXT, "ip", "addr", "add", "192.168.77.2/24", "dev", "eth0")
        in_ns(EXT, "ip", "link", "set", "eth0", "up")
        # A node has a default route; service IPs without endpoints are routed (and rejected) by it.
        in_ns(NODE, "ip", "route", "add", "default", "via", "192.168.77.2", "dev", "knpx-ext")
        # pods and the client
        for i, (ns, ip) in enumerate(list(zip(PODS, POD_IPS)) + [(CLIENT, CLIENT_IP)]):
            cls._netns(ns)
            host_if = "knpx-v%d" % i
            sh("ip", "link", "add", host_if, "netns", NODE, "type", "veth", "peer", "name", "eth0", "netns", ns)
            in_ns(NODE, "ip", "addr", "add", "169.254.1.1/32", "dev", host_if)
            in_ns(NODE, "ip", "link", "set", host_if, "up")
            in_ns(NODE, "ip", "route", "add", ip + "/32", "dev", host_if)
            in_ns(ns, "ip", "addr", "add", ip + "/32", "dev", "eth0")
            in_ns(ns, "ip", "link", "set", "eth0", "up")
            in_ns(ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0")
            in_ns(ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
            if ns in PODS:
                www = os.path.join(cls.tmp, "www%d" % i)
                os.makedirs(www)
                with open(os.path.join(www, "index.html"), "w") as f:
                    f.write("pod%d\n" % (i + 1))
                cls.procs.append(subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", "8080",
                                                   "-h", www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    @classmethod
    def _apiserver(cls):
        cls.state = os.path.join(cls.tmp, "state")
        log = open(os.path.join(cls.tmp, "apiserver.log"), "w")
        cls.files.append(log)
        cls.procs.append(subprocess.Popen(["ip", "netns", "exec", NODE, sys.executable, APISERVER, "--listen",
                                           "127.0.0.1:%d" % API_PORT, "--state-dir", cls.state,
                                           "--node-name", NODE_NAME], stdout=log, stderr=log))
        cls.admin = os.path.join(cls.state, "admin.kubeconfig")
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(cls.admin) and cls.kubectl("get", "--raw", "/readyz", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError("the API server double did not become ready")

    @classmethod
    def kubectl(cls, *args, check=True, stdin=None):
        r = subprocess.run(["ip", "netns", "exec", NODE, "kubectl", "--kubeconfig", cls.admin, *args],
                           capture_output=True, text=True, input=stdin, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s: %s %s" % (" ".join(args), r.stdout, r.stderr))
        return r

    @classmethod
    def apply(cls, obj):
        return cls.kubectl("apply", "-f", "-", stdin=json.dumps(obj))

    @classmethod
    def set_ready(cls, name, ip, ready=True):
        status = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                             "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
        cls.kubectl("patch", "pod", name, "--subresource=status", "--type=merge", "-p", json.dumps(status))

    @classmethod
    def _cluster_objects(cls):
        cls.apply({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": NODE_NAME, "labels": {"topology.kubernetes.io/zone": "zone-a"}},
                   "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
                   "status": {"addresses": [{"type": "InternalIP", "address": NODE_IP}]}})
        for i, ip in enumerate(POD_IPS):
            cls.apply({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "web-%d" % (i + 1), "namespace": "default", "labels": {"app": "web"}},
                       "spec": {"nodeName": NODE_NAME,
                                "containers": [{"name": "web", "image": "busybox",
                                                "ports": [{"containerPort": 8080, "name": "http"}]}]}})
            cls.set_ready("web-%d" % (i + 1), ip)
        cls.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                   "spec": {"type": "NodePort", "selector": {"app": "web"},
                            "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        cls.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty", "namespace": "default"},
                   "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 80, "targetPort": 8080}]}})
        cls.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb-local", "namespace": "default"},
                   "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "web"},
                            "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        cls.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb-none", "namespace": "default"},
                   "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "nothing"},
                            "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        cls.svc = {}
        for name in ("web", "empty", "lb-local", "lb-none"):
            cls.svc[name] = json.loads(cls.kubectl("get", "service", name, "-o", "json").stdout)

    @classmethod
    def _config(cls):
        path = os.path.join(cls.tmp, "proxy.yaml")
        with open(path, "w") as f:
            f.write("""apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %s
hostnameOverride: %s
mode: iptables
clusterCIDR: 10.244.0.0/16
iptables:
  syncPeriod: 3s
  minSyncPeriod: 0s
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
healthzBindAddress: 0.0.0.0:10256
metricsBindAddress: 127.0.0.1:10249
""" % (os.path.join(cls.state, "kube-proxy.kubeconfig"), NODE_NAME))
        return path

    @classmethod
    def _start_proxy(cls):
        cls.config = cls._config()
        cls.proxy_log = open(os.path.join(cls.tmp, "proxy.log"), "w")
        cls.files.append(cls.proxy_log)
        cls.proxy = subprocess.Popen(["ip", "netns", "exec", NODE, knode_e2e.KNODE, "proxy", "--config", cls.config,
                                      "-v", "2"], stdout=cls.proxy_log, stderr=cls.proxy_log)
        cls.procs.append(cls.proxy)

    # ------------------------------------------------------------------ helpers
    FETCH = ("import json,sys,urllib.request,urllib.error\n"
             "o=urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
             "out=[]\n"
             "for _ in range(int(sys.argv[2])):\n"
             " try:\n"
             "  r=o.open(sys.argv[1],timeout=float(sys.argv[3])); out.append([r.status,r.read().decode().strip()])\n"
             " except urllib.error.HTTPError as e: out.append([e.code,e.read().decode().strip()])\n"
             " except Exception as e: out.append([0,repr(e)])\n"
             "print(json.dumps(out))\n")

    def fetch(self, ns, url, n=1, timeout=2):
        """[(status, body or error text)] for n GETs from inside netns `ns` (status 0: no answer)."""
        r = in_ns(ns, sys.executable, "-c", self.FETCH, url, str(n), str(timeout), check=False,
                  timeout=n * (timeout + 1) + 10)
        if r.returncode != 0:
            return [(0, r.stderr)] * n
        return [tuple(x) for x in json.loads(r.stdout)]

    def get(self, ns, url, timeout=2):
        """(rc, body, error): rc 0 when a 200 came back."""
        status, text = self.fetch(ns, url, 1, timeout)[0]
        return (0, text, "") if status == 200 else (1, "", text)

    def http(self, ns, url):
        return self.fetch(ns, url, 1, 3)[0]

    def bodies(self, url, n=30, ns=CLIENT):
        return {text for status, text in self.fetch(ns, url, n) if status == 200}

    def wait_for(self, fn, timeout=20, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting for %s; proxy log tail:\n%s" % (what, self.proxy_tail()))

    def proxy_tail(self):
        self.proxy_log.flush()
        with open(os.path.join(self.tmp, "proxy.log")) as f:
            return "".join(f.readlines()[-30:])

    def cluster_url(self, name="web"):
        return "http://%s:80/" % self.svc[name]["spec"]["clusterIP"]

    # ------------------------------------------------------------------ tests (run in name order)
    def test_01_cluster_ip_reaches_all_three_pods(self):
        t0 = time.time()
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 30, "ClusterIP to answer")
        print("\n  first ClusterIP answer %.2fs after the proxy started" % (time.time() - t0), file=sys.stderr)
        self.assertEqual(self.bodies(self.cluster_url(), 40), {"pod1", "pod2", "pod3"})

    def test_02_node_port_from_outside(self):
        port = self.svc["web"]["spec"]["ports"][0]["nodePort"]
        url = "http://%s:%d/" % (NODE_IP, port)
        self.wait_for(lambda: self.get(EXT, url)[0] == 0, 20, "NodePort to answer")
        self.assertEqual(self.bodies(url, 40, ns=EXT), {"pod1", "pod2", "pod3"})

    def test_03_local_policy_health_check_node_port(self):
        hc = self.svc["lb-local"]["spec"]["healthCheckNodePort"]
        self.assertGreater(hc, 0)
        status, body = self.wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
            self.http(EXT, "http://%s:%d/" % (NODE_IP, hc))), 20, "health check node port")
        doc = json.loads(body)
        self.assertEqual(doc, {"service": {"namespace": "default", "name": "lb-local"}, "localEndpoints": 3,
                               "serviceProxyHealthy": True})
        hc2 = self.svc["lb-none"]["spec"]["healthCheckNodePort"]
        status, body = self.wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
            self.http(EXT, "http://%s:%d/" % (NODE_IP, hc2))), 20, "503 from the empty service's health check")
        self.assertEqual(json.loads(body)["localEndpoints"], 0)
        # eTP=Local NodePort works from outside with local endpoints.
        port = self.svc["lb-local"]["spec"]["ports"][0]["nodePort"]
        self.wait_for(lambda: self.get(EXT, "http://%s:%d/" % (NODE_IP, port))[0] == 0, 20, "Local NodePort")

    def test_04_removed_endpoint_stops_getting_traffic(self):
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 20, "ClusterIP")
        t0 = time.time()
        self.set_ready("web-3", POD_IPS[2], ready=False)
        self.wait_for(lambda: "pod3" not in self.bodies(self.cluster_url(), 12), 20, "pod3 to leave")
        print("\n  not-ready endpoint out of rotation within %.2fs (incl. kubectl)" % (time.time() - t0),
              file=sys.stderr)
        self.assertEqual(self.bodies(self.cluster_url(), 40), {"pod1", "pod2"})
        self.set_ready("web-3", POD_IPS[2], ready=True)
        self.wait_for(lambda: "pod3" in self.bodies(self.cluster_url(), 20), 20, "pod3 to come back")

    def test_05_no_endpoints_refused_at_once(self):
        url = self.cluster_url("empty")
        last = []
        self.wait_for(lambda: "refused" in (last.append(self.get(CLIENT, url)) or last[-1])[2].lower(), 20,
                      "REJECT of the empty service (last answer %r)" % (last[-1:],))
        t0 = time.time()
        rc, _, err = self.get(CLIENT, url, timeout=5)
        took = time.time() - t0
        self.assertNotEqual(rc, 0)
        self.assertIn("refused", err.lower())
        self.assertLess(took, 1.0)

    def test_06_flushed_nat_table_is_restored_within_a_sync(self):
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 20, "ClusterIP")
        in_ns(NODE, "iptables", "-t", "nat", "-F")
        t0 = time.time()
        self.assertNotEqual(self.get(CLIENT, self.cluster_url(), timeout=1)[0], 0)
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url(), timeout=1)[0] == 0, 8, "rules to be restored")
        took = time.time() - t0
        print("\n  nat flush repaired after %.2fs (syncPeriod 3s)" % took, file=sys.stderr)
        self.assertLess(took, 3 + 2.5)

    def test_07_healthz_metrics_proxymode_configz(self):
        status, body = self.http(NODE, "http://127.0.0.1:10256/healthz")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(set(doc), {"lastUpdated", "currentTime", "nodeEligible"})
        self.assertTrue(doc["nodeEligible"])
        self.assertEqual(self.http(NODE, "http://127.0.0.1:10256/livez")[0], 200)
        status, metrics = self.http(NODE, "http://127.0.0.1:10249/metrics")
        self.assertEqual(status, 200)
        for name in ("kubeproxy_sync_proxy_rules_duration_seconds", "kubeproxy_sync_full_proxy_rules_duration_seconds",
                     "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                     "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                     "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                     "kubeproxy_network_programming_duration_seconds", "kubeproxy_sync_proxy_rules_iptables_total",
                     "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                     "kubeproxy_sync_proxy_rules_endpoint_changes_total",
                     "kubeproxy_sync_proxy_rules_service_changes_total",
                     "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "rest_client_requests_total"):
            self.assertIn(name, metrics)
        for line in metrics.splitlines():
            if line.startswith("kubeproxy_sync_partial_proxy_rules_duration_seconds_sum") or \
                    line.startswith("kubeproxy_sync_partial_proxy_rules_duration_seconds_count"):
                print("\n  " + line, file=sys.stderr)
        self.assertEqual(self.http(NODE, "http://127.0.0.1:10249/proxyMode"), (200, "iptables"))  # body stripped
        status, configz = self.http(NODE, "http://127.0.0.1:10249/configz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(configz)["kubeproxy.config.k8s.io"]["mode"], "iptables")

    def test_08_dry_run_prints_the_ruleset(self):
        r = in_ns(NODE, knode_e2e.KNODE, "proxy", "--config", self.config, "--dry-run", check=False, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("*nat", r.stdout)
        self.assertIn("-A KUBE-SERVICES", r.stdout)
        self.assertIn(self.svc["web"]["spec"]["clusterIP"], r.stdout)
        self.assertIn("COMMIT", r.stdout)

    def test_09_sigterm_then_cleanup(self):
        self.proxy.send_signal(signal.SIGTERM)
        self.assertEqual(self.proxy.wait(timeout=15), 0)
        self.assertIn("KUBE-SVC-", in_ns(NODE, "iptables-save").stdout)
        r = in_ns(NODE, knode_e2e.KNODE, "proxy", "--config", self.config, "--cleanup", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = in_ns(NODE, "iptables-save").stdout
        self.assertNotIn("KUBE-SVC-", after)
        self.assertNotIn("KUBE-SERVICES", after)


if __name__ == "__main__":
    unittest.main()
