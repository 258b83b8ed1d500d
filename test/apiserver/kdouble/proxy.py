"""Proxying of pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy
to the kubelet of the pod's node over TLS with the double's kubelet-client
certificate.  Upgraded connections (SPDY, WebSocket) become a raw byte tunnel
after the kubelet's 101 response."""

import select
import socket
import ssl
import urllib.parse

from .errors import ApiError, bad_request, not_found

HOP_HEADERS = {"host", "authorization", "content-length", "transfer-encoding", "keep-alive",
               "proxy-connection", "te", "trailer"}


class KubeletProxy:
    def __init__(self, app, client_cert, client_key):
        self.app = app
        self.cert = client_cert
        self.key = client_key

    def _ssl_ctx(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(self.cert, self.key)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def _node_endpoint(self, node_name):
        node = self.app.store.get("nodes", "", node_name)
        if node is None:
            raise not_found("nodes", "", node_name)
        st = node.get("status") or {}
        addrs = {}
        for a in st.get("addresses") or []:
            addrs.setdefault(a.get("type"), a.get("address"))
        host = addrs.get("InternalIP") or addrs.get("ExternalIP") or addrs.get("Hostname")
        if not host:
            raise ApiError(500, 'no preferred addresses found; known addresses: []',
                           "InternalError")
        port = ((st.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") \
            or 10250
        return host, int(port)

    def _target(self, r, q):
        """(host, port, path with query) on the kubelet."""
        res = r.resource
        if res.name == "nodes":
            host, port = self._node_endpoint(r.name)
            path = "/" + "/".join(urllib.parse.quote(s) for s in r.rest)
            query = urllib.parse.urlencode([(k, v) for k, vs in q.items() for v in vs])
            return host, port, path + ("?" + query if query else "")
        if res.name != "pods":
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        pod = self.app.store.get("pods", r.namespace, r.name)
        if pod is None:
            raise not_found("pods", "", r.name)
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        if not node:
            raise bad_request("pod %s does not have a host assigned" % r.name)
        host, port = self._node_endpoint(node)
        ns, name = r.namespace, r.name
        params = [(k, v) for k, vs in q.items() for v in vs if k != "container"]
        if r.sub == "portforward":
            path = "/portForward/%s/%s" % (ns, name)
        elif r.sub == "proxy":
            raise ApiError(503, "pods/proxy is not implemented by the double",
                           "ServiceUnavailable")
        else:
            container = (q.get("container") or [""])[-1]
            names = [c["name"] for c in spec.get("containers") or []]
            all_names = [c["name"] for c in (spec.get("initContainers") or []) +
                         (spec.get("containers") or []) +
                         (spec.get("ephemeralContainers") or [])]
            if not container:
                dflt = (pod["metadata"].get("annotations") or {}).get(
                    "kubectl.kubernetes.io/default-container")
                if dflt in all_names:
                    container = dflt
                elif len(names) == 1:
                    container = names[0]
                else:
                    raise bad_request("a container name must be specified for pod %s, choose "
                                      "one of: [%s]" % (name, " ".join(names)))
            elif container not in all_names:
                raise bad_request("container %s is not valid for pod %s" % (container, name))
            kind = {"log": "containerLogs", "exec": "exec", "attach": "attach"}[r.sub]
            path = "/%s/%s/%s/%s" % (kind, ns, name, container)
        query = urllib.parse.urlencode(params)
        return host, port, path + ("?" + query if query else "")

    def serve(self, h, r, q, body):
        host, port, path = self._target(r, q)
        upgrade = "upgrade" in (h.headers.get("Connection") or "").lower()
        try:
            raw = socket.create_connection((host, port), timeout=10)
            kc = self._ssl_ctx().wrap_socket(raw, server_hostname=None)
        except OSError as e:
            raise ApiError(500, "error dialing backend: dial tcp %s:%d: %s" % (host, port, e),
                           "InternalError")
        try:
            kc.settimeout(None)
            lines = ["%s %s HTTP/1.1" % (h.command, path), "Host: %s:%d" % (host, port)]
            for k, v in h.headers.items():
                kl = k.lower()
                if kl in HOP_HEADERS:
                    continue
                if kl == "connection" and not upgrade:
                    continue
                lines.append("%s: %s" % (k, v))
            if not upgrade:
                lines.append("Connection: close")
            if body:
                lines.append("Content-Length: %d" % len(body))
            kc.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            head, rest = self._read_head(kc)
            status = head.split(b"\r\n", 1)[0].split(b" ")
            code = int(status[1]) if len(status) > 1 and status[1].isdigit() else 502
            h._code = code
            h.close_connection = True
            h.wfile.write(head + rest)
            if code == 101:
                self._tunnel(h, kc)
            else:
                while True:
                    data = kc.recv(65536)
                    if not data:
                        break
                    h.wfile.write(data)
        except (OSError, ssl.SSLError):
            h.close_connection = True
        finally:
            try:
                kc.close()
            except OSError:
                pass

    @staticmethod
    def _read_head(sock):
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
            if len(buf) > 1 << 20:
                break
        idx = buf.find(b"\r\n\r\n")
        if idx < 0:
            return buf, b""
        return buf[:idx + 4], buf[idx + 4:]

    @staticmethod
    def _tunnel(h, kc):
        client = h.connection
        # bytes the client sent after its request that the reader already buffered
        client.setblocking(False)
        try:
            early = h.rfile.read1(65536)
        except (OSError, ValueError, TypeError):
            early = b""
        if early:
            _send_all(kc, early)
        kc.setblocking(False)
        socks = [client, kc]
        while True:
            ready = [s for s in socks if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(socks, [], [], 60)
                if not ready:
                    continue
            for s in ready:
                other = kc if s is client else client
                try:
                    data = s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    continue
                except OSError:
                    return
                if not data:
                    try:
                        other.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                _send_all(other, data)


def _send_all(sock, data):
    view = memoryview(data)
    while view:
        try:
            n = sock.send(view)
            view = view[n:]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            select.select([], [sock], [], 5)
