"""The world the proxy e2e tests run `knode proxy` in: network namespaces, the API server double,
backend pods and clients. Test classes derive from ProxyWorld and add their objects and tests.

Topology (all namespaces made here and removed afterwards; the root netns is not touched):
  node netns  — runs the double on its own 127.0.0.1, kubectl and `knode proxy`; node IP
                192.168.77.1 on a veth to the "external" netns
  pod1..pod3  — busybox httpd on :8080 answering "podN", 10.244.1.11-13/32, default route via
                169.254.1.1 (the address of every host-side veth in the node netns)
  client      — a pod-like netns (10.244.1.100) that calls ClusterIPs
  ext         — outside the cluster (192.168.77.2 and a second source 192.168.77.3); routes
                203.0.113.0/24 (external and load-balancer IPs) through the node
With IPV6 = True every link also carries fd00::/64 ULA addresses: node fd00::77:1 and ext
fd00::77:2 share the external link (/64, default routes as for IPv4); pods fd00::244:11-13 and the
client fd00::244:100 are /128s routed over their veths, gateway fe80::1 on every host-side veth; the
Node object then lists NODE_IP6 as a second InternalIP.
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
EXT_IP = "192.168.77.2"
EXT_IP2 = "192.168.77.3"
EXTERNAL_NET = "203.0.113.0/24"
POD_IPS = ["10.244.1.11", "10.244.1.12", "10.244.1.13"]
CLIENT_IP = "10.244.1.100"
NODE_IP6 = "fd00::77:1"
EXT_IP6 = "fd00::77:2"
POD_IPS6 = ["fd00::244:11", "fd00::244:12", "fd00::244:13"]
CLIENT_IP6 = "fd00::244:100"
GATEWAY6 = "fe80::1"
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


class ProxyWorld(unittest.TestCase):
    """Builds the topology, starts the double and `knode proxy`; subclasses add objects and tests."""
    CONFIG_EXTRA = ""  # more KubeProxyConfiguration lines
    IPV6 = False       # also give every link an IPv6 address (see the module doc)
    IPV6_PRIMARY = False  # with IPV6: the Node lists NODE_IP6 first (an IPv6-primary node)
    CLUSTER_CIDR = "10.244.0.0/16"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="knode-proxy-e2e-")
        cls.procs = []
        cls.namespaces = []
        cls.files = []
        try:
            cls._network()
            cls._apiserver()
            cls._base_objects()
            cls.cluster_objects()
            cls.config = cls._config()
            cls.start_proxy()
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
        in_ns(EXT, "ip", "addr", "add", EXT_IP + "/24", "dev", "eth0")
        in_ns(EXT, "ip", "addr", "add", EXT_IP2 + "/24", "dev", "eth0")
        in_ns(EXT, "ip", "link", "set", "eth0", "up")
        in_ns(EXT, "ip", "route", "add", EXTERNAL_NET, "via", NODE_IP, "dev", "eth0")
        # A node has a default route; service IPs without endpoints are routed (and rejected) by it.
        in_ns(NODE, "ip", "route", "add", "default", "via", EXT_IP, "dev", "knpx-ext")
        if cls.IPV6:
            in_ns(NODE, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
            in_ns(NODE, "ip", "-6", "addr", "add", NODE_IP6 + "/64", "dev", "knpx-ext", "nodad")
            in_ns(EXT, "ip", "-6", "addr", "add", EXT_IP6 + "/64", "dev", "eth0", "nodad")
            in_ns(EXT, "ip", "-6", "route", "add", "default", "via", NODE_IP6, "dev", "eth0")
            in_ns(NODE, "ip", "-6", "route", "add", "default", "via", EXT_IP6, "dev", "knpx-ext")
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
            if cls.IPV6:
                ip6 = (POD_IPS6 + [CLIENT_IP6])[i]
                in_ns(NODE, "ip", "-6", "addr", "add", GATEWAY6 + "/64", "dev", host_if, "nodad")
                in_ns(NODE, "ip", "-6", "route", "add", ip6 + "/128", "dev", host_if)
                in_ns(ns, "ip", "-6", "addr", "add", ip6 + "/128", "dev", "eth0", "nodad")
                in_ns(ns, "ip", "-6", "route", "add", "default", "via", GATEWAY6, "dev", "eth0")
            if ns in PODS:
                www = os.path.join(cls.tmp, "www%d" % i)
                os.makedirs(www)
                with open(os.path.join(www, "index.html"), "w") as f:
                    f.write("pod%d\n" % (i + 1))
                cls.background(ns, "busybox", "httpd", "-f", "-p", "8080", "-h", www)

    @classmethod
    def background(cls, ns, *args):
        """Starts a process inside netns `ns` for the lifetime of the class."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.procs.append(p)
        return p

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
    def _base_objects(cls):
        """This node and the three ready pods web-1..3 (label app=web, port 8080 "http")."""
        cls.apply({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": NODE_NAME, "labels": {"topology.kubernetes.io/zone": "zone-a"}},
                   "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
                   "status": {"addresses": cls._node_addresses()}})
        for i, ip in enumerate(POD_IPS):
            cls.apply({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "web-%d" % (i + 1), "namespace": "default", "labels": {"app": "web"}},
                       "spec": {"nodeName": NODE_NAME,
                                "containers": [{"name": "web", "image": "busybox",
                                                "ports": [{"containerPort": 8080, "name": "http"}]}]}})
            cls.set_ready("web-%d" % (i + 1), ip)
        cls.svc = {}

    @classmethod
    def _node_addresses(cls):
        addrs = [{"type": "InternalIP", "address": NODE_IP}]
        if cls.IPV6:
            addrs.insert(0 if cls.IPV6_PRIMARY else 1, {"type": "InternalIP", "address": NODE_IP6})
        return addrs

    @classmethod
    def cluster_objects(cls):
        """Services of the subclass; store them with add_service so tests can read their spec."""

    @classmethod
    def add_service(cls, name, spec):
        cls.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
                   "spec": spec})
        cls.svc[name] = json.loads(cls.kubectl("get", "service", name, "-o", "json").stdout)
        return cls.svc[name]

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
clusterCIDR: %s
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
""" % (os.path.join(cls.state, "kube-proxy.kubeconfig"), NODE_NAME, cls.CLUSTER_CIDR) + cls.CONFIG_EXTRA)
        return path

    @classmethod
    def start_proxy(cls):
        """Starts `knode proxy` (appending to proxy.log); the process is cls.proxy."""
        cls.proxy_log = open(os.path.join(cls.tmp, "proxy.log"), "a")
        cls.files.append(cls.proxy_log)
        cls.proxy = subprocess.Popen(["ip", "netns", "exec", NODE, knode_e2e.KNODE, "proxy", "--config", cls.config,
                                      "-v", "2"], stdout=cls.proxy_log, stderr=cls.proxy_log)
        cls.procs.append(cls.proxy)

    # ------------------------------------------------------------------ helpers
    FETCH = ("import http.client,json,sys\n"
             "host,port,path=sys.argv[1],int(sys.argv[2]),sys.argv[3]\n"
             "src=(sys.argv[6],0) if len(sys.argv)>6 else None\n"
             "out=[]\n"
             "for _ in range(int(sys.argv[4])):\n"
             " try:\n"
             "  c=http.client.HTTPConnection(host,port,timeout=float(sys.argv[5]),source_address=src)\n"
             "  c.request('GET',path); r=c.getresponse(); out.append([r.status,r.read().decode().strip()]); c.close()\n"
             " except Exception as e: out.append([0,repr(e)])\n"
             "print(json.dumps(out))\n")

    def fetch(self, ns, url, n=1, timeout=2, source=None):
        """[(status, body or error text)] for n GETs of http://host:port/path from inside netns `ns`,
        optionally from source address `source` (status 0: no answer)."""
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.rpartition(":")
        host = host.strip("[]")  # http://[fd00::1]:80/
        args = [host, port, "/" + path, str(n), str(timeout)] + ([source] if source else [])
        r = in_ns(ns, sys.executable, "-c", self.FETCH, *args, check=False, timeout=n * (timeout + 1) + 10)
        if r.returncode != 0:
            return [(0, r.stderr)] * n
        return [tuple(x) for x in json.loads(r.stdout)]

    def get(self, ns, url, timeout=2, source=None):
        """(rc, body, error): rc 0 when a 200 came back."""
        status, text = self.fetch(ns, url, 1, timeout, source)[0]
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

    def proxy_text(self):
        self.proxy_log.flush()
        with open(os.path.join(self.tmp, "proxy.log")) as f:
            return f.read()

    def proxy_tail(self):
        return "".join(self.proxy_text().splitlines(True)[-30:])

    def cluster_url(self, name="web", port=80):
        return "http://%s:%d/" % (self.svc[name]["spec"]["clusterIP"], port)

    def node_port(self, name):
        return self.svc[name]["spec"]["ports"][0]["nodePort"]

    def listeners(self, port):
        """Local addresses ("ip:port", "*:port") TCP sockets listen on for `port` in the node netns."""
        out = in_ns(NODE, "ss", "-Hltn", "sport = :%d" % port).stdout
        return sorted(line.split()[3] for line in out.splitlines() if line.strip())

    def stop_proxy(self, sig=signal.SIGTERM):
        self.proxy.send_signal(sig)
        return self.proxy.wait(timeout=15)
