"""HTTP front end: routing, authentication, authorization, content negotiation,
REST verbs, subresources and watch streams."""

import json
import socket
import ssl
import sys
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler

from . import conversion, openapi, protobuf, registry, reviews, tables, util
from .errors import ApiError, bad_request, not_found, success_status
from .selection import FieldSelector, LabelSelector
from .store import TooOld

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml",
               "application/apply-patch+cbor")
VERB_FOR_METHOD = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                   "DELETE": "delete"}
PROXY_SUBRESOURCES = ("log", "exec", "attach", "portforward", "proxy")


class Request:
    """A parsed API path: /api/v1/... or /apis/<group>/<version>/..."""

    def __init__(self):
        self.group = ""
        self.version = ""
        self.watch_prefix = False
        self.namespace = ""
        self.resource = None     # registry.Resource
        self.resource_name = ""
        self.name = ""
        self.sub = ""
        self.rest = []           # path segments after the subresource (proxy paths)


def parse_api_path(path):
    """Returns (kind, value): ('discovery', None) for discovery paths handled elsewhere,
    ('resource', Request) or raises ApiError(404)."""
    segs = [urllib.parse.unquote(s) for s in path.strip("/").split("/")]
    r = Request()
    if segs[0] == "api":
        if len(segs) < 2:
            return None
        r.version = segs[1]
        segs = segs[2:]
    elif segs[0] == "apis":
        if len(segs) < 3:
            return None
        r.group, r.version = segs[1], segs[2]
        segs = segs[3:]
    else:
        return None
    if not segs:
        return None
    if segs[0] == "watch":
        r.watch_prefix = True
        segs = segs[1:]
    if not segs or not segs[0]:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if segs[0] == "namespaces" and len(segs) >= 3 and \
            registry.lookup(r.group, r.version, segs[2]) is not None and \
            registry.lookup(r.group, r.version, segs[2]).namespaced and \
            segs[2] not in ("status", "finalize"):
        r.namespace = segs[1]
        segs = segs[2:]
    r.resource_name = segs[0]
    r.resource = registry.lookup(r.group, r.version, segs[0])
    if r.resource is None:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if len(segs) > 1:
        r.name = segs[1]
    if len(segs) > 2:
        r.sub = segs[2]
        r.rest = segs[3:]
        if r.sub not in r.resource.subresources:
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if r.resource.namespaced and not r.namespace and r.name:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    return r


def _query(qs):
    out = {}
    for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True):
        out.setdefault(k, [])
        out[k].append(v)
    return out


def _q1(q, k, default=None):
    v = q.get(k)
    return v[-1] if v else default


def _bool(v):
    return v is not None and v.lower() in ("1", "true", "t", "yes", "y")


