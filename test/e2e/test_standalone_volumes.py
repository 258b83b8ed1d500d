"""knode kubelet in standalone mode: volumes (memory-backed emptyDir, subPath, mountPropagation,
clean-up), the staticPodURL source and image pulls (registry credentials, serialized pulls) against
the test containerd. The URL and the registry are Python servers on 127.0.0.1.

Needs root and KNODE_TEST_CRI_ENDPOINT (see test_standalone.py). What the containers see is read
from inside them: they write /proc/mounts and directory listings to a hostPath the test reads, or
an exec readiness probe reports what they see.
"""
import base64
import http.server
import json
import os
import signal
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

from test_standalone import ENDPOINT, Agent, running_ip, wait_for


def mounts_under(path):
    """Mount points at or under path (resolved), from /proc/self/mountinfo."""
    path = os.path.realpath(path)
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == path or point.startswith(path + "/"):
                out.append(point)
    return out


def waiting(agent, name, container=0):
    p = agent.pod(name)
    if not p or not p["status"].get("containerStatuses"):
        return None
    return p["status"]["containerStatuses"][container]["state"].get("waiting")


def pod_dir(agent, name):
    return os.path.join(agent.root, "pods", agent.pod(name)["metadata"]["uid"])


def read(path):
    with open(path) as f:
        return f.read()


