"""The application object: wires store, API semantics, auth, controllers and
the threaded TLS HTTP server together, and bootstraps the state directory."""

import copy
import os
import socket
import ssl
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from . import certs, registry, util
from .api import Api
from .auth import Authenticator, Authorizer, TokenIssuer
from .control import Control, Faults
from .controllers import Controllers
from .errors import ApiError
from .handler import Handler
from .proxy import KubeletProxy
from .store import Store
from .watch import WatchManager

BOOTSTRAP_TOKEN_ID = "abcdef"
BOOTSTRAP_TOKEN_SECRET = "0123456789abcdef"
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "0" * 40,
           "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
           "compiler": "gc", "platform": "linux/amd64"}


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, ctx, app):
        self.ssl_ctx = ctx
        self.app = app
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ssl_ctx.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class App:
    def __init__(self, host, port, state_dir, node_name=None, log_file=None):
        self.host = host
        self.port = port
        self.state_dir = os.path.abspath(state_dir)
        self.node_name = node_name
        self.address = "%s:%d" % (host, port)
        self.url = "https://%s:%d" % (host, port)
        self.log_lock = threading.Lock()
        self.log_file = log_file or sys.stderr
        os.makedirs(self.state_dir, exist_ok=True)
        self.ca = certs.CA(self.state_dir)
        self.store = Store(os.path.join(self.state_dir, "state.json"))
        self.issuer = TokenIssuer(self.state_dir)
        self.authn = Authenticator(self.store, self.issuer)
        self.authz = Authorizer()
        self.faults = Faults()
        self.api = Api(self.store, self)
        self.watches = WatchManager(self.store)
        self.control = Control(self)
        self.controllers = Controllers(self)
        self.proxy = None
        self.httpd = None

    def log(self, msg):
        line = "%s %s\n" % (util.now_micro(), msg)
        with self.log_lock:
            try:
                self.log_file.write(line)
                self.log_file.flush()
            except (OSError, ValueError):
                pass

    def version_info(self):
        return dict(VERSION)

    # ---------------------------------------------------------------- hooks from Api
    def after_create(self, res, obj):
        if res.storage == "namespaces":
            self.controllers.setup_namespace(obj["metadata"]["name"])
        self.controllers.on_change(res, obj, None)

    def after_update(self, res, obj, old):
        self.controllers.on_change(res, obj, old)

    def after_delete(self, res, obj):
        if obj is not None:
            self.controllers.on_change(res, obj, obj)

    def bind_pod(self, ns, name, node, uid=None):
        pods = registry.lookup("", "v1", "pods")
        with self.store.cond:
            pod = self.store.get("pods", ns, name)
            if pod is None:
                raise ApiError(404, 'pods "%s" not found' % name, "NotFound", name=name,
                               kind="pods")
            if uid and pod["metadata"]["uid"] != uid:
                raise ApiError(409, "Operation cannot be fulfilled on pods/binding \"%s\": "
                               "Precondition failed: UID in precondition: %s, UID in object "
                               "meta: %s" % (name, uid, pod["metadata"]["uid"]), "Conflict")
            if pod["metadata"].get("deletionTimestamp"):
                raise ApiError(409, "Operation cannot be fulfilled on pods/binding \"%s\": pod "
                               "%s is being deleted, cannot be assigned to a host"
                               % (name, name), "Conflict")
            if (pod.get("spec") or {}).get("nodeName"):
                raise ApiError(409, 'Operation cannot be fulfilled on pods/binding "%s": pod %s '
                               'is already assigned to node "%s"'
                               % (name, name, pod["spec"]["nodeName"]), "Conflict")
            old = copy.deepcopy(pod)
            pod["spec"]["nodeName"] = node
            conds = pod.setdefault("status", {}).setdefault("conditions", [])
            conds[:] = [c for c in conds if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": util.now_ts()})
            self.api._store_update(pods, pod, old)

    # ---------------------------------------------------------------- bootstrap
    def bootstrap(self):
        self.ca.ensure()
        sans = ["IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
                "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
                "IP:10.96.0.1"]
        if self.host not in ("127.0.0.1", "localhost", "0.0.0.0"):
            sans.append("IP:" + self.host)
        self.server_cert = self.ca.issue("apiserver", "kube-apiserver", client=False,
                                         server=True, sans=sans)
        admin = self.ca.issue("admin", "kubernetes-admin", ["system:masters"])
        kclient = self.ca.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                                ["kubeadm:cluster-admins"])
        self.proxy = KubeletProxy(self, *kclient)
        self._ensure_objects()
        ca_pem = self.ca.ca_pem()
        url = self.url
        self._write(os.path.join(self.state_dir, "admin.kubeconfig"),
                    certs.kubeconfig(url, ca_pem, "kubernetes-admin", client_cert=admin[0],
                                     client_key=admin[1]))
        self._write(os.path.join(self.state_dir, "bootstrap-kubelet.kubeconfig"),
                    certs.kubeconfig(url, ca_pem, "tls-bootstrap-token-user",
                                     token="%s.%s" % (BOOTSTRAP_TOKEN_ID,
                                                      BOOTSTRAP_TOKEN_SECRET)))
        sa = self.store.get("serviceaccounts", "kube-system", "kube-proxy")
        token, _ = self.issuer.issue("kube-system", "kube-proxy", sa["metadata"]["uid"],
                                     legacy=True)
        self._write(os.path.join(self.state_dir, "kube-proxy.kubeconfig"),
                    certs.kubeconfig(url, ca_pem, "kube-proxy", token=token))
        self.store.flush()

    @staticmethod
    def _write(path, text):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def _ensure(self, group, resource, ns, obj, update=None):
        res = registry.lookup(group, "v1", resource)
        cur = self.store.get(res.storage, ns, obj["metadata"]["name"])
        if cur is None:
            return self.api.create(res, ns, obj)
        if update is not None:
            new = copy.deepcopy(cur)
            update(new)
            if new != cur:
                return self.api.update(res, ns, obj["metadata"]["name"], new)[0]
        return cur

    def _ensure_objects(self):
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self._ensure("", "namespaces", "", {"metadata": {"name": ns}})
            self.controllers.setup_namespace(ns)
        self._ensure("", "serviceaccounts", "kube-system", {"metadata": {"name": "kube-proxy"}})
        self._ensure("", "secrets", "kube-system", {
            "metadata": {"name": "bootstrap-token-" + BOOTSTRAP_TOKEN_ID},
            "type": "bootstrap.kubernetes.io/token",
            "stringData": {
                "token-id": BOOTSTRAP_TOKEN_ID,
                "token-secret": BOOTSTRAP_TOKEN_SECRET,
                "usage-bootstrap-authentication": "true",
                "usage-bootstrap-signing": "true",
                "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
                "description": "bootstrap token of the API server double",
            }})
        port = self.port

        def fix_svc(svc):
            svc["spec"]["ports"] = [{"name": "https", "port": 443, "protocol": "TCP",
                                     "targetPort": port}]

        self._ensure("", "services", "default", {
            "metadata": {"name": "kubernetes",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "type": "ClusterIP", "ports": [
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]}},
            fix_svc)

        def fix_ep(ep):
            ep["subsets"] = [{"addresses": [{"ip": self.host}],
                              "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]

        self._ensure("", "endpoints", "default", {
            "metadata": {"name": "kubernetes",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": self.host}],
                         "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]},
            fix_ep)

        def fix_slice(s):
            s["endpoints"] = [{"addresses": [self.host], "conditions": {"ready": True}}]
            s["ports"] = [{"name": "https", "port": port, "protocol": "TCP"}]

        self._ensure("discovery.k8s.io", "endpointslices", "default", {
            "metadata": {"name": "kubernetes",
                         "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [self.host], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}, fix_slice)
        info = "\n".join([
            "apiVersion: v1", "kind: Config", "clusters:", "- name: \"\"", "  cluster:",
            "    certificate-authority-data: %s" % certs.b64(self.ca.ca_pem()),
            "    server: %s" % self.url, "contexts: null", "current-context: \"\"",
            "preferences: {}", "users: null", ""])
        self._ensure("", "configmaps", "kube-public", {
            "metadata": {"name": "cluster-info"}, "data": {"kubeconfig": info}})

    # ---------------------------------------------------------------- run
    def ssl_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.server_cert)
        ctx.load_verify_locations(self.ca.crt)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def serve(self, ready=None):
        self.httpd = TLSServer((self.host, self.port), Handler, self.ssl_context(), self)
        self.store.start_writer()
        self.controllers.start()
        self.controllers.resync_all()
        self.log("serving on %s (state %s, node %s)" % (self.url, self.state_dir,
                                                         self.node_name or "-"))
        if ready:
            ready()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.httpd.server_close()

    def shutdown(self):
        self.controllers.stop()
        self.store.drop_watches()
        if self.httpd:
            self.httpd.shutdown()
        self.store.close()
