"""knode kubelet in standalone mode (static pods only) against the test containerd.

Needs root and KNODE_TEST_CRI_ENDPOINT (test/run.sh exports it; or
`KNODE_TEST_CRI_ENDPOINT=unix://$(test/scripts/containerd-up.sh)`). Like upstream's kubelet, the
agent stops every pod in the runtime that it does not want: do not run these tests while other tests
create pods in the same containerd.

Observability used here is the operator-facing one: the status file <root-dir>/pods-status.json
(a v1 PodList) and the log.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.request

import knode_e2e

ENDPOINT = os.environ.get("KNODE_TEST_CRI_ENDPOINT", "")
SOCK = ENDPOINT[len("unix://"):] if ENDPOINT.startswith("unix://") else ENDPOINT


def manifest(name, script, image="knode.local/busybox:1.36", restart="Always", pull="Never"):
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          restartPolicy: {restart}
          terminationGracePeriodSeconds: 2
          containers:
          - name: app
            image: {image}
            imagePullPolicy: {pull}
            command: ["sh", "-c", {json.dumps(script)}]
        """)


def web(name, text):
    return manifest(name, f"mkdir -p /www && echo {text} > /www/index.html && trap 'exit 0' TERM; "
                          f"httpd -f -p 8080 -h /www & wait")