@unittest.skipUnless(ENDPOINT, "KNODE_TEST_CRI_ENDPOINT is not set (start test/scripts/containerd-up.sh)")
@unittest.skipUnless(os.geteuid() == 0, "needs root (containerd, mounts)")
class StandaloneVolumesTest(unittest.TestCase):
    def setUp(self):
        self.agent = Agent(f"e2e-{os.getpid()}-v-{self._testMethodName[5:18].replace('_', '-').strip('-')}")
        self.out = os.path.join(self.agent.dir, "out")
        os.makedirs(self.out)

    def start(self):
        self.agent.start()
        self.addCleanup(self.agent.cleanup)

    def test_memory_empty_dir_is_tmpfs_of_size_limit_and_subpath_shows_only_the_subdirectory(self):
        a = self.agent
        host = os.path.join(a.dir, "host")
        os.makedirs(os.path.join(host, "only"))
        os.makedirs(os.path.join(host, "other"))
        with open(os.path.join(host, "only", "a.txt"), "w") as f:
            f.write("A\n")
        with open(os.path.join(host, "other", "secret.txt"), "w") as f:
            f.write("S\n")
        self.start()
        a.write("vols.yaml", textwrap.dedent(f"""\
            apiVersion: v1
            kind: Pod
            metadata: {{name: vols}}
            spec:
              terminationGracePeriodSeconds: 2
              volumes:
              - {{name: mem, emptyDir: {{medium: Memory, sizeLimit: 32Mi}}}}
              - {{name: host, hostPath: {{path: {host}}}}}
              - {{name: out, hostPath: {{path: {self.out}}}}}
              containers:
              - name: app
                image: knode.local/busybox:1.36
                imagePullPolicy: Never
                env: [{{name: SUB, value: only}}]
                command: ["sh", "-c", "grep ' /mem ' /proc/mounts > /out/mounts; ls -a /sub > /out/ls;
                          ls /expr > /out/ls-expr; echo ok > /mem/f; df -k /mem | tail -1 > /out/df; touch /out/done;
                          trap 'exit 0' TERM; sleep 3600 & wait"]
                volumeMounts:
                - {{name: mem, mountPath: /mem}}
                - {{name: host, mountPath: /sub, subPath: only}}
                - {{name: host, mountPath: /expr, subPathExpr: "$(SUB)"}}
                - {{name: out, mountPath: /out}}
            """))
        wait_for(lambda: os.path.exists(os.path.join(self.out, "done")), 60, "container wrote its view", a)
        # Inside: /mem is a tmpfs of 32 MiB.
        mounts = read(os.path.join(self.out, "mounts"))
        self.assertRegex(mounts, r"^tmpfs /mem tmpfs rw,.*size=32768k", mounts)
        self.assertEqual(read(os.path.join(self.out, "df")).split()[1], "32768")
        # subPath and subPathExpr: only the sub-directory is visible.
        self.assertEqual(read(os.path.join(self.out, "ls")).split(), [".", "..", "a.txt"])
        self.assertEqual(read(os.path.join(self.out, "ls-expr")).split(), ["a.txt"])
        # Outside: the tmpfs under the pod directory holds what the container wrote.
        d = pod_dir(a, "vols")
        mem = os.path.join(d, "volumes", "kubernetes.io~empty-dir", "mem")
        self.assertIn(os.path.realpath(mem), mounts_under(d))
        self.assertEqual(read(os.path.join(mem, "f")), "ok\n")

        # Removing the pod unmounts the tmpfs and the subPath bind mounts, then removes the directory.
        a.remove("vols.yaml")
        wait_for(lambda: a.pod("vols") is None, 60, "pod gone", a)
        wait_for(lambda: not os.path.exists(d), 30, "pod directory removed", a)
        self.assertEqual(mounts_under(d), [])
        self.assertEqual(read(os.path.join(host, "only", "a.txt")), "A\n")  # the hostPath is untouched
        self.assertTrue(a.alive())

    def test_subpath_with_dotdot_or_escaping_symlink_fails_clearly_and_the_agent_stays_up(self):
        a = self.agent
        host = os.path.join(a.dir, "host")
        os.makedirs(host)
        os.symlink("/etc", os.path.join(host, "etc-link"))
        self.start()

        def pod(name, sub):
            return textwrap.dedent(f"""\
                apiVersion: v1
                kind: Pod
                metadata: {{name: {name}}}
                spec:
                  terminationGracePeriodSeconds: 2
                  volumes: [{{name: host, hostPath: {{path: {host}}}}}]
                  containers:
                  - name: app
                    image: knode.local/busybox:1.36
                    imagePullPolicy: Never
                    command: ["sleep", "3600"]
                    volumeMounts: [{{name: host, mountPath: /x, subPath: "{sub}"}}]
                """)
        a.write("dotdot.yaml", pod("dotdot", "../../etc"))
        a.write("link.yaml", pod("link", "etc-link"))
        a.write("good.yaml", pod("good", "fine"))
        w = wait_for(lambda: waiting(a, "dotdot"), 60, "dotdot waiting", a)
        self.assertEqual(w["reason"], "CreateContainerConfigError")
        self.assertEqual(w["message"], "unable to provision SubPath `../../etc`: must not contain '..'")
        w = wait_for(lambda: waiting(a, "link"), 60, "link waiting", a)
        self.assertEqual(w["reason"], "CreateContainerConfigError")
        self.assertEqual(w["message"], 'failed to prepare subPath for volumeMount "host" of container "app"')
        self.assertIn("not within volume path", a.log)  # the detail is in the log only
        wait_for(lambda: running_ip(a, "good"), 60, "the good pod runs", a)
        self.assertTrue(os.path.isdir(os.path.join(host, "fine")))
        self.assertEqual(a.pod("dotdot")["status"]["phase"], "Pending")
        self.assertEqual(mounts_under(pod_dir(a, "dotdot")), [])
        self.assertTrue(a.alive())

    def test_host_to_container_propagation_sees_a_later_host_mount(self):
        a = self.agent
        shared = os.path.join(a.dir, "shared")
        os.makedirs(shared)
        # The source must be a shared mount (containerd refuses rslave from a private one; / here is
        # private, while systemd hosts make / shared): make the test's directory one.
        subprocess.run(["mount", "--bind", shared, shared], check=True)
        self.addCleanup(lambda: subprocess.run(["umount", "-R", "-l", shared]))
        subprocess.run(["mount", "--make-shared", shared], check=True)
        self.start()
        probe = '{exec: {command: ["test", "-e", "/h/late/marker"]}, periodSeconds: 1}'
        a.write("prop.yaml", textwrap.dedent(f"""\
            apiVersion: v1
            kind: Pod
            metadata: {{name: prop}}
            spec:
              terminationGracePeriodSeconds: 2
              volumes: [{{name: h, hostPath: {{path: {shared}}}}}]
              containers:
              - name: slave
                image: knode.local/busybox:1.36
                imagePullPolicy: Never
                command: ["sleep", "3600"]
                volumeMounts: [{{name: h, mountPath: /h, mountPropagation: HostToContainer}}]
                readinessProbe: {probe}
              - name: private
                image: knode.local/busybox:1.36
                imagePullPolicy: Never
                command: ["sleep", "3600"]
                volumeMounts: [{{name: h, mountPath: /h, mountPropagation: None}}]
                readinessProbe: {probe}
              - name: bidi
                image: knode.local/busybox:1.36
                imagePullPolicy: Never
                command: ["sleep", "3600"]
                volumeMounts: [{{name: h, mountPath: /h, mountPropagation: Bidirectional}}]
            """))

        def statuses():
            p = a.pod("prop")
            return {c["name"]: c for c in (p or {}).get("status", {}).get("containerStatuses", [])}
        wait_for(lambda: all("running" in statuses().get(n, {}).get("state", {}) for n in ("slave", "private")),
                 60, "containers running", a)
        # Bidirectional is refused for an unprivileged container.
        w = statuses()["bidi"]["state"].get("waiting", {})
        self.assertEqual(w.get("reason"), "CreateContainerConfigError")
        self.assertEqual(w.get("message"), 'volumeMount "h" of container "bidi": '
                                           "Bidirectional mount propagation is available only to privileged containers")
        self.assertFalse(statuses()["slave"]["ready"])

        late = os.path.join(shared, "late")
        os.makedirs(late)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", late], check=True)
        with open(os.path.join(late, "marker"), "w") as f:
            f.write("x")
        wait_for(lambda: statuses()["slave"]["ready"], 30, "HostToContainer sees the new mount", a)
        time.sleep(2)  # two more probe periods
        self.assertFalse(statuses()["private"]["ready"])  # None: the mount made later is not seen
        a.remove("prop.yaml")
        wait_for(lambda: a.pod("prop") is None, 60, "pod gone", a)

    def test_memory_volumes_are_unmounted_for_pods_gone_while_the_agent_was_down(self):
        a = self.agent
        self.start()
        a.write("mem.yaml", textwrap.dedent("""\
            apiVersion: v1
            kind: Pod
            metadata: {name: mem}
            spec:
              terminationGracePeriodSeconds: 2
              volumes: [{name: m, emptyDir: {medium: Memory, sizeLimit: 4Mi}}]
              containers:
              - name: app
                image: knode.local/busybox:1.36
                imagePullPolicy: Never
                command: ["sleep", "3600"]
                volumeMounts: [{name: m, mountPath: /m}]
            """))
        wait_for(lambda: running_ip(a, "mem"), 60, "pod mem running", a)
        d = pod_dir(a, "mem")
        self.assertEqual(len(mounts_under(d)), 1)
        a.stop(signal.SIGKILL)
        a.remove("mem.yaml")
        # A directory left by a pod the runtime no longer has (e.g. after the runtime's state was
        # wiped), with its tmpfs still mounted.
        stale = os.path.join(a.root, "pods", "0123-stale", "volumes", "kubernetes.io~empty-dir", "m")
        os.makedirs(stale)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", stale], check=True)
        a.start()
        wait_for(lambda: not os.path.exists(d), 60, "the removed pod's directory cleaned up", a)
        self.assertEqual(mounts_under(d), [])
        wait_for(lambda: not os.path.exists(os.path.dirname(os.path.dirname(os.path.dirname(stale)))), 30,
                 "the orphaned directory cleaned up", a)
        self.assertEqual(mounts_under(os.path.join(a.root, "pods")), [])
        self.assertIn("Cleaning up the directory of an orphaned pod", a.log)


