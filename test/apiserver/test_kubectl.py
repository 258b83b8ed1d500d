"""The real kubectl against the double."""

import base64
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import KUBECTL, Double
from kdouble.certs import kubeconfig

POD_AND_SERVICE = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
  labels: {app: web}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "1000"]
    ports:
    - name: http
      containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: apps
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http
"""

NODE = {
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "node1", "labels": {"kubernetes.io/hostname": "node1",
                                             "node-role.kubernetes.io/worker": ""}},
    "status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                      {"type": "Hostname", "address": "node1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                        "lastHeartbeatTime": "2025-01-01T00:00:00Z",
                        "lastTransitionTime": "2025-01-01T00:00:00Z"}],
        "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
        "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
        "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                     "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.6.20",
                     "architecture": "amd64", "operatingSystem": "linux", "machineID": "m",
                     "systemUUID": "s", "bootID": "b", "kubeProxyVersion": ""},
    },
}


@unittest.skipIf(KUBECTL is None, "kubectl is not installed")
class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Double(node_name="node1").start()
        cls.k = cls.d.kubectl
        st, _ = cls.d.create("/api/v1/nodes", NODE)
        assert st == 201, st
        cls.k("create", "namespace", "apps")
        cls.tmp = tempfile.mkdtemp(prefix="kubectl-test-", dir=cls.d.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def wait_for(self, fn, timeout=10, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting for %s" % what)

    # ------------------------------------------------------------------ tests
    def test_get_builtin_objects(self):
        out = self.k("get", "namespaces").stdout
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "apps"):
            self.assertIn(ns, out)
        out = self.k("get", "svc", "kubernetes", "-o", "wide").stdout
        self.assertIn("10.96.0.1", out)
        self.assertIn("443/TCP", out)
        out = self.k("get", "endpointslices", "-n", "default", "kubernetes",
                     "-o", "jsonpath={.endpoints[0].addresses[0]} {.ports[0].port}").stdout
        self.assertEqual(out, "127.0.0.1 %d" % self.d.port)
        out = self.k("get", "sa", "-A").stdout
        self.assertIn("kube-proxy", out)
        self.assertIn("default", out)
        self.assertIn("Server Version: v1.32", self.k("version").stdout)

    def test_nodes_wide_and_describe(self):
        out = self.k("get", "nodes", "-o", "wide").stdout
        self.assertIn("node1", out)
        self.assertIn("Ready", out)
        self.assertIn("worker", out)
        self.assertIn("127.0.0.1", out)
        self.assertIn("containerd://1.6.20", out)
        out = self.k("describe", "node", "node1").stdout
        self.assertIn("Name:               node1", out)
        self.assertIn("Kubelet Version:", out)
        self.assertIn("Non-terminated Pods:", out)

    def test_run_protobuf_body_and_scheduling(self):
        self.k("run", "pb", "-n", "apps", "--image=busybox:1.36", "--port=9090",
               "--labels=app=pb,tier=x", "--env=A=B", "--restart=Never", "--", "sleep", "60")
        pod = json.loads(self.k("get", "pod", "pb", "-n", "apps", "-o", "json").stdout)
        c = pod["spec"]["containers"][0]
        self.assertEqual(c["image"], "busybox:1.36")
        self.assertEqual(c["args"], ["sleep", "60"])
        self.assertEqual(c["ports"], [{"containerPort": 9090, "protocol": "TCP"}])
        self.assertEqual(c["env"], [{"name": "A", "value": "B"}])
        self.assertEqual(pod["metadata"]["labels"], {"app": "pb", "tier": "x"})
        self.assertEqual(pod["spec"]["restartPolicy"], "Never")
        self.assertEqual(pod["spec"]["serviceAccountName"], "default")
        self.assertTrue(any(v["name"].startswith("kube-api-access-")
                            for v in pod["spec"]["volumes"]))
        self.assertEqual(pod["status"]["phase"], "Pending")
        # the scheduler binds it to --node-name
        self.wait_for(lambda: self.k("get", "pod", "pb", "-n", "apps", "-o",
                                     "jsonpath={.spec.nodeName}").stdout == "node1",
                      what="binding")
        out = self.k("get", "pods", "-n", "apps", "-o", "wide").stdout
        self.assertIn("node1", out)
        self.k("delete", "pod", "pb", "-n", "apps", "--wait=false")

    def test_create_typed_commands(self):
        self.k("create", "configmap", "cm1", "-n", "apps", "--from-literal=a=1",
               "--from-literal=b=2")
        cm = json.loads(self.k("get", "cm", "cm1", "-n", "apps", "-o", "json").stdout)
        self.assertEqual(cm["data"], {"a": "1", "b": "2"})
        self.k("create", "secret", "generic", "s1", "-n", "apps", "--from-literal=k=v")
        sec = json.loads(self.k("get", "secret", "s1", "-n", "apps", "-o", "json").stdout)
        self.assertEqual(base64.b64decode(sec["data"]["k"]), b"v")
        self.assertEqual(sec["type"], "Opaque")
        self.k("create", "service", "clusterip", "cip", "-n", "apps", "--tcp=80:8080")
        svc = json.loads(self.k("get", "svc", "cip", "-n", "apps", "-o", "json").stdout)
        self.assertTrue(svc["spec"]["clusterIP"].startswith("10.9"))
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], 8080)
        self.assertEqual(svc["spec"]["selector"], {"app": "cip"})
        self.k("create", "service", "nodeport", "np", "-n", "apps", "--tcp=80:8080")
        np = json.loads(self.k("get", "svc", "np", "-n", "apps", "-o", "json").stdout)
        self.assertTrue(30000 <= np["spec"]["ports"][0]["nodePort"] <= 32767)

    def test_create_token_is_accepted(self):
        token = self.k("create", "token", "default", "-n", "apps").stdout.strip()
        self.assertEqual(token.count("."), 2)
        st, obj = self.d.get("/api/v1/namespaces/apps/pods", token=token, cert=None)
        self.assertEqual(st, 200, obj)
        st, obj = self.d.get("/api/v1/namespaces/apps/pods", token=token + "x", cert=None)
        self.assertEqual(st, 401)

    def test_apply_pod_and_service_endpointslice(self):
        path = self.write("app.yaml", POD_AND_SERVICE)
        out = self.k("apply", "-f", path).stdout
        self.assertIn("pod/web created", out)
        self.assertIn("service/web created", out)
        out = self.k("apply", "-f", path).stdout
        self.assertIn("unchanged", out)
        # a slice exists at once, without endpoints
        self.wait_for(lambda: self.k("get", "endpointslices", "-n", "apps", "-l",
                                     "kubernetes.io/service-name=web", "-o",
                                     "name").stdout.strip(), what="slice")
        self.wait_for(lambda: self.k("get", "pod", "web", "-n", "apps", "-o",
                                     "jsonpath={.spec.nodeName}").stdout == "node1",
                      what="binding")
        self.k("patch", "pod", "web", "-n", "apps", "--subresource=status", "--type=merge",
               "-p", json.dumps({"status": {
                   "phase": "Running", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
                   "conditions": [{"type": "Ready", "status": "True"}]}}))

        def slice_ready():
            out = self.k("get", "endpointslices", "-n", "apps", "-l",
                         "kubernetes.io/service-name=web", "-o", "json").stdout
            items = json.loads(out)["items"]
            if len(items) == 1 and items[0].get("endpoints"):
                return items[0]
            return None
        sl = self.wait_for(slice_ready, what="endpoints in the slice")
        ep = sl["endpoints"][0]
        self.assertEqual(ep["addresses"], ["10.244.0.7"])
        self.assertEqual(ep["conditions"], {"ready": True, "serving": True,
                                            "terminating": False})
        self.assertEqual(ep["nodeName"], "node1")
        self.assertEqual(ep["targetRef"]["name"], "web")
        self.assertEqual(sl["ports"], [{"name": "http", "port": 8080, "protocol": "TCP"}])
        self.assertEqual(sl["addressType"], "IPv4")
        self.assertEqual(sl["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
                         "endpointslice-controller.k8s.io")
        out = self.k("get", "endpoints", "web", "-n", "apps").stdout
        self.assertIn("10.244.0.7:8080", out)
        # changing the manifest: apply sends a strategic merge patch
        self.k("apply", "-f", self.write("app2.yaml", POD_AND_SERVICE.replace(
            "labels: {app: web}", "labels: {app: web, extra: \"yes\"}")))
        labels = json.loads(self.k("get", "pod", "web", "-n", "apps", "-o",
                                   "jsonpath={.metadata.labels}").stdout)
        self.assertEqual(labels, {"app": "web", "extra": "yes"})

    def test_label_patch_get_formats(self):
        self.k("create", "configmap", "lbl", "-n", "apps", "--from-literal=x=y")
        self.k("label", "configmap", "lbl", "-n", "apps", "team=a", "tier=db")
        out = self.k("get", "cm", "-n", "apps", "-l", "team in (a,b),tier!=web",
                     "-o", "name").stdout
        self.assertEqual(out.strip(), "configmap/lbl")
        out = self.k("get", "cm", "-n", "apps", "-l", "!team", "-o", "name").stdout
        self.assertNotIn("configmap/lbl", out)
        self.k("patch", "configmap", "lbl", "-n", "apps", "--type=json", "-p",
               '[{"op":"add","path":"/data/z","value":"1"}]')
        self.k("patch", "configmap", "lbl", "-n", "apps", "-p", '{"data":{"x":null}}')
        data = json.loads(self.k("get", "cm", "lbl", "-n", "apps", "-o",
                                 "jsonpath={.data}").stdout)
        self.assertEqual(data, {"z": "1"})
        out = self.k("get", "cm", "-A", "--show-labels").stdout
        self.assertIn("team=a,tier=db", out)
        self.assertIn("kube-root-ca.crt", out)
        out = self.k("get", "cm", "lbl", "-n", "apps", "-o", "yaml").stdout
        self.assertIn("name: lbl", out)
        self.k("label", "configmap", "lbl", "-n", "apps", "team-")
        self.k("delete", "configmap", "lbl", "-n", "apps")
        p = self.k("get", "configmap", "lbl", "-n", "apps", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("NotFound", p.stderr)

    def test_watch_with_timeout(self):
        self.k("create", "configmap", "w1", "-n", "apps")
        env = dict(os.environ, HOME=self.d.home, KUBECONFIG=self.d.admin_kubeconfig)
        p = subprocess.Popen([KUBECTL, "get", "configmaps", "-n", "apps", "-w",
                              "--request-timeout=4s", "-l", "watched=yes"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(1.0)
        self.k("label", "configmap", "w1", "-n", "apps", "watched=yes")
        self.k("create", "configmap", "w2", "-n", "apps")
        out, _ = p.communicate(timeout=20)
        self.assertIn("w1", out)
        self.assertNotIn("w2", out)

    def test_events(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "node1.started", "namespace": "default"},
              "involvedObject": {"kind": "Node", "name": "node1", "uid": "node1"},
              "reason": "Starting", "message": "Starting kubelet.",
              "source": {"component": "kubelet", "host": "node1"},
              "firstTimestamp": now, "lastTimestamp": now, "count": 1, "type": "Normal"}
        st, obj = self.d.create("/api/v1/namespaces/default/events", ev)
        self.assertEqual(st, 201, obj)
        ev2 = {"apiVersion": "events.k8s.io/v1", "kind": "Event",
               "metadata": {"name": "node1.pulled", "namespace": "default"},
               "regarding": {"kind": "Node", "name": "node1"},
               "reason": "Rebooted", "note": "Node rebooted", "type": "Warning",
               "reportingController": "kubelet", "reportingInstance": "node1",
               "action": "Reboot", "eventTime": now[:-1] + ".000000Z"}
        st, obj = self.d.create("/apis/events.k8s.io/v1/namespaces/default/events", ev2)
        self.assertEqual(st, 201, obj)
        self.assertEqual(obj["note"], "Node rebooted")
        out = self.k("get", "events", "-n", "default").stdout
        self.assertIn("Starting kubelet.", out)
        self.assertIn("Node rebooted", out)
        self.assertIn("node/node1", out)
        out = self.k("get", "events", "-A", "--field-selector",
                     "involvedObject.kind=Node,reason=Rebooted", "-o", "name").stdout
        self.assertEqual(out.strip(), "event/node1.pulled")

    def test_certificate_approve(self):
        key = os.path.join(self.tmp, "u.key")
        csr = os.path.join(self.tmp, "u.csr")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", key], check=True,
                       capture_output=True)
        subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/O=devs/CN=alice",
                        "-out", csr], check=True, capture_output=True)
        with open(csr, "rb") as f:
            req = base64.b64encode(f.read()).decode()
        manifest = self.write("csr.json", json.dumps({
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": "alice"},
            "spec": {"request": req, "signerName": "kubernetes.io/kube-apiserver-client",
                     "usages": ["client auth"], "expirationSeconds": 86400}}))
        self.k("create", "-f", manifest)
        self.assertIn("Pending", self.k("get", "csr", "alice").stdout)
        self.k("certificate", "approve", "alice")
        self.wait_for(lambda: "Approved,Issued" in self.k("get", "csr", "alice").stdout,
                      what="issued")
        cert = base64.b64decode(self.k("get", "csr", "alice", "-o",
                                       "jsonpath={.status.certificate}").stdout)
        crt = os.path.join(self.tmp, "alice.crt")
        with open(crt, "wb") as f:
            f.write(cert)
        p = subprocess.run(["openssl", "verify", "-CAfile", self.d.path("ca.crt"), crt],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # the new certificate authenticates as alice
        with open(self.d.path("ca.crt"), "rb") as f:
            ca_pem = f.read()
        kc = self.write("alice.kubeconfig", kubeconfig(
            "https://127.0.0.1:%d" % self.d.port, ca_pem, "alice", client_cert=crt,
            client_key=key))
        out = self.k("auth", "whoami", "-o", "json", kubeconfig=kc).stdout
        info = json.loads(out)["status"]["userInfo"]
        self.assertEqual(info["username"], "alice")
        self.assertIn("devs", info["groups"])

    def test_auth_can_i(self):
        self.assertEqual(self.k("auth", "can-i", "create", "pods").stdout.strip(), "yes")
        boot = self.d.path("bootstrap-kubelet.kubeconfig")
        p = self.k("auth", "can-i", "list", "pods", kubeconfig=boot, check=False)
        self.assertEqual(p.stdout.strip(), "no")
        p = self.k("auth", "can-i", "create", "certificatesigningrequests", kubeconfig=boot,
                   check=False)
        self.assertEqual(p.stdout.strip(), "yes")

    def test_delete_pod_is_graceful_and_namespace_deletion(self):
        self.k("create", "namespace", "gone")
        self.k("run", "p", "-n", "gone", "--image=busybox")
        self.wait_for(lambda: self.k("get", "pod", "p", "-n", "gone", "-o",
                                     "jsonpath={.spec.nodeName}").stdout == "node1",
                      what="binding")
        self.k("delete", "pod", "p", "-n", "gone", "--wait=false")
        pod = json.loads(self.k("get", "pod", "p", "-n", "gone", "-o", "json").stdout)
        self.assertEqual(pod["metadata"]["deletionGracePeriodSeconds"], 30)
        self.assertIn("Terminating", self.k("get", "pod", "p", "-n", "gone").stdout)
        self.k("delete", "namespace", "gone", "--wait=false")
        self.assertIn("Terminating", self.k("get", "ns", "gone").stdout)
        # the kubelet's final delete
        st, _ = self.d.request("DELETE", "/api/v1/namespaces/gone/pods/p",
                               {"gracePeriodSeconds": 0})
        self.assertEqual(st, 200)
        self.wait_for(lambda: self.k("get", "ns", "gone", check=False).returncode != 0,
                      what="namespace removal")


if __name__ == "__main__":
    unittest.main()