def accept_mode(accept):
    """'table', 'partial', or 'json' from an Accept header."""
    for part in (accept or "").split(","):
        params = {}
        bits = part.split(";")
        for b in bits[1:]:
            k, _, v = b.strip().partition("=")
            params[k] = v
        mt = bits[0].strip()
        if mt not in ("application/json", "*/*", "application/*") and \
                "protobuf" not in mt and mt != "application/yaml":
            continue
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return "table"
        if params.get("as") in ("PartialObjectMetadata", "PartialObjectMetadataList") and \
                params.get("g") == "meta.k8s.io":
            return "partial"
        if params.get("as") == "APIGroupDiscoveryList":
            return "aggregated:" + params.get("v", "v2")
        if not params.get("as"):
            return "json"
    return "json"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "knode-apiserver-double/1.32"
    sys_version = ""
    timeout = 600

    # ---------------------------------------------------------------- plumbing
    def setup(self):
        conn = self.request
        if isinstance(conn, ssl.SSLSocket):
            conn.settimeout(10)
            try:
                conn.do_handshake()
            except (ssl.SSLError, OSError) as e:
                self.app.log("TLS handshake with %s failed: %s" % (self.client_address[0], e))
                raise
            conn.settimeout(None)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            pass

    @property
    def app(self):
        return self.server.app

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_bytes(self, code, data, ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self._audit_id)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._code = code

    def send_json(self, code, obj, headers=None):
        self.send_bytes(code, json.dumps(obj, separators=(",", ":")).encode() + b"\n",
                        headers=headers)

    def send_error_obj(self, err):
        headers = dict(err.headers)
        if err.retry_after is not None:
            headers["Retry-After"] = str(err.retry_after)
        self.send_json(err.code, err.status(), headers)

    # ---------------------------------------------------------------- entry
    def _serve(self):
        self._audit_id = util.new_uid()
        self._code = 0
        self._user = None
        started = time.time()
        url = urllib.parse.urlsplit(self.path)
        path = url.path or "/"
        q = _query(url.query)
        body = b""
        try:
            body = self._read_body()
            if path.startswith("/_control"):
                self.app.control.handle(self, path, q, body)
                return
            self._user = self._authenticate()
            fault = self.app.faults.match(self.command, self.path)
            if fault is not None:
                if fault.get("delay"):
                    time.sleep(float(fault["delay"]))
                if fault.get("code"):
                    code = int(fault["code"])
                    raise ApiError(code, fault.get("message") or "injected failure",
                                   retry_after=1 if code == 429 else None)
            self._route(path, q, body)
        except ApiError as e:
            if not self._code:
                self.send_error_obj(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:
            traceback.print_exc()
            if not self._code:
                self.send_error_obj(ApiError(500, "internal error: %s" % e, "InternalError"))
        finally:
            self.app.log('%s %s %s %d %.1fms "%s"' % (
                self.command, self.path[:200], self._user.name if self._user else "-",
                self._code, (time.time() - started) * 1000,
                (self.headers.get("User-Agent") or "")[:40]))

    def _authenticate(self):
        authz = self.headers.get("Authorization") or ""
        user = None
        conn = self.request
        if isinstance(conn, ssl.SSLSocket):
            try:
                user = self.app.authn.from_cert(conn.getpeercert())
            except ValueError:
                user = None
        if user is not None:
            return user
        if authz:
            scheme, _, token = authz.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                user = self.app.authn.from_token(token.strip())
                if user is not None:
                    return user
            raise ApiError(401, "Unauthorized", "Unauthorized")
        from .auth import ANONYMOUS
        return ANONYMOUS

    def _authorize(self, attrs):
        ok, _ = self.app.authz.authorize(self._user, attrs)
        if ok:
            return
        u = self._user.name
        if "path" in attrs:
            raise ApiError(403, 'forbidden: User "%s" cannot %s path "%s"'
                           % (u, attrs["verb"], attrs["path"]), "Forbidden")
        res = attrs.get("resource", "")
        if attrs.get("subresource"):
            res += "/" + attrs["subresource"]
        grp = attrs.get("apiGroup", "")
        what = 'resource "%s" in API group "%s"' % (res, grp)
        scope = ' in the namespace "%s"' % attrs["namespace"] if attrs.get("namespace") \
            else " at the cluster scope"
        name = attrs.get("name")
        prefix = '%s "%s" is forbidden' % (attrs.get("resource"), name) if name else \
            '%s is forbidden' % (attrs.get("resource") if not grp else
                                 attrs.get("resource") + "." + grp)
        raise ApiError(403, '%s: User "%s" cannot %s %s%s' % (prefix, u, attrs["verb"], what,
                                                              scope),
                       "Forbidden", name=name or "", kind=attrs.get("resource"), group=grp)

    # ---------------------------------------------------------------- routing
    def _route(self, path, q, body):
        method = self.command
        if path in ("/healthz", "/livez", "/readyz") or \
                any(path.startswith(p + "/") for p in ("/healthz", "/livez", "/readyz")):
            self._authorize({"verb": "get", "path": path})
            return self.send_bytes(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version" or path == "/version/":
            self._authorize({"verb": "get", "path": path})
            return self.send_json(200, self.app.version_info())
        if path.startswith("/openapi/") or path.startswith("/swagger"):
            self._authorize({"verb": "get", "path": path})
            doc = openapi.lookup(path)
            if doc is not None:
                return self.send_json(200, doc)
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        mode = accept_mode(self.headers.get("Accept"))
        disc = self._discovery(path, mode)
        if disc is not None:
            if method not in ("GET", "HEAD"):
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource", "MethodNotAllowed")
            self._authorize({"verb": "get", "path": path})
            obj, ctype = disc
            return self.send_bytes(200, json.dumps(obj, separators=(",", ":")).encode(),
                                   ctype, {"Vary": "Accept"})
        r = parse_api_path(path)
        if r is None:
            self._authorize({"verb": VERB_FOR_METHOD.get(method, "get"), "path": path})
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        self._resource(r, q, body, mode)

    def _discovery(self, path, mode):
        p = path.rstrip("/") or "/"
        agg = mode.startswith("aggregated:")
        if p == "/api":
            if agg:
                v = mode.split(":")[1]
                return (registry.aggregated_discovery(True, "apidiscovery.k8s.io/" + v),
                        "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList"
                        % v)
            return registry.api_versions(self.app.address), "application/json"
        if p == "/apis":
            if agg:
                v = mode.split(":")[1]
                return (registry.aggregated_discovery(False, "apidiscovery.k8s.io/" + v),
                        "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList"
                        % v)
            return registry.api_group_list(), "application/json"
        if p == "/api/v1":
            return registry.api_resource_list("", "v1"), "application/json"
        segs = p.strip("/").split("/")
        if segs[0] == "apis" and len(segs) == 2:
            g = registry.api_group(segs[1])
            if g is None:
                raise ApiError(404, "the server could not find the requested resource",
                               "NotFound")
            return g, "application/json"
        if segs[0] == "apis" and len(segs) == 3:
            lst = registry.api_resource_list(segs[1], segs[2])
            if lst is None:
                raise ApiError(404, "the server could not find the requested resource",
                               "NotFound")
            return lst, "application/json"
        return None

    # ---------------------------------------------------------------- body decoding
    def _decode(self, body, res, expect_kind=None):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            unknown = []
            try:
                obj = protobuf.decode_object(body, unknown)
            except protobuf.ProtobufError as e:
                raise bad_request("unable to decode protobuf body: %s" % e)
            if unknown:
                self.app.log("protobuf body: skipped fields without a table entry: %s"
                             % ", ".join("%s.%d" % u for u in sorted(set(unknown))))
            return obj
        if not body.strip():
            raise bad_request("the body of the request was empty")
        if ctype in ("application/json", "application/yaml", "*/*", "") or \
                ctype.endswith("+json") or ctype.endswith("+yaml"):
            try:
                return json.loads(body)
            except ValueError as e:
                if ctype.endswith("yaml"):
                    raise ApiError(415, "the double accepts YAML bodies only in their JSON form",
                                   "UnsupportedMediaType")
                raise bad_request("couldn't get version/kind; json parse error: %s" % e)
        raise ApiError(415, 'the body of the request was in an unknown format - accepted media '
                       'types include: application/json, application/yaml, '
                       'application/vnd.kubernetes.protobuf', "UnsupportedMediaType")

    # ---------------------------------------------------------------- resources
    def _resource(self, r, q, body, mode):
        res = r.resource
        method = self.command
        api = self.app.api
        is_watch = r.watch_prefix or (method == "GET" and _bool(_q1(q, "watch")))
        if r.watch_prefix and method != "GET":
            raise ApiError(405, "method not allowed", "MethodNotAllowed")
        if not r.name:
            verb = {"GET": "watch" if is_watch else "list", "POST": "create",
                    "DELETE": "deletecollection"}.get(method)
        elif r.sub in ("exec", "attach", "portforward"):
            verb = {"GET": "get", "POST": "create"}.get(method)
        elif r.sub == "proxy":
            verb = VERB_FOR_METHOD.get(method)
        else:
            verb = "watch" if is_watch else VERB_FOR_METHOD.get(method)
        if verb is None or (r.sub == "" and verb not in res.verbs and
                            not (verb == "watch" and "watch" in res.verbs)):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource", "MethodNotAllowed")
        attrs = {"verb": verb, "apiGroup": res.group, "apiVersion": res.version,
                 "resource": res.name, "subresource": r.sub, "namespace": r.namespace,
                 "name": r.name}
        if res.name == "namespaces" and r.name:
            attrs["namespace"] = r.name
        self._authorize(attrs)
        dry_run = "All" in q.get("dryRun", [])

        if r.sub in PROXY_SUBRESOURCES:
            return self.app.proxy.serve(self, r, q, body)
        if res.verbs == ["create"]:
            if method != "POST" or r.name:
                raise ApiError(405, "method not allowed", "MethodNotAllowed")
            obj = self._decode(body, res)
            out = reviews.handle(self.app, self._user, res, r.namespace, obj)
            return self.send_json(201, out)
        if res.name == "bindings":
            obj = self._decode(body, res)
            return self._bind(r.namespace, obj.get("metadata", {}).get("name", ""), obj)

        if is_watch:
            return self.app.watches.serve(self, res, r.namespace, r.name, q, mode)
        if method == "GET" and not r.name:
            return self._list(res, r.namespace, q, mode)
        if method == "GET":
            if r.sub and r.sub not in ("status", "approval", "ephemeralcontainers"):
                raise ApiError(405, "method not allowed", "MethodNotAllowed")
            obj = api.get(res, r.namespace, r.name)
            return self._send_obj(200, res, obj, mode)
        if method == "POST" and not r.name:
            obj = self._decode(body, res)
            out = api.create(res, r.namespace, obj, self._user, dry_run)
            return self._send_obj(201, res, out, mode)
        if method == "POST" and r.sub == "binding":
            obj = self._decode(body, res)
            return self._bind(r.namespace, r.name, obj)
        if method == "POST" and r.sub == "eviction":
            obj = self._decode(body, res) if body.strip() else {}
            opts = obj.get("deleteOptions") or {}
            api.delete(res, r.namespace, r.name, opts, self._user, dry_run)
            return self.send_json(201, success_status(code=201))
        if method == "POST" and r.sub == "token":
            obj = self._decode(body, res)
            return self.send_json(201, reviews.token_request(self.app, r.namespace, r.name, obj))
        if method == "PUT" and r.name:
            obj = self._decode(body, res)
            out, created = api.update(res, r.namespace, r.name, obj, self._user, r.sub, dry_run,
                                      allow_create=res.storage in ("endpoints", "events"))
            return self._send_obj(201 if created else 200, res, out, mode)
        if method == "PATCH" and r.name:
            ptype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ptype not in PATCH_TYPES:
                raise ApiError(415, "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml, "
                               "application/strategic-merge-patch+json", "UnsupportedMediaType")
            if ptype.startswith("application/apply-patch"):
                try:
                    obj = json.loads(body)
                except ValueError:
                    raise ApiError(415, "server-side apply bodies must be JSON here",
                                   "UnsupportedMediaType")
                out, created = api.server_side_apply(res, r.namespace, r.name, obj, self._user,
                                                     dry_run, _bool(_q1(q, "force")))
                return self._send_obj(201 if created else 200, res, out, mode)
            try:
                patch = json.loads(body)
            except ValueError as e:
                raise bad_request("error decoding patch: %s" % e)
            out = api.patch(res, r.namespace, r.name, ptype, patch, self._user, r.sub, dry_run)
            return self._send_obj(200, res, out, mode)
        if method == "DELETE" and r.name:
            opts = {}
            if body.strip():
                opts = self._decode(body, res)
            if _q1(q, "gracePeriodSeconds") is not None:
                opts["gracePeriodSeconds"] = int(_q1(q, "gracePeriodSeconds"))
            if _q1(q, "propagationPolicy"):
                opts["propagationPolicy"] = _q1(q, "propagationPolicy")
            out, code = api.delete(res, r.namespace, r.name, opts, self._user, dry_run)
            return self.send_json(code, out)
        if method == "DELETE":
            opts = self._decode(body, res) if body.strip() else {}
            if _q1(q, "gracePeriodSeconds") is not None:
                opts["gracePeriodSeconds"] = int(_q1(q, "gracePeriodSeconds"))
            ls = LabelSelector.parse(_q1(q, "labelSelector", ""))
            fs = FieldSelector.parse(_q1(q, "fieldSelector", ""), res.storage)
            return self.send_json(200, api.delete_collection(res, r.namespace, ls, fs, opts,
                                                             self._user, dry_run))
        raise ApiError(405, "the server does not allow this method on the requested resource",
                       "MethodNotAllowed")

    def _send_obj(self, code, res, obj, mode):
        if mode == "table" and obj.get("kind") != "Status":
            return self.send_json(code, tables.table_for(res, [obj], str(
                obj.get("metadata", {}).get("resourceVersion", "")), "",
                _q1_default(self, "includeObject", "Metadata")))
        if mode == "partial":
            return self.send_json(code, tables.partial(obj))
        return self.send_json(code, obj)

    def _list(self, res, ns, q, mode):
        ls = LabelSelector.parse(_q1(q, "labelSelector", ""))
        fs = FieldSelector.parse(_q1(q, "fieldSelector", ""), res.storage)
        try:
            limit = int(_q1(q, "limit", "0") or 0)
        except ValueError:
            raise bad_request("invalid limit")
        lst = self.app.api.list(res, ns, ls, fs, limit, _q1(q, "continue"),
                                _q1(q, "resourceVersion"), _q1(q, "resourceVersionMatch"))
        if mode == "table":
            return self.send_json(200, tables.table_for(res, lst.items, lst.rv, lst.cont,
                                                        _q1(q, "includeObject", "Metadata"),
                                                        lst.remaining))
        md = {"resourceVersion": lst.rv}
        if lst.cont:
            md["continue"] = lst.cont
            if lst.remaining is not None:
                md["remainingItemCount"] = lst.remaining
        if mode == "partial":
            return self.send_json(200, {"kind": "PartialObjectMetadataList",
                                        "apiVersion": "meta.k8s.io/v1", "metadata": md,
                                        "items": [tables.partial(o) for o in lst.items]})
        return self.send_json(200, {"kind": res.list_kind, "apiVersion": res.api_version,
                                    "metadata": md, "items": lst.items})

    def _bind(self, ns, name, binding):
        target = binding.get("target") or {}
        node = target.get("name")
        if not node:
            raise ApiError(422, "Binding.target.name: Required value", "Invalid")
        self.app.bind_pod(ns, name, node,
                          (binding.get("metadata") or {}).get("uid") or None)
        return self.send_json(201, success_status(code=201))


def _q1_default(handler, key, default):
    url = urllib.parse.urlsplit(handler.path)
    return _q1(_query(url.query), key, default)