class PodServer(http.server.ThreadingHTTPServer):
    """Serves self.body (or self.status with an error) on 127.0.0.1; records request headers."""

    def __init__(self):
        self.body, self.status, self.headers_seen = b"", 200, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(h):
                self.headers_seen.append(dict(h.headers))
                h.send_response(self.status)
                h.send_header("Content-Length", str(len(self.body)))
                h.end_headers()
                h.wfile.write(self.body)

            def log_message(h, *args):
                pass
        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/pods"

    def close(self):
        self.shutdown()
        self.server_close()


def sleeper(name, kind_line=True):
    doc = {"metadata": {"name": name}, "spec": {"terminationGracePeriodSeconds": 2, "containers": [
        {"name": "app", "image": "knode.local/busybox:1.36", "imagePullPolicy": "Never",
         "command": ["sleep", "3600"]}]}}
    if kind_line:
        doc = {"apiVersion": "v1", "kind": "Pod", **doc}
    return doc


@unittest.skipUnless(ENDPOINT, "KNODE_TEST_CRI_ENDPOINT is not set (start test/scripts/containerd-up.sh)")
@unittest.skipUnless(os.geteuid() == 0, "needs root (containerd)")
class StaticPodURLTest(unittest.TestCase):
    def test_pods_from_a_url_survive_fetch_errors_and_follow_changes(self):
        server = PodServer()
        self.addCleanup(server.close)
        a = Agent(f"e2e-{os.getpid()}-url")
        a.extra_args = [f"--manifest-url={server.url}", "--http-check-frequency=1s",
                        "--manifest-url-header=X-Node:e2e,X-Node:again"]
        server.body = json.dumps(sleeper("one")).encode()
        a.start()

        def cleanup():
            server.status, server.body = 200, json.dumps({"apiVersion": "v1", "kind": "PodList", "items": []}).encode()
            a.cleanup()
        self.addCleanup(cleanup)
        wait_for(lambda: running_ip(a, "one"), 60, "pod from the URL running", a)
        pod = a.pod("one")
        self.assertEqual(pod["metadata"]["annotations"]["kubernetes.io/config.source"], "http")
        self.assertEqual(pod["metadata"]["annotations"]["kubernetes.io/config.hash"], pod["metadata"]["uid"])
        uid = pod["metadata"]["uid"]
        self.assertIn("X-Node", server.headers_seen[-1])

        # Errors: a bad body, a server error, a server that is gone: logged with the URL, pod kept.
        server.body = b"kind: Pod\nthis is: [not a pod"
        wait_for(lambda: "Failed to read pods from URL" in a.log, 10, "bad body logged", a)
        server.status, server.body = 503, b"down for maintenance"
        wait_for(lambda: "HTTP status 503" in a.log, 10, "503 logged", a)
        line = [l for l in a.log.splitlines() if "HTTP status 503" in l][0]
        self.assertIn(f'url="{server.url}"', line)
        time.sleep(2)
        self.assertEqual(a.pod("one")["metadata"]["uid"], uid)
        self.assertTrue(running_ip(a, "one"))

        # A PodList: the pod that stays keeps its UID, the new one starts.
        server.status = 200
        server.body = json.dumps({"apiVersion": "v1", "kind": "PodList",
                                  "items": [sleeper("one"), sleeper("two", kind_line=False)]}).encode()
        wait_for(lambda: running_ip(a, "two"), 60, "second pod running", a)
        self.assertIn("Successfully read pods from URL", a.log)
        self.assertEqual(a.pod("one")["metadata"]["uid"], uid)

        # Dropped from the list: stopped.
        server.body = json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [sleeper("two", kind_line=False)]}).encode()
        two_uid = a.pod("two")["metadata"]["uid"]
        wait_for(lambda: a.pod("one") is None, 60, "pod one stopped", a)
        self.assertTrue(running_ip(a, "two"))
        self.assertEqual(a.pod("two")["metadata"]["uid"], two_uid)
        self.assertTrue(a.alive())


