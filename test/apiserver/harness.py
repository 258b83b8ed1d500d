"""Test helpers: start the double on a free loopback port, talk to it with
http.client over TLS, and run the real kubectl against it."""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
APISERVER = os.path.join(HERE, "apiserver.py")
KUBECTL = shutil.which("kubectl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_kubeconfig_token(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("token:"):
                return json.loads(line.split(":", 1)[1].strip())
    return None


class Double:
    """One running API server double."""

    def __init__(self, state_dir=None, node_name="node1", port=None):
        self.tmp = tempfile.mkdtemp(prefix="kdouble-")
        self.state_dir = state_dir or os.path.join(self.tmp, "state")
        self.node_name = node_name
        self.port = port or free_port()
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home, exist_ok=True)
        self.proc = None
        self.log_path = os.path.join(self.tmp, "apiserver.log")

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout=30):
        args = [sys.executable, APISERVER, "--listen", "127.0.0.1:%d" % self.port,
                "--state-dir", self.state_dir, "--log-file", self.log_path]
        if self.node_name:
            args += ["--node-name", self.node_name]
        with open(self.log_path + ".stderr", "a") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the double exited: %s" % self.stderr())
            try:
                st, _, body = self.request("GET", "/readyz", raw=True, timeout=2)
                if st == 200 and body == b"ok":
                    return self
            except (OSError, ssl.SSLError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError("the double did not become ready: %s" % self.stderr())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stderr(self):
        try:
            with open(self.log_path + ".stderr") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # ---------------------------------------------------------------- paths
    def path(self, name):
        return os.path.join(self.state_dir, name)

    @property
    def admin_kubeconfig(self):
        return self.path("admin.kubeconfig")

    # ---------------------------------------------------------------- HTTP
    def ssl_context(self, cert="admin"):
        ctx = ssl.create_default_context(cafile=self.path("ca.crt"))
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(self.path(cert + ".crt"), self.path(cert + ".key"))
        return ctx

    def connect(self, cert="admin", timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.ssl_context(cert))

    def request(self, method, path, body=None, headers=None, cert="admin", token=None,
                raw=False, timeout=30, conn=None):
        own = conn is None
        conn = conn or self.connect(cert, timeout)
        hdrs = {"Accept": "application/json"}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            if own:
                conn.close()
        if raw:
            return resp.status, resp, data
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = data
        return resp.status, obj

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def create(self, path, obj, **kw):
        return self.request("POST", path, obj, **kw)

    def patch(self, path, patch, ptype="application/merge-patch+json", **kw):
        return self.request("PATCH", path, json.dumps(patch),
                            headers={"Content-Type": ptype}, **kw)

    def control(self, method, name, body=None):
        return self.request(method, "/_control/" + name, body if body is not None else {},
                            cert=None)

    def watch(self, path, params, cert="admin", timeout=30):
        """Open a watch; returns a WatchStream."""
        conn = self.connect(cert, timeout)
        q = urllib.parse.urlencode(dict(params, watch="1"))
        conn.request("GET", path + ("&" if "?" in path else "?") + q,
                     headers={"Accept": "application/json"})
        resp = conn.getresponse()
        return WatchStream(conn, resp)

    # ---------------------------------------------------------------- kubectl
    def kubectl(self, *args, kubeconfig=None, check=True, timeout=60, input_=None):
        env = dict(os.environ, HOME=self.home, KUBECONFIG=kubeconfig or self.admin_kubeconfig)
        env.pop("KUBERNETES_SERVICE_HOST", None)
        p = subprocess.run([KUBECTL] + list(args), capture_output=True, text=True, env=env,
                           timeout=timeout, input=input_)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s\n%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p


class WatchStream:
    def __init__(self, conn, resp):
        self.conn = conn
        self.resp = resp
        self.status = resp.status

    def next(self):
        """The next event as a dict, or None at the end of the stream."""
        line = self.resp.readline()
        if not line:
            return None
        return json.loads(line)

    def collect(self, n):
        out = []
        while len(out) < n:
            ev = self.next()
            if ev is None:
                break
            out.append(ev)
        return out

    def rest(self):
        out = []
        while True:
            ev = self.next()
            if ev is None:
                return out
            out.append(ev)

    def close(self):
        self.conn.close()