class Agent:
    """One `knode kubelet` process with its own manifest and root directories."""

    def __init__(self, node):
        self.node = node
        self.dir = tempfile.mkdtemp(prefix="knode-e2e-standalone-")
        self.manifests = os.path.join(self.dir, "manifests")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.manifests)
        os.makedirs(self.root)
        self.proc = None
        self.log = ""
        self._reader = None
        self.extra_args = []  # more kubelet flags (e.g. --manifest-url)

    def start(self):
        self.log = ""
        self.proc = subprocess.Popen(
            [knode_e2e.KNODE, "kubelet", f"--pod-manifest-path={self.manifests}",
             f"--container-runtime-endpoint={ENDPOINT}", f"--root-dir={self.root}",
             f"--hostname-override={self.node}", "--file-check-frequency=1s", "-v=2", *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.log += line

    def write(self, filename, text):
        with open(os.path.join(self.manifests, filename), "w") as f:
            f.write(text)

    def remove(self, filename):
        os.unlink(os.path.join(self.manifests, filename))

    def pods(self):
        try:
            with open(os.path.join(self.root, "pods-status.json")) as f:
                return {p["metadata"]["name"]: p for p in json.load(f)["items"]}
        except (OSError, ValueError):
            return {}

    def pod(self, name):
        return self.pods().get(f"{name}-{self.node}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        if self._reader:
            self._reader.join(timeout=5)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def cleanup(self):
        """Removes every manifest and waits until the agent stopped the pods, then stops it."""
        if self.alive():
            for f in os.listdir(self.manifests):
                os.unlink(os.path.join(self.manifests, f))
            wait_for(lambda: not self.pods(), 60, "pods stopped at cleanup", self)
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(pred, timeout, what, agent=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.25)
    tail = "\n".join(agent.log.splitlines()[-40:]) if agent else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n--- agent log tail:\n{tail}")


def running_ip(agent, name):
    p = agent.pod(name)
    if p and p["status"].get("phase") == "Running" and p["status"].get("podIP"):
        cs = p["status"].get("containerStatuses", [])
        if cs and "running" in cs[0]["state"]:
            return p["status"]["podIP"]
    return None


def http_get(ip, port=8080):
    for _ in range(40):
        try:
            with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=2) as r:
                return r.read().decode().strip()
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"no HTTP answer from {ip}:{port}")


def runtime_container_ids():
    out = subprocess.run(["ctr", "-a", SOCK, "-n", "k8s.io", "containers", "ls", "-q"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def container_id(pod):
    return pod["status"]["containerStatuses"][0]["containerID"].split("://", 1)[1]


@unittest.skipUnless(ENDPOINT, "KNODE_TEST_CRI_ENDPOINT is not set (start test/scripts/containerd-up.sh)")
@unittest.skipUnless(os.geteuid() == 0, "needs root (containerd, CNI)")
class StandaloneTest(unittest.TestCase):
    def setUp(self):
        self.agent = Agent(f"e2e-{os.getpid()}-{self._testMethodName[5:20].replace('_', '-').strip('-')}")
        self.agent.start()
        self.addCleanup(self.agent.cleanup)

    def test_static_pod_serves_http_then_change_and_removal(self):
        a = self.agent
        a.write("web.yaml", web("web", "one"))
        ip = wait_for(lambda: running_ip(a, "web"), 60, "pod web running", a)
        self.assertEqual(http_get(ip), "one")
        pod = a.pod("web")
        self.assertEqual(pod["metadata"]["namespace"], "default")
        self.assertEqual(pod["metadata"]["annotations"]["kubernetes.io/config.source"], "file")
        self.assertEqual(pod["metadata"]["annotations"]["kubernetes.io/config.hash"], pod["metadata"]["uid"])
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Ready"], "True")
        self.assertEqual(conds["PodReadyToStartContainers"], "True")
        self.assertEqual(pod["status"]["qosClass"], "BestEffort")
        old_uid, old_cid = pod["metadata"]["uid"], container_id(pod)

        # A changed manifest replaces the pod (new UID; the old containers go).
        a.write("web.yaml", web("web", "two"))
        wait_for(lambda: (a.pod("web") or {}).get("metadata", {}).get("uid") not in (None, old_uid)
                 and running_ip(a, "web"), 60, "replaced pod running", a)
        self.assertEqual(http_get(running_ip(a, "web")), "two")
        wait_for(lambda: old_cid not in runtime_container_ids(), 30, "old container removed", a)
        new_cid = container_id(a.pod("web"))

        # A removed manifest stops the pod and removes its containers.
        a.remove("web.yaml")
        wait_for(lambda: a.pod("web") is None, 60, "pod gone from status", a)
        wait_for(lambda: new_cid not in runtime_container_ids(), 30, "container removed", a)

    def test_crash_loop_backs_off_and_counts_restarts(self):
        a = self.agent
        a.write("crash.yaml", manifest("crash", "sleep 1; exit 3"))
        seen_backoff = []

        def restarted_twice():
            p = a.pod("crash")
            if not p:
                return False
            cs = p["status"]["containerStatuses"][0]
            if "waiting" in cs["state"] and cs["state"]["waiting"].get("reason") == "CrashLoopBackOff":
                seen_backoff.append(cs)
            return cs.get("restartCount", 0) >= 2 and seen_backoff

        wait_for(restarted_twice, 60, "two restarts and CrashLoopBackOff", a)
        cs = seen_backoff[-1]
        self.assertIn("back-off", cs["state"]["waiting"]["message"])
        self.assertEqual(cs["lastState"]["terminated"]["exitCode"], 3)
        self.assertEqual(cs["lastState"]["terminated"]["reason"], "Error")
        self.assertEqual(a.pod("crash")["status"]["phase"], "Running")
        self.assertTrue(a.alive())

    def test_restart_after_kill_9_restarts_nothing(self):
        a = self.agent
        a.write("keep.yaml", web("keep", "kept"))
        ip = wait_for(lambda: running_ip(a, "keep"), 60, "pod keep running", a)
        before = a.pod("keep")
        a.stop(signal.SIGKILL)
        os.unlink(os.path.join(a.root, "pods-status.json"))
        a.start()
        wait_for(lambda: running_ip(a, "keep"), 60, "pod keep reported again", a)
        time.sleep(3)  # a few relists and syncs
        after = a.pod("keep")
        self.assertEqual(after["metadata"]["uid"], before["metadata"]["uid"])
        self.assertEqual(container_id(after), container_id(before))
        self.assertEqual(after["status"]["containerStatuses"][0].get("restartCount", 0),
                         before["status"]["containerStatuses"][0].get("restartCount", 0))
        self.assertEqual(after["status"]["podIP"], ip)
        self.assertNotIn("Started container", a.log)
        self.assertNotIn("Creating pod sandbox", a.log)
        self.assertEqual(http_get(ip), "kept")

    def test_invalid_manifest_logs_once_and_others_run(self):
        a = self.agent
        a.write("good.yaml", web("good", "fine"))
        a.write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - name: x\n")
        a.write(".ignored.yaml", "this is not a pod")
        ip = wait_for(lambda: running_ip(a, "good"), 60, "pod good running", a)
        time.sleep(3)  # three rescans at --file-check-frequency=1s
        lines = [l for l in a.log.splitlines() if "Invalid static pod manifest" in l]
        self.assertEqual(len(lines), 1, a.log)
        self.assertIn("bad.yaml", lines[0])
        self.assertIn("image", lines[0])  # the reason names the missing field
        self.assertNotIn(".ignored.yaml", a.log)
        self.assertEqual(http_get(ip), "fine")
        self.assertIsNone(a.pod("bad"))

    def test_probes_volumes_and_sigterm_leaves_pods_running(self):
        a = self.agent
        a.write("probed.yaml", textwrap.dedent("""\
            apiVersion: v1
            kind: Pod
            metadata:
              name: probed
            spec:
              terminationGracePeriodSeconds: 2
              volumes:
              - name: scratch
                emptyDir: {}
              - name: host
                hostPath: {path: HOSTDIR, type: DirectoryOrCreate}
              containers:
              - name: app
                image: knode.local/busybox:1.36
                imagePullPolicy: Never
                command: ["sh", "-c", "echo hi > /scratch/f && cat /host/greeting > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
                volumeMounts:
                - {name: scratch, mountPath: /scratch}
                - {name: host, mountPath: /host}
                - {name: scratch, mountPath: /www, subPath: www}
                readinessProbe:
                  httpGet: {path: /, port: 8080}
                  periodSeconds: 1
                livenessProbe:
                  exec: {command: ["test", "!", "-e", "/scratch/die"]}
                  periodSeconds: 1
                  failureThreshold: 1
            """).replace("HOSTDIR", os.path.join(a.dir, "hostdir")))
        os.makedirs(os.path.join(a.dir, "hostdir"), exist_ok=True)
        with open(os.path.join(a.dir, "hostdir", "greeting"), "w") as f:
            f.write("from the host\n")

        def ready():
            p = a.pod("probed")
            return p and p["status"]["containerStatuses"][0].get("ready") and p
        pod = wait_for(ready, 60, "readiness probe makes the pod Ready", a)
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Ready"], "True")
        self.assertEqual(http_get(pod["status"]["podIP"]), "from the host")
        uid = pod["metadata"]["uid"]
        empty_dir = os.path.join(a.root, "pods", uid, "volumes", "kubernetes.io~empty-dir", "scratch")
        with open(os.path.join(empty_dir, "f")) as f:
            self.assertEqual(f.read(), "hi\n")

        # Liveness failure restarts the container.
        open(os.path.join(empty_dir, "die"), "w").close()
        wait_for(lambda: (a.pod("probed")["status"]["containerStatuses"][0].get("restartCount", 0) >= 1), 60,
                 "liveness restart", a)
        os.unlink(os.path.join(empty_dir, "die"))
        pod = wait_for(ready, 60, "ready again", a)

        # SIGTERM: the agent exits, the pod keeps running.
        cid = container_id(pod)
        a.stop(signal.SIGTERM)
        self.assertEqual(a.proc.returncode, 0)
        self.assertIn(cid, runtime_container_ids())
        self.assertEqual(http_get(pod["status"]["podIP"]), "from the host")
        a.start()  # cleanup() removes the pod through the agent

    def test_never_pull_missing_image(self):
        a = self.agent
        a.write("missing.yaml", manifest("missing", "sleep 3600", image="knode.local/does-not-exist:1"))

        def reason():
            p = a.pod("missing")
            if not p:
                return None
            return p["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason")

        wait_for(lambda: reason() == "ErrImageNeverPull", 60, "ErrImageNeverPull", a)
        p = a.pod("missing")
        self.assertEqual(p["status"]["phase"], "Pending")
        self.assertIn("is not present with pull policy of Never",
                      p["status"]["containerStatuses"][0]["state"]["waiting"]["message"])
        self.assertTrue(a.alive())


class StandaloneErrorsTest(unittest.TestCase):
    def test_runtime_down_is_a_clear_error(self):
        d = tempfile.mkdtemp(prefix="knode-e2e-nocri-")
        try:
            r = knode_e2e.run("kubelet", f"--container-runtime-endpoint=unix://{d}/nothing.sock",
                              f"--root-dir={d}", timeout=60)
            self.assertEqual(r.returncode, 1)
            self.assertIn("Cannot connect to the container runtime", r.stderr)
            self.assertIn(f"{d}/nothing.sock", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