if __name__ == "__main__":
    unittest.main()


class FakeRegistry(http.server.ThreadingHTTPServer):
    """A registry on 127.0.0.1 that asks for Basic auth, records what containerd sends, and knows no
    image (so a pull with the right credentials ends in 'not found'). Requests are slowed down so
    that overlapping pulls would show."""

    def __init__(self, delay=0.3):
        self.requests = []  # (path, Authorization or None)
        self.lock = threading.Lock()
        self.active = {}     # repository -> requests in flight
        self.overlap = []    # repositories seen in flight together
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def reply(h, code, body=b"", headers=()):
                h.send_response(code)
                for k, v in headers:
                    h.send_header(k, v)
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                if h.command != "HEAD":
                    h.wfile.write(body)

            def handle_any(h):
                auth = h.headers.get("Authorization")
                parts = h.path.split("/manifests/")
                repo = parts[0][len("/v2/"):] if len(parts) == 2 else None
                with registry.lock:
                    registry.requests.append((h.path, auth))
                    if repo:
                        registry.active[repo] = registry.active.get(repo, 0) + 1
                        busy = [r for r, n in registry.active.items() if n > 0]
                        if len(busy) > 1:
                            registry.overlap.append(busy)
                time.sleep(delay)
                with registry.lock:
                    if repo:
                        registry.active[repo] -= 1
                if not auth:
                    h.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                            [("WWW-Authenticate", 'Basic realm="knode-test"'), ("Content-Type", "application/json"),
                             ("Docker-Distribution-API-Version", "registry/2.0")])
                elif h.path == "/v2/":
                    h.reply(200, b"{}", [("Content-Type", "application/json")])
                else:
                    h.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
                            [("Content-Type", "application/json")])

            do_GET = do_HEAD = handle_any

            def log_message(h, *args):
                pass
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def host(self):
        return f"127.0.0.1:{self.server_address[1]}"

    def auths_for(self, repo):
        """The credentials sent for a repository, in order, each once."""
        with self.lock:
            seen = [a for p, a in self.requests if p.startswith(f"/v2/{repo}/") and a]
        return list(dict.fromkeys(seen))

    def close(self):
        self.shutdown()
        self.server_close()


