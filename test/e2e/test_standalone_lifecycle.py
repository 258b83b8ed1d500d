"""Container lifecycle of `knode kubelet` in standalone mode on the test containerd: preStop hooks
before SIGTERM, the grace-period deadline, init containers in order, containers sharing an
emptyDir, sidecars (restartable init containers) and postStart hooks.

Needs root and KNODE_TEST_CRI_ENDPOINT (test/run.sh exports it; or
`KNODE_TEST_CRI_ENDPOINT=unix://$(test/scripts/containerd-up.sh)`). The containers write what
they see into a hostPath directory the test reads; the test observes the pod through the status
file <root-dir>/pods-status.json and the agent's log, as an operator would.
"""
import os
import signal
import subprocess
import textwrap
import time
import unittest

from test_standalone import ENDPOINT, SOCK, Agent, http_get, wait_for

IMAGE = "knode.local/busybox:1.36"


def pod_yaml(name, body, grace=2, restart="Always"):
    """A pod manifest; body is the YAML under spec (indented by 2), {IMAGE} and {OUT} filled later."""
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          restartPolicy: {restart}
          terminationGracePeriodSeconds: {grace}
        """) + textwrap.indent(textwrap.dedent(body), "  ")


def statuses(pod, kind="containerStatuses"):
    return {c["name"]: c for c in (pod or {}).get("status", {}).get(kind, [])}


def running(pod, name, kind="containerStatuses"):
    return "running" in statuses(pod, kind).get(name, {}).get("state", {})


def task_pid(container_id):
    """The container's process id in the runtime, or None once it has no running task."""
    r = subprocess.run(["ctr", "-a", SOCK, "-n", "k8s.io", "tasks", "ls"], capture_output=True, text=True, check=True)
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 3 and f[0] == container_id and f[2] == "RUNNING":
            return int(f[1])
    return None


