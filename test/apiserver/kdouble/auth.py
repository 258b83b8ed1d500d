"""Authentication (client certificates, bootstrap tokens, service-account JWTs)
and a small first-match authorization policy."""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time

BOOTSTRAP_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "https://kubernetes.default.svc.cluster.local"


class User:
    def __init__(self, name, groups=(), uid="", extra=None):
        self.name = name
        self.groups = list(groups)
        self.uid = uid
        self.extra = extra or {}

    @property
    def anonymous(self):
        return self.name == "system:anonymous"

    def info(self):
        d = {"username": self.name, "groups": self.groups}
        if self.uid:
            d["uid"] = self.uid
        if self.extra:
            d["extra"] = self.extra
        return d

    def __repr__(self):
        return "User(%s %s)" % (self.name, self.groups)


ANONYMOUS = User("system:anonymous", ["system:unauthenticated"])


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class TokenIssuer:
    """Service-account tokens as HS256-signed JWTs."""

    def __init__(self, state_dir):
        path = os.path.join(state_dir, "sa-signing.key")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(secrets.token_hex(32))
            os.chmod(path, 0o600)
        with open(path) as f:
            self.key = f.read().strip().encode()
        self.kid = hashlib.sha256(self.key).hexdigest()[:16]

    def issue(self, namespace, sa_name, sa_uid, audiences=None, expiration=3600,
              bound=None, legacy=False):
        now = int(time.time())
        claims = {
            "aud": audiences or [AUDIENCE],
            "iat": now,
            "nbf": now,
            "iss": ISSUER,
            "sub": "system:serviceaccount:%s:%s" % (namespace, sa_name),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": sa_name, "uid": sa_uid},
            },
        }
        if not legacy:
            claims["exp"] = now + int(expiration)
        if bound:
            claims["kubernetes.io"][bound["kind"].lower()] = {
                "name": bound["name"], "uid": bound.get("uid", "")}
        header = {"alg": "HS256", "kid": self.kid, "typ": "JWT"}
        signing = _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            _b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self.key, signing.encode(), hashlib.sha256).digest()
        return signing + "." + _b64url(sig), claims

    def verify(self, token):
        """The claims of a valid token, or None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            signing = parts[0] + "." + parts[1]
            sig = _b64url_dec(parts[2])
            want = hmac.new(self.key, signing.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(sig, want):
                return None
            claims = json.loads(_b64url_dec(parts[1]))
        except (ValueError, json.JSONDecodeError):
            return None
        now = time.time()
        if "exp" in claims and claims["exp"] < now:
            return None
        if claims.get("iss") != ISSUER:
            return None
        return claims


class Authenticator:
    def __init__(self, store, issuer):
        self.store = store
        self.issuer = issuer

    def from_cert(self, peercert):
        if not peercert:
            return None
        cn, orgs = None, []
        for rdn in peercert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
                elif k == "organizationName":
                    orgs.append(v)
        if not cn:
            return None
        return User(cn, orgs + ["system:authenticated"])

    def from_token(self, token, audiences=None):
        """A User for a bearer token, or None when the token is not valid."""
        m = BOOTSTRAP_RE.match(token)
        if m:
            return self._bootstrap(m.group(1), m.group(2))
        claims = self.issuer.verify(token)
        if claims is None:
            return None
        if audiences:
            aud = claims.get("aud") or []
            if not any(a in aud for a in audiences):
                return None
        k = claims.get("kubernetes.io") or {}
        ns = k.get("namespace", "")
        sa = (k.get("serviceaccount") or {})
        # the service account must still exist with the same uid
        obj = self.store.get("serviceaccounts", ns, sa.get("name", ""))
        if obj is None or (sa.get("uid") and obj["metadata"].get("uid") != sa.get("uid")):
            return None
        extra = {}
        if "pod" in k:
            pod = self.store.get("pods", ns, k["pod"]["name"])
            if pod is None or (k["pod"].get("uid") and pod["metadata"]["uid"] != k["pod"]["uid"]):
                return None
            extra["authentication.kubernetes.io/pod-name"] = [k["pod"]["name"]]
            extra["authentication.kubernetes.io/pod-uid"] = [k["pod"].get("uid", "")]
        return User(claims["sub"], ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                                    "system:authenticated"], uid=sa.get("uid", ""), extra=extra)

    def _bootstrap(self, tid, tsecret):
        sec = self.store.get("secrets", "kube-system", "bootstrap-token-" + tid)
        if sec is None or sec.get("type") != "bootstrap.kubernetes.io/token":
            return None
        data = {k: base64.b64decode(v).decode(errors="replace")
                for k, v in (sec.get("data") or {}).items()}
        data.update(sec.get("stringData") or {})
        if not hmac.compare_digest(data.get("token-secret", ""), tsecret):
            return None
        if data.get("usage-bootstrap-authentication") != "true":
            return None
        exp = data.get("expiration")
        if exp:
            from .util import parse_time
            if parse_time(exp) < time.time():
                return None
        groups = ["system:bootstrappers"]
        extra = data.get("auth-extra-groups", "")
        groups += [g.strip() for g in extra.split(",") if g.strip()]
        return User("system:bootstrap:" + tid, groups + ["system:authenticated"])


# ---- authorization ----

def _match(pattern_list, value):
    if not pattern_list:
        return True
    return "*" in pattern_list or value in pattern_list


class Authorizer:
    """First matching rule decides; without a match the built-in defaults apply:
    system:masters may do anything, bootstrap tokens may only work with
    CertificateSigningRequests and discovery, anonymous requests may only read
    health and version endpoints, every other authenticated user is allowed.

    A rule: {"users": [...], "groups": [...], "verbs": [...], "resources": [...],
    "apiGroups": [...], "namespaces": [...], "names": [...], "nonResourceURLs": [...],
    "allow": true|false}; empty or missing lists match everything."""

    PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")

    def __init__(self):
        self.rules = []
        self.lock = threading.Lock()

    def set_rules(self, rules):
        with self.lock:
            self.rules = list(rules or [])

    def authorize(self, user, attrs):
        """attrs: dict with verb and either path (non-resource) or
        resource/subresource/apiGroup/namespace/name.  Returns (allowed, reason)."""
        with self.lock:
            rules = list(self.rules)
        for r in rules:
            if r.get("users") and user.name not in r["users"]:
                continue
            if r.get("groups") and not any(g in r["groups"] for g in user.groups):
                continue
            if not _match(r.get("verbs"), attrs.get("verb")):
                continue
            if "path" in attrs:
                if r.get("resources") or r.get("apiGroups"):
                    continue
                urls = r.get("nonResourceURLs")
                if urls and not any(attrs["path"] == u or (u.endswith("*") and
                                    attrs["path"].startswith(u[:-1])) for u in urls):
                    continue
            else:
                if r.get("nonResourceURLs"):
                    continue
                res = attrs.get("resource", "")
                if attrs.get("subresource"):
                    res = res + "/" + attrs["subresource"]
                if r.get("resources") and not ("*" in r["resources"] or res in r["resources"]
                                               or attrs.get("resource") in r["resources"]
                                               and not attrs.get("subresource")):
                    continue
                if not _match(r.get("apiGroups"), attrs.get("apiGroup", "")):
                    continue
                if not _match(r.get("namespaces"), attrs.get("namespace", "")):
                    continue
                if not _match(r.get("names"), attrs.get("name", "")):
                    continue
            return bool(r.get("allow", True)), "matched rule %s" % json.dumps(r, sort_keys=True)
        return self._default(user, attrs)

    def _default(self, user, attrs):
        if "system:masters" in user.groups:
            return True, ""
        if "path" in attrs:
            p = attrs["path"]
            if any(p == x or p.startswith(x + "/") for x in self.PUBLIC_PATHS):
                return True, ""
            if user.anonymous:
                return False, ""
            return True, ""
        if user.anonymous:
            return False, ""
        if attrs.get("apiGroup") in ("authorization.k8s.io", "authentication.k8s.io") and \
                attrs.get("resource", "").startswith("selfsubject") and attrs.get("verb") == "create":
            return True, ""
        if "system:bootstrappers" in user.groups:
            if attrs.get("apiGroup") == "certificates.k8s.io" and \
                    attrs.get("resource") == "certificatesigningrequests" and \
                    not attrs.get("subresource") and \
                    attrs.get("verb") in ("create", "get", "list", "watch"):
                return True, ""
            return False, ""
        return True, ""
