"""Certificate authority work done with the openssl command line tool."""

import base64
import math
import os
import secrets
import subprocess
import tempfile


class CertError(Exception):
    pass


def _run(args, input_=None):
    p = subprocess.run(["openssl"] + args, input=input_, capture_output=True)
    if p.returncode != 0:
        raise CertError("openssl %s: %s" % (args[0], p.stderr.decode(errors="replace").strip()))
    return p.stdout


def _new_key(path):
    _run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
    os.chmod(path, 0o600)


def _subject(cn, orgs=()):
    parts = ["/O=%s" % o.replace("/", "\\/") for o in orgs]
    parts.append("/CN=%s" % cn.replace("/", "\\/"))
    return "".join(parts)


class CA:
    def __init__(self, state_dir):
        self.dir = state_dir
        self.crt = os.path.join(state_dir, "ca.crt")
        self.key = os.path.join(state_dir, "ca.key")

    def ensure(self):
        if os.path.exists(self.crt) and os.path.exists(self.key):
            return
        _new_key(self.key)
        _run(["req", "-x509", "-new", "-key", self.key, "-out", self.crt, "-days", "3650",
              "-subj", "/CN=kubernetes",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
              "-addext", "subjectKeyIdentifier=hash"])

    def ca_pem(self):
        with open(self.crt, "rb") as f:
            return f.read()

    def _sign(self, csr_path, out_path, ext_lines, days, copy_extensions=False):
        with tempfile.NamedTemporaryFile("w", suffix=".cnf", delete=False) as ext:
            ext.write("[v3]\n" + "\n".join(ext_lines) + "\n")
            ext_path = ext.name
        try:
            args = ["x509", "-req", "-in", csr_path, "-CA", self.crt, "-CAkey", self.key,
                    "-set_serial", "0x" + secrets.token_hex(16), "-days", str(days),
                    "-extfile", ext_path, "-extensions", "v3", "-out", out_path]
            if copy_extensions:
                args[2:2] = ["-copy_extensions", "copy"]
            _run(args)
        finally:
            os.unlink(ext_path)

    def issue(self, name, cn, orgs=(), client=True, server=False, sans=(), days=3650):
        """Write DIR/name.crt and DIR/name.key unless they exist; return the paths."""
        crt = os.path.join(self.dir, name + ".crt")
        key = os.path.join(self.dir, name + ".key")
        if os.path.exists(crt) and os.path.exists(key):
            return crt, key
        _new_key(key)
        csr = os.path.join(self.dir, name + ".csr")
        _run(["req", "-new", "-key", key, "-subj", _subject(cn, orgs), "-out", csr])
        eku = []
        if client:
            eku.append("clientAuth")
        if server:
            eku.append("serverAuth")
        lines = ["basicConstraints=critical,CA:FALSE",
                 "keyUsage=critical,digitalSignature,keyEncipherment",
                 "extendedKeyUsage=" + ",".join(eku),
                 "authorityKeyIdentifier=keyid"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        self._sign(csr, crt, lines, days)
        os.unlink(csr)
        return crt, key

    def sign_csr(self, csr_pem, usages, expiration_seconds=None, copy_sans=False):
        """Sign a PEM CSR; returns the PEM certificate bytes."""
        eku = []
        for u in usages or []:
            if u == "client auth":
                eku.append("clientAuth")
            elif u == "server auth":
                eku.append("serverAuth")
        lines = ["basicConstraints=critical,CA:FALSE",
                 "keyUsage=critical,digitalSignature,keyEncipherment",
                 "authorityKeyIdentifier=keyid"]
        if eku:
            lines.append("extendedKeyUsage=" + ",".join(eku))
        secs = expiration_seconds or 365 * 24 * 3600
        days = max(1, int(math.ceil(secs / 86400.0)))
        with tempfile.TemporaryDirectory() as d:
            cp = os.path.join(d, "req.csr")
            with open(cp, "wb") as f:
                f.write(csr_pem)
            out = os.path.join(d, "out.crt")
            self._sign(cp, out, lines, days, copy_extensions=copy_sans)
            with open(out, "rb") as f:
                return f.read()


def csr_info(csr_pem):
    """(common name, [organizations], [subjectAltNames], verified) of a PEM CSR."""
    with tempfile.NamedTemporaryFile("wb", suffix=".csr", delete=False) as f:
        f.write(csr_pem)
        path = f.name
    try:
        try:
            _run(["req", "-in", path, "-noout", "-verify"])
            verified = True
        except CertError:
            verified = False
        subj = _run(["req", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253"]).decode()
        text = _run(["req", "-in", path, "-noout", "-text"]).decode(errors="replace")
    finally:
        os.unlink(path)
    subj = subj.strip()
    if subj.startswith("subject="):
        subj = subj[len("subject="):]
    cn, orgs = "", []
    for part in _split_rdn(subj):
        k, _, v = part.partition("=")
        k = k.strip()
        if k == "CN":
            cn = v
        elif k == "O":
            orgs.append(v)
    sans = []
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if "X509v3 Subject Alternative Name" in ln and i + 1 < len(lines):
            sans = [s.strip() for s in lines[i + 1].split(",") if s.strip()]
    return cn, orgs, sans, verified


def _split_rdn(s):
    out, cur, esc = [], [], False
    for ch in s:
        if esc:
            cur.append(ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch in ",+":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def b64(data):
    return base64.b64encode(data).decode()


def _q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kubeconfig(server, ca_pem, user, cluster="knode", client_cert=None, client_key=None,
               token=None, namespace=None):
    """A kubeconfig as block YAML with the CA (and client certificate) embedded."""
    lines = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: %s" % cluster,
        "  cluster:",
        "    server: %s" % _q(server),
        "    certificate-authority-data: %s" % b64(ca_pem),
        "users:",
        "- name: %s" % _q(user),
        "  user:",
    ]
    if client_cert:
        with open(client_cert, "rb") as f:
            lines.append("    client-certificate-data: %s" % b64(f.read()))
        with open(client_key, "rb") as f:
            lines.append("    client-key-data: %s" % b64(f.read()))
    if token:
        lines.append("    token: %s" % _q(token))
    lines += [
        "contexts:",
        "- name: %s" % _q(user + "@" + cluster),
        "  context:",
        "    cluster: %s" % cluster,
        "    user: %s" % _q(user),
    ]
    if namespace:
        lines.append("    namespace: %s" % namespace)
    lines += [
        "current-context: %s" % _q(user + "@" + cluster),
        "preferences: {}",
        "",
    ]
    return "\n".join(lines)