@unittest.skipUnless(ENDPOINT, "KNODE_TEST_CRI_ENDPOINT is not set (start test/scripts/containerd-up.sh)")
@unittest.skipUnless(os.geteuid() == 0, "needs root (containerd, CNI)")
class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.agent = Agent(f"lc-{os.getpid()}-{self._testMethodName[5:20].replace('_', '-').strip('-')}")
        self.out = os.path.join(self.agent.dir, "out")
        os.makedirs(self.out)
        self.agent.start()
        self.addCleanup(self.agent.cleanup)

    def write_pod(self, name, body, **kw):
        text = pod_yaml(name, body, **kw).replace("{IMAGE}", IMAGE).replace("{OUT}", self.out)
        self.agent.write(f"{name}.yaml", text)

    def lines(self, filename):
        try:
            with open(os.path.join(self.out, filename)) as f:
                return f.read().split()
        except OSError:
            return []

    def test_prestop_hooks_run_before_sigterm(self):
        a = self.agent
        # "web" has an httpGet preStop hook (a CGI script of busybox httpd appends to the log with
        # the request's User-Agent and header), "worker" an exec one; each container's SIGTERM trap
        # appends after it.
        self.write_pod("stopper", """\
            volumes:
            - {name: out, hostPath: {path: "{OUT}"}}
            containers:
            - name: web
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho \\"prestop-http:$HTTP_USER_AGENT:$HTTP_X_REASON\\" >> /out/web\\necho Content-Type: text/plain\\necho\\necho ok\\n' > /www/cgi-bin/stop && chmod +x /www/cgi-bin/stop && httpd -p 8080 -h /www && trap 'echo sigterm >> /out/web; exit 0' TERM; echo started >> /out/web; while true; do sleep 0.1; done"]
              lifecycle:
                preStop:
                  httpGet:
                    path: /cgi-bin/stop
                    port: 8080
                    httpHeaders: [{name: X-Reason, value: stopping}]
            - name: worker
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "trap 'echo sigterm >> /out/worker; exit 0' TERM; echo started >> /out/worker; while true; do sleep 0.1; done"]
              lifecycle:
                preStop:
                  exec: {command: ["sh", "-c", "echo prestop-exec >> /out/worker; sleep 1"]}
            """, grace=10)
        wait_for(lambda: self.lines("web") == ["started"] and self.lines("worker") == ["started"], 60,
                 "both containers started", a)
        a.remove("stopper.yaml")
        wait_for(lambda: a.pod("stopper") is None, 30, "pod removed", a)
        self.assertEqual(self.lines("web"), ["started", "prestop-http:kube-lifecycle/1.32:stopping", "sigterm"])
        self.assertEqual(self.lines("worker"), ["started", "prestop-exec", "sigterm"])

    def test_prestop_runs_for_a_pod_removed_while_the_agent_was_down(self):
        a = self.agent
        self.write_pod("orphan", """\
            volumes:
            - {name: out, hostPath: {path: "{OUT}"}}
            containers:
            - name: app
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "trap 'echo sigterm >> /out/log; exit 0' TERM; echo started >> /out/log; while true; do sleep 0.1; done"]
              lifecycle:
                preStop:
                  exec: {command: ["sh", "-c", "echo prestop >> /out/log"]}
            """, grace=10)
        pod = wait_for(lambda: running(a.pod("orphan"), "app") and a.pod("orphan"), 60, "pod running", a)
        cid = statuses(pod)["app"]["containerID"].split("://", 1)[1]
        a.stop(signal.SIGKILL)
        a.remove("orphan.yaml")
        os.unlink(os.path.join(a.root, "pods-status.json"))
        a.start()
        # Known only from the runtime now: stopped with the hook found in the CRI annotations.
        wait_for(lambda: task_pid(cid) is None, 30, "orphan stopped", a)
        self.assertEqual(self.lines("log"), ["started", "prestop", "sigterm"])

    def test_sigterm_ignored_is_killed_at_the_grace_deadline(self):
        a = self.agent
        self.write_pod("stubborn", """\
            containers:
            - name: app
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
            """, grace=3)
        pod = wait_for(lambda: running(a.pod("stubborn"), "app") and a.pod("stubborn"), 60, "stubborn running", a)
        cid = statuses(pod)["app"]["containerID"].split("://", 1)[1]
        self.assertIsNotNone(task_pid(cid))
        t0 = time.monotonic()
        a.remove("stubborn.yaml")
        wait_for(lambda: task_pid(cid) is None, 30, "container killed", a)
        elapsed = time.monotonic() - t0
        # SIGTERM is ignored: the process lives for the whole grace period, then SIGKILL. Upstream's
        # fallback without a grace period would be 30 s; allow for a loaded machine above 3 s.
        self.assertGreaterEqual(elapsed, 3.0)
        self.assertLess(elapsed, 12.0, a.log)
        self.assertIn('containerName="app"', a.log)
        self.assertRegex(a.log, r'"Killing container with a grace period" pod="default/stubborn-[^"]+" '
                                r'containerName="app" .*gracePeriod=3')

    def test_init_containers_run_in_order_before_the_app(self):
        a = self.agent
        # i2 fails on its first run: it is restarted and i3 and the app wait for it.
        self.write_pod("init", """\
            volumes:
            - {name: work, emptyDir: {}}
            initContainers:
            - name: i1
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "echo i1 >> /work/order"]
              volumeMounts: [{name: work, mountPath: /work}]
            - name: i2
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "if [ ! -e /work/tried ]; then touch /work/tried; echo i2-failed >> /work/order; exit 1; fi; sleep 1; echo i2 >> /work/order"]
              volumeMounts: [{name: work, mountPath: /work}]
            - name: i3
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "echo i3 >> /work/order"]
              volumeMounts: [{name: work, mountPath: /work}]
            containers:
            - name: app
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "echo app >> /work/order; mkdir -p /www && ln -s /work/order /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
              volumeMounts: [{name: work, mountPath: /work}]
            """)
        seen_pending = []

        def serving():
            p = a.pod("init")
            if p and not p["status"].get("containerStatuses", [{}])[0].get("state", {}).get("running"):
                seen_pending.append(p["status"]["phase"])
            return running(p, "app") and p["status"].get("podIP") and p
        pod = wait_for(serving, 60, "app running after the init containers", a)
        self.assertEqual(http_get(pod["status"]["podIP"]).split(), ["i1", "i2-failed", "i2", "i3", "app"])
        self.assertIn("Pending", seen_pending)
        inits = statuses(pod, "initContainerStatuses")
        self.assertEqual([c["name"] for c in pod["status"]["initContainerStatuses"]], ["i1", "i2", "i3"])
        for name in ("i1", "i2", "i3"):
            self.assertEqual(inits[name]["state"]["terminated"]["exitCode"], 0, name)
            self.assertEqual(inits[name]["state"]["terminated"]["reason"], "Completed", name)
        self.assertEqual(inits["i2"]["restartCount"], 1)
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Initialized"], "True")

    def test_two_containers_share_an_empty_dir(self):
        a = self.agent
        self.write_pod("shared", """\
            volumes:
            - {name: data, emptyDir: {}}
            containers:
            - name: server
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /srv & wait"]
              volumeMounts: [{name: data, mountPath: /srv}]
            - name: writer
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo written-$i > /data/tmp && mv /data/tmp /data/index.html; sleep 0.2; done"]
              volumeMounts: [{name: data, mountPath: /data}]
            """)
        pod = wait_for(lambda: running(a.pod("shared"), "server") and running(a.pod("shared"), "writer")
                       and a.pod("shared"), 60, "both containers running", a)
        ip = pod["status"]["podIP"]

        def count():
            try:
                text = http_get(ip)
            except AssertionError:
                return None
            return int(text.split("-")[1]) if text.startswith("written-") else None
        first = wait_for(count, 30, "the writer's file served by the other container", a)
        wait_for(lambda: (count() or 0) > first, 10, "the served file changes as the writer writes", a)

    def test_sidecar_starts_first_restarts_and_stops_last(self):
        a = self.agent
        self.write_pod("sidecar", """\
            volumes:
            - {name: out, hostPath: {path: "{OUT}"}}
            initContainers:
            - name: side
              image: {IMAGE}
              imagePullPolicy: Never
              restartPolicy: Always
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "echo side-start >> /out/log; trap 'echo side-term >> /out/log; exit 0' TERM; while [ ! -e /out/side-exit ]; do sleep 0.1; done; rm /out/side-exit; exit 1"]
              startupProbe:
                exec: {command: ["true"]}
                periodSeconds: 1
            containers:
            - name: app
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "echo app-start >> /out/log; trap 'sleep 1; echo app-term >> /out/log; exit 0' TERM; while true; do sleep 0.1; done"]
            """, grace=10)

        def ready():
            p = a.pod("sidecar")
            conds = {c["type"]: c["status"] for c in (p or {}).get("status", {}).get("conditions", [])}
            return running(p, "app") and conds.get("Ready") == "True" and p
        pod = wait_for(ready, 60, "pod Ready with sidecar and app running", a)
        self.assertEqual(self.lines("log"), ["side-start", "app-start"])
        side = statuses(pod, "initContainerStatuses")["side"]
        self.assertTrue(side["started"])
        self.assertTrue(side["ready"])
        self.assertIn("running", side["state"])
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Initialized"], "True")
        self.assertEqual(pod["status"]["phase"], "Running")

        # The sidecar exits (code 1): it is restarted, the app is left alone.
        open(os.path.join(self.out, "side-exit"), "w").close()

        def restarted():
            p = a.pod("sidecar")
            s = statuses(p, "initContainerStatuses").get("side", {})
            return s.get("restartCount", 0) >= 1 and "running" in s.get("state", {}) and p
        pod = wait_for(restarted, 30, "sidecar restarted", a)
        side = statuses(pod, "initContainerStatuses")["side"]
        self.assertEqual(side["lastState"]["terminated"]["exitCode"], 1)
        self.assertEqual(statuses(pod)["app"].get("restartCount", 0), 0)
        self.assertEqual(self.lines("log"), ["side-start", "app-start", "side-start"])

        # Removal: the app stops first (its trap takes a second), then the sidecar.
        a.remove("sidecar.yaml")
        wait_for(lambda: a.pod("sidecar") is None, 30, "pod removed", a)
        self.assertEqual(self.lines("log"), ["side-start", "app-start", "side-start", "app-term", "side-term"])

    def test_app_waits_for_the_sidecar_startup_probe(self):
        a = self.agent
        # The sidecar's startup probe fails until the test creates /out/ready: after two failures it
        # is restarted; the app starts only once the probe succeeded.
        self.write_pod("gated", """\
            volumes:
            - {name: out, hostPath: {path: "{OUT}"}}
            initContainers:
            - name: side
              image: {IMAGE}
              imagePullPolicy: Never
              restartPolicy: Always
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "echo side >> /out/log; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
              startupProbe:
                exec: {command: ["test", "-e", "/out/ready"]}
                periodSeconds: 1
                failureThreshold: 2
            containers:
            - name: app
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "echo app >> /out/log; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
            """)

        def side(p):
            return statuses(p, "initContainerStatuses").get("side", {})
        pod = wait_for(lambda: side(a.pod("gated")).get("restartCount", 0) >= 1 and a.pod("gated"), 30,
                       "sidecar restarted after its startup probe failed", a)
        self.assertNotIn("app", self.lines("log"))
        self.assertNotIn("running", statuses(pod).get("app", {}).get("state", {}))
        self.assertEqual(pod["status"]["phase"], "Pending")
        self.assertIn("Container failed startup probe, will be restarted", a.log)
        open(os.path.join(self.out, "ready"), "w").close()
        pod = wait_for(lambda: running(a.pod("gated"), "app") and a.pod("gated"), 30, "app running", a)
        self.assertTrue(side(pod)["started"])
        self.assertEqual(self.lines("log")[-1], "app")
        self.assertEqual(set(self.lines("log")[:-1]), {"side"})

    def test_sidecar_of_a_finished_pod_is_stopped_and_the_pod_succeeds(self):
        a = self.agent
        self.write_pod("job", """\
            initContainers:
            - name: side
              image: {IMAGE}
              imagePullPolicy: Never
              restartPolicy: Always
              command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
            containers:
            - name: app
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "sleep 1"]
            """, restart="Never")
        pod = wait_for(lambda: (a.pod("job") or {}).get("status", {}).get("phase") == "Succeeded" and a.pod("job"),
                       60, "job Succeeded", a)
        self.assertEqual(statuses(pod)["app"]["state"]["terminated"]["exitCode"], 0)
        self.assertIn("terminated", statuses(pod, "initContainerStatuses")["side"]["state"])
        conds = {c["type"]: (c["status"], c.get("reason")) for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Ready"], ("False", "PodCompleted"))

    def test_failing_post_start_hook_kills_and_restarts_the_container(self):
        a = self.agent
        self.write_pod("hooked", """\
            volumes:
            - {name: out, hostPath: {path: "{OUT}"}}
            containers:
            - name: exec-hook
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
              lifecycle:
                postStart:
                  exec: {command: ["sh", "-c", "echo ran >> /out/exec-hook; echo hook-output; exit 7"]}
            - name: http-hook
              image: {IMAGE}
              imagePullPolicy: Never
              command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
              lifecycle:
                postStart:
                  httpGet: {path: /ready, port: 9999}
            - name: good-hook
              image: {IMAGE}
              imagePullPolicy: Never
              volumeMounts: [{name: out, mountPath: /out}]
              command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
              lifecycle:
                postStart:
                  exec: {command: ["sh", "-c", "echo ran >> /out/good-hook"]}
            """)
        reasons = set()

        def restarted():
            p = a.pod("hooked")
            s = statuses(p)
            for c in s.values():
                w = c.get("state", {}).get("waiting")
                if w:
                    reasons.add((c["name"], w.get("reason")))
            return (s.get("exec-hook", {}).get("restartCount", 0) >= 1 and
                    s.get("http-hook", {}).get("restartCount", 0) >= 1 and p)
        pod = wait_for(restarted, 60, "containers with failing postStart hooks restarted", a)
        wait_for(lambda: len(self.lines("exec-hook")) >= 2, 10, "the hook ran on each start", a)
        self.assertEqual(self.lines("good-hook"), ["ran"])
        good = statuses(pod)["good-hook"]
        self.assertEqual(good.get("restartCount", 0), 0)
        self.assertIn("running", good["state"])
        self.assertEqual(pod["status"]["phase"], "Running")
        self.assertIn("Failed to execute PostStartHook", a.log)
        self.assertRegex(a.log, r'"Failed to execute PostStartHook" pod="default/hooked-[^"]+" .*containerName="exec-hook"')
        self.assertRegex(a.log, r'Exec lifecycle hook \(\[sh -c echo ran >> /out/exec-hook; echo hook-output; exit 7\]\) '
                                r'for Container \\"exec-hook\\"')
        self.assertIn("hook-output", a.log)
        self.assertRegex(a.log, r'HTTP lifecycle hook \(/ready\) for Container \\"http-hook\\".*connection refused')
        self.assertRegex(a.log, r'reason="FailedPostStartHook"')
        # After the first immediate restart the crash-loop back-off holds the next one.
        wait_for(lambda: restarted() and ("exec-hook", "CrashLoopBackOff") in reasons, 30,
                 "CrashLoopBackOff after the hook failed again", a)
        self.assertTrue(a.alive())


if __name__ == "__main__":
    unittest.main()
