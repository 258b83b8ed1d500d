"""pods/log and pods/exec proxied to a (fake) kubelet."""

import socket
import ssl
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import KUBECTL, Double


class FakeKubelet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *a):
        pass

    def _record(self):
        cert = self.connection.getpeercert() or {}
        cn = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
        FakeKubelet.seen.append((self.command, self.path, cn[0] if cn else None,
                                 self.headers.get("Upgrade")))

    def do_GET(self):
        self._record()
        if self.path.startswith("/containerLogs/"):
            body = b"line one\nline two\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self._record()
        if self.path.startswith("/exec/") and self.headers.get("Upgrade"):
            self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                             b"Upgrade: " + self.headers["Upgrade"].encode() + b"\r\n\r\n")
            self.wfile.flush()
            while True:
                data = self.connection.recv(4096)
                if not data:
                    break
                self.connection.sendall(data.upper())
            self.close_connection = True
            return
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Double(node_name="node1").start()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cls.d.path("apiserver.crt"), cls.d.path("apiserver.key"))
        ctx.load_verify_locations(cls.d.path("ca.crt"))
        ctx.verify_mode = ssl.CERT_REQUIRED
        cls.kubelet = ThreadingHTTPServer(("127.0.0.1", 0), FakeKubelet)
        cls.kubelet.daemon_threads = True
        cls.kubelet.socket = ctx.wrap_socket(cls.kubelet.socket, server_side=True)
        threading.Thread(target=cls.kubelet.serve_forever, daemon=True).start()
        port = cls.kubelet.server_address[1]
        st, _ = cls.d.create("/api/v1/nodes", {
            "metadata": {"name": "node1"},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}})
        assert st == 201
        st, _ = cls.d.create("/api/v1/namespaces/default/pods", {
            "metadata": {"name": "p"},
            "spec": {"nodeName": "node1",
                     "containers": [{"name": "c", "image": "busybox:1.36"}]}})
        assert st == 201

    @classmethod
    def tearDownClass(cls):
        cls.kubelet.shutdown()
        cls.d.cleanup()

    @unittest.skipIf(KUBECTL is None, "kubectl is not installed")
    def test_logs_through_kubectl(self):
        FakeKubelet.seen.clear()
        out = self.d.kubectl("logs", "p", "--tail=5").stdout
        self.assertEqual(out, "line one\nline two\n")
        method, path, cn, _ = FakeKubelet.seen[-1]
        self.assertEqual(method, "GET")
        self.assertTrue(path.startswith("/containerLogs/default/p/c?"), path)
        self.assertIn("tailLines=5", path)
        self.assertEqual(cn, "kube-apiserver-kubelet-client")

    def test_exec_upgrade_is_tunnelled(self):
        FakeKubelet.seen.clear()
        ctx = self.d.ssl_context()
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as raw:
            s = ctx.wrap_socket(raw)
            s.sendall(b"POST /api/v1/namespaces/default/pods/p/exec?command=sh&stdin=true"
                      b"&stdout=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                      b"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                      b"Content-Length: 0\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "connection closed before the 101")
                head += chunk
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
            rest = head.split(b"\r\n\r\n", 1)[1]
            s.sendall(b"ping")
            got = rest
            while len(got) < 4:
                got += s.recv(4096)
            self.assertEqual(got, b"PING")
            s.close()
        method, path, cn, upgrade = FakeKubelet.seen[-1]
        self.assertEqual((method, upgrade), ("POST", "SPDY/3.1"))
        self.assertTrue(path.startswith("/exec/default/p/c?"), path)
        self.assertIn("command=sh", path)

    def test_unbound_pod_is_bad_request(self):
        st, _ = self.d.create("/api/v1/namespaces/default/pods", {
            "metadata": {"name": "floating"},
            "spec": {"schedulerName": "other",
                     "containers": [{"name": "c", "image": "busybox:1.36"}]}})
        self.assertEqual(st, 201)
        st, err = self.d.get("/api/v1/namespaces/default/pods/floating/log")
        self.assertEqual(st, 400)
        self.assertIn("does not have a host assigned", err["message"])


if __name__ == "__main__":
    unittest.main()
