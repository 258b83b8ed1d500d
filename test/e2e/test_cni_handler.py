"""knode kubelet --network-plugin=cni against a real containerd with knode's CNI runtime handler.

The test starts its OWN containerd (test/scripts/containerd-up.sh with a private state dir and
KNODE_TEST_KNODE_HANDLER=1): the runtime handler "knode" has its own cni_conf_dir, where the kubelet
writes the knode-cni conflist; knode-cni (linked into the test's CNI bin dir) then runs the test's
network — bridge knodetest1 + host-local on 10.89.0.0/24, leases in the test's dir — for every pod.
Checked: the handler conflist, NetworkReady in the status file, the CRI-reported pod IP from the test
subnet, HTTP from the host, the host-local lease while the pod runs and its release when the pod is
removed, and the periodic CNI GC releasing the lease of a sandbox that vanished behind the agent's
back (deleted with ctr, containerd restarted). Everything (containerd, bridge, netns, dirs) is removed
at the end, also on failure.

Needs root, containerd, runc and the CNI plugins in /usr/lib/cni. Takes about two minutes (the GC
runs every minute).
"""
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

import knode_e2e
import test_standalone as standalone

SCRIPTS = os.path.join(knode_e2e.SOURCE_DIR, "test", "scripts")
PLUGINS = "/usr/lib/cni"
BRIDGE = "knodetest1"
SUBNET = ipaddress.ip_network("10.89.0.0/24")
NETWORK = "knode-e2e-handler"


def have_tools():
    return all(shutil.which(t) for t in ("containerd", "ctr", "runc")) and os.path.exists(f"{PLUGINS}/bridge")