@unittest.skipUnless(ENDPOINT, "KNODE_TEST_CRI_ENDPOINT is not set (start test/scripts/containerd-up.sh)")
@unittest.skipUnless(os.geteuid() == 0, "needs root (containerd)")
class ImagePullTest(unittest.TestCase):
    def test_node_credentials_reach_the_registry_and_pulls_are_serialized(self):
        reg = FakeRegistry()
        self.addCleanup(reg.close)
        a = Agent(f"e2e-{os.getpid()}-pull")
        # <rootDir>/config.json, as upstream's kubelet reads it; keys by host:port and path prefix.
        with open(os.path.join(a.root, "config.json"), "w") as f:
            json.dump({"auths": {
                f"{reg.host}/team": {"auth": base64.b64encode(b"alice:s3cret").decode()},
                f"http://{reg.host}": {"username": "bob", "password": "other"},
                "127.0.0.1": {"username": "wrong-port", "password": "x"},
            }}, f)
        a.start()
        self.addCleanup(a.cleanup)

        def pod(name, image):
            return textwrap.dedent(f"""\
                apiVersion: v1
                kind: Pod
                metadata: {{name: {name}}}
                spec:
                  containers:
                  - {{name: app, image: "{image}", imagePullPolicy: Always}}
                """)
        a.write("team.yaml", pod("team", f"{reg.host}/team/app:1"))
        a.write("other.yaml", pod("other", f"{reg.host}/other/app:1"))

        def reason(name):
            w = waiting(a, name)
            return w and w.get("reason") in ("ErrImagePull", "ImagePullBackOff") and w
        w = wait_for(lambda: reason("team"), 60, "team pull failed", a)
        wait_for(lambda: reason("other"), 60, "other pull failed", a)
        self.assertIn("not found", "\n".join(l for l in a.log.splitlines() if "Pulling the image failed" in l))
        # containerd answered the registry's challenge with each matching credential in turn, the
        # more specific key (host/team) first; never the credential of the other port.
        alice = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        bob = "Basic " + base64.b64encode(b"bob:other").decode()
        self.assertEqual(reg.auths_for("team/app")[:2], [alice, bob])
        self.assertEqual(reg.auths_for("other/app"), [bob])
        # serializeImagePulls (the default): the two pulls never overlapped at the registry.
        self.assertEqual(reg.overlap, [])
        wait_for(lambda: (waiting(a, "team") or {}).get("reason") == "ImagePullBackOff", 30, "ImagePullBackOff", a)
        self.assertEqual(waiting(a, "team")["message"], f'Back-off pulling image "{reg.host}/team/app:1"')
        self.assertTrue(a.alive())

    def test_parallel_pulls_when_not_serialized(self):
        reg = FakeRegistry()
        self.addCleanup(reg.close)
        a = Agent(f"e2e-{os.getpid()}-ppull")
        a.extra_args = ["--serialize-image-pulls=false"]
        a.start()
        self.addCleanup(a.cleanup)
        for name in ("p1", "p2"):
            a.write(f"{name}.yaml", textwrap.dedent(f"""\
                apiVersion: v1
                kind: Pod
                metadata: {{name: {name}}}
                spec:
                  containers:
                  - {{name: app, image: "{reg.host}/{name}/app:1", imagePullPolicy: Always}}
                """))
        for name in ("p1", "p2"):
            wait_for(lambda: waiting(a, name), 60, f"{name} pull failed", a)
        self.assertTrue(reg.overlap, reg.requests)  # both repositories were in flight at once