class HandlerAgent(standalone.Agent):
    """`knode kubelet --network-plugin=cni` on the test's own containerd."""

    def __init__(self, node, endpoint, cni_args):
        super().__init__(node)
        self.endpoint = endpoint
        self.cni_args = cni_args

    def start(self):
        self.log = ""
        self.proc = subprocess.Popen(
            [knode_e2e.KNODE, "kubelet", f"--pod-manifest-path={self.manifests}",
             f"--container-runtime-endpoint={self.endpoint}", f"--root-dir={self.root}",
             f"--hostname-override={self.node}", "--file-check-frequency=1s", "--runtime-request-timeout=15s",
             "-v=2", *self.cni_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = standalone.threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def network_ready(self):
        try:
            with open(os.path.join(self.root, "pods-status.json")) as f:
                return json.load(f).get("networkReady")
        except (OSError, ValueError):
            return None


def ctr(sock, *args, check=True):
    return subprocess.run(["ctr", "-a", sock, "-n", "k8s.io", *args], capture_output=True, text=True,
                          check=check, timeout=30).stdout


@unittest.skipUnless(os.geteuid() == 0, "needs root (containerd, CNI, bridges)")
@unittest.skipUnless(have_tools(), "needs containerd, ctr, runc and the CNI plugins in /usr/lib/cni")
class CniHandlerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="knode-e2e-cni-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.state = f"/run/knode-test/cni-handler-{os.getpid()}"
        self.addCleanup(shutil.rmtree, self.state, ignore_errors=True)
        self.addCleanup(subprocess.run, ["ip", "link", "del", BRIDGE], capture_output=True)
        self.addCleanup(subprocess.run, ["bash", f"{SCRIPTS}/containerd-down.sh", self.state, "--purge"],
                        capture_output=True)
        # The runtime's CNI bin dir: the reference plugins plus knode-cni (the built binary).
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        for p in os.listdir(PLUGINS):
            os.symlink(os.path.join(PLUGINS, p), os.path.join(self.bin, p))
        plugin = os.path.join(os.path.dirname(knode_e2e.KNODE), "knode-cni")
        os.symlink(plugin if os.path.exists(plugin) else knode_e2e.KNODE, os.path.join(self.bin, "knode-cni"))
        # The node's network, in the test's own conf dir: its own bridge, subnet and lease dir.
        self.conf = os.path.join(self.dir, "net.d")
        self.ipam = os.path.join(self.dir, "ipam")
        self.cache = os.path.join(self.dir, "cache")
        os.makedirs(self.conf)
        with open(os.path.join(self.conf, "10-e2e.conflist"), "w") as f:
            json.dump({"cniVersion": "1.0.0", "name": NETWORK, "plugins": [
                {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": str(SUBNET)}]], "dataDir": self.ipam}},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}, f)
        self.start_containerd()
        self.agent = HandlerAgent(f"e2e-cni-{os.getpid()}", f"unix://{self.sock}",
                                  ["--network-plugin=cni", f"--cni-conf-dir={self.conf}",
                                   f"--cni-bin-dir={self.bin}", f"--cni-cache-dir={self.cache}"])
        self.agent.start()
        self.addCleanup(self.agent.cleanup)

    def start_containerd(self):
        env = dict(os.environ, KNODE_TEST_KNODE_HANDLER="1", KNODE_TEST_CNI_BIN_DIR=self.bin)
        r = subprocess.run(["bash", f"{SCRIPTS}/containerd-up.sh", self.state], env=env, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.sock = r.stdout.strip()

    def restart_containerd(self):
        with open(os.path.join(self.state, "containerd.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        standalone.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 30, "test containerd stopped")
        self.start_containerd()

    def lease(self, ip):
        return os.path.join(self.ipam, NETWORK, ip)

    def pod_sandbox_ids(self, pod_name):
        out = ctr(self.sock, "containers", "ls",
                  f"labels.\"io.kubernetes.pod.name\"=={pod_name},labels.\"io.cri-containerd.kind\"==sandbox", "-q")
        return out.split()

    def test_pods_run_on_the_knode_handler_and_leases_are_released(self):
        a = self.agent
        # The kubelet wrote the handler's conflist, pointing knode-cni at the test's dirs, and
        # reports the network ready.
        handler_conf = os.path.join(self.state, "knode-net.d", "10-knode.conflist")
        standalone.wait_for(lambda: os.path.exists(handler_conf), 30, "handler conflist written", a)
        with open(handler_conf) as f:
            conf = json.load(f)
        self.assertEqual(conf["plugins"][0]["type"], "knode-cni")
        self.assertEqual(conf["plugins"][0]["confDir"], self.conf)
        self.assertEqual(conf["plugins"][0]["cacheDir"], self.cache)
        self.assertEqual(conf["plugins"][0]["binDir"], self.bin)
        ready = standalone.wait_for(lambda: a.network_ready(), 30, "networkReady in the status file", a)
        self.assertEqual(ready["status"], "True", ready)

        # A static pod gets its address from the test's network through the handler.
        a.write("web.yaml", standalone.web("web", "through-knode"))
        ip = standalone.wait_for(lambda: standalone.running_ip(a, "web"), 90, "pod web running", a)
        self.assertIn(ipaddress.ip_address(ip), SUBNET)
        self.assertNotEqual(ip, str(SUBNET[1]))  # the bridge's own address
        self.assertEqual(standalone.http_get(ip), "through-knode")
        self.assertTrue(os.path.exists(self.lease(ip)), f"no host-local lease {self.lease(ip)}")
        sandboxes = self.pod_sandbox_ids(f"web-{a.node}")
        self.assertEqual(len(sandboxes), 1)

        # Removing the pod releases its lease (containerd's CNI DEL through knode-cni).
        a.remove("web.yaml")
        standalone.wait_for(lambda: a.pod("web") is None, 60, "pod web gone", a)
        standalone.wait_for(lambda: not os.path.exists(self.lease(ip)), 30, "lease released", a)

        # A sandbox that vanishes behind the agent's back (deleted with ctr, containerd restarted, so
        # nobody runs CNI DEL) leaves its lease; the periodic GC releases it.
        a.write("leak.yaml", standalone.web("leak", "leaky"))
        leaked_ip = standalone.wait_for(lambda: standalone.running_ip(a, "leak"), 90, "pod leak running", a)
        self.assertTrue(os.path.exists(self.lease(leaked_ip)))
        leaked_sandbox = self.pod_sandbox_ids(f"leak-{a.node}")[0]
        ids = ctr(self.sock, "containers", "ls", f"labels.\"io.kubernetes.pod.name\"==leak-{a.node}", "-q").split()
        for cid in ids:
            ctr(self.sock, "tasks", "kill", "-s", "SIGKILL", cid, check=False)
        for cid in ids:
            ctr(self.sock, "tasks", "delete", "-f", cid, check=False)
            ctr(self.sock, "containers", "delete", cid)
        self.restart_containerd()
        # The agent makes the pod again (a new sandbox, a new address) and the GC, at most a minute
        # later, DELs the cached attachment of the vanished sandbox.
        new_ip = standalone.wait_for(
            lambda: (lambda i: i if i and i != leaked_ip else None)(standalone.running_ip(a, "leak")), 120,
            "pod leak running again", a)
        self.assertTrue(os.path.exists(self.lease(new_ip)))
        standalone.wait_for(lambda: not os.path.exists(self.lease(leaked_ip)), 100, "leaked lease released by GC", a)
        # (the GC may have run before the new pod was up: its log names the vanished sandbox)
        standalone.wait_for(lambda: f'Released a leaked pod network attachment" network="{NETWORK}" '
                                    f'containerID="{leaked_sandbox}"' in a.log, 10, "GC log line", a)
        # The live pod kept its address.
        self.assertTrue(os.path.exists(self.lease(new_ip)))
        self.assertEqual(standalone.http_get(new_ip), "leaky")


SHARED_ENDPOINT = os.environ.get("KNODE_TEST_CRI_ENDPOINT", "")


class CniHandlerConfigTest(unittest.TestCase):
    def test_other_network_plugins_are_refused(self):
        r = knode_e2e.run("kubelet", "--network-plugin=kubenet", "--container-runtime-endpoint=unix:///nonexistent.sock")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('invalid value \\"kubenet\\" for flag --network-plugin', r.stderr)

    @unittest.skipUnless(SHARED_ENDPOINT, "KNODE_TEST_CRI_ENDPOINT is not set (start test/scripts/containerd-up.sh)")
    @unittest.skipUnless(os.geteuid() == 0, "needs root (containerd)")
    def test_runtime_without_the_handler_is_named(self):
        """The shared test containerd has no "knode" handler: NetworkReady=false naming it, and a pod's
        RunPodSandbox fails with containerd's error naming it (nothing is created)."""
        d = tempfile.mkdtemp(prefix="knode-e2e-cni-nohandler-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        os.makedirs(os.path.join(d, "net.d"))
        a = HandlerAgent(f"e2e-nohandler-{os.getpid()}", SHARED_ENDPOINT,
                         ["--network-plugin=cni", f"--cni-conf-dir={d}/net.d", f"--cni-cache-dir={d}/cache"])
        a.start()
        self.addCleanup(a.cleanup)
        ready = standalone.wait_for(lambda: a.network_ready(), 30, "networkReady in the status file", a)
        self.assertEqual(ready["status"], "False")
        self.assertEqual(ready["reason"], "NetworkPluginNotReady")
        self.assertTrue(ready["message"].startswith(
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
            "message:Network plugin returns error: the container runtime has no runtime handler \"knode\""),
            ready["message"])
        self.assertIn('"Container runtime network not ready"', a.log)
        a.write("web.yaml", standalone.web("web", "never"))
        standalone.wait_for(lambda: 'no runtime for \\"knode\\" is configured' in a.log, 30,
                            "RunPodSandbox error naming the handler", a)


if __name__ == "__main__":
    unittest.main()
