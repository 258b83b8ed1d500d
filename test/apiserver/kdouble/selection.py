"""Label and field selectors as the API server parses them."""

import re

from .errors import bad_request

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _split_top(s):
    """Split on commas that are not inside parentheses."""
    out, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


class LabelSelector:
    """Requirements: list of (key, op, values) with op in = != in notin exists !exists."""

    def __init__(self, reqs=None):
        self.reqs = reqs or []

    @classmethod
    def parse(cls, text):
        reqs = []
        if not text:
            return cls(reqs)
        for part in _split_top(text):
            m = re.match(r"^(\S+)\s+(in|notin)\s+\((.*)\)$", part)
            if m:
                vals = {v.strip() for v in m.group(3).split(",")}
                reqs.append((m.group(1), m.group(2), vals))
                continue
            if part.startswith("!"):
                reqs.append((part[1:].strip(), "!exists", None))
                continue
            m = re.match(r"^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$", part)
            if m:
                op = {"==": "=", "=": "=", "!=": "!=", ">": "gt", "<": "lt"}[m.group(2)]
                reqs.append((m.group(1), op, m.group(3).strip()))
                continue
            if re.match(r"^[^=!<>\s(),]+$", part):
                reqs.append((part, "exists", None))
                continue
            raise bad_request("unable to parse requirement: %s" % part)
        for key, _, _ in reqs:
            if not _LABEL_KEY.match(key):
                raise bad_request('unable to parse requirement: invalid label key "%s"' % key)
        return cls(reqs)

    @classmethod
    def from_map(cls, m):
        return cls([(k, "=", v) for k, v in (m or {}).items()])

    @classmethod
    def from_label_selector(cls, sel):
        """A metav1.LabelSelector object (matchLabels / matchExpressions)."""
        if sel is None:
            return None
        reqs = [(k, "=", v) for k, v in (sel.get("matchLabels") or {}).items()]
        for e in sel.get("matchExpressions") or []:
            op = {"In": "in", "NotIn": "notin", "Exists": "exists",
                  "DoesNotExist": "!exists"}[e["operator"]]
            reqs.append((e["key"], op, set(e.get("values") or [])))
        return cls(reqs)

    def empty(self):
        return not self.reqs

    def matches(self, labels):
        labels = labels or {}
        for key, op, val in self.reqs:
            has = key in labels
            v = labels.get(key)
            if op == "=" and (not has or v != val):
                return False
            if op == "!=" and has and v == val:
                return False
            if op == "in" and (not has or v not in val):
                return False
            if op == "notin" and has and v in val:
                return False
            if op == "exists" and not has:
                return False
            if op == "!exists" and has:
                return False
            if op in ("gt", "lt"):
                try:
                    a, b = int(v), int(val)
                except (TypeError, ValueError):
                    return False
                if (op == "gt" and not a > b) or (op == "lt" and not a < b):
                    return False
        return True


# fields each resource supports in fieldSelector beyond metadata.name/namespace
FIELDS = {
    "pods": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
             "status.podIPs", "status.nominatedNodeName"],
    "events": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion",
               "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
               "reportingComponent", "source", "type"],
    "nodes": ["spec.unschedulable"],
    "namespaces": ["status.phase"],
    "secrets": ["type"],
    "services": [],
    "replicasets": ["status.replicas"],
    "certificatesigningrequests.certificates.k8s.io": ["spec.signerName"],
}


def _field_value(obj, path):
    if path == "source":
        return (obj.get("source") or {}).get("component", "")
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, list):
        return ",".join(str(x.get("ip", x)) if isinstance(x, dict) else str(x) for x in cur)
    return str(cur)


class FieldSelector:
    def __init__(self, reqs=None):
        self.reqs = reqs or []

    @classmethod
    def parse(cls, text, storage):
        reqs = []
        if not text:
            return cls(reqs)
        allowed = {"metadata.name", "metadata.namespace"} | set(FIELDS.get(storage, []))
        for part in _split_top(text):
            m = re.match(r"^([^=!]+?)\s*(==|=|!=)\s*(.*)$", part)
            if not m:
                raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
            field = m.group(1).strip()
            if field not in allowed:
                raise bad_request('field label not supported: %s' % field)
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((field, op, m.group(3).strip()))
        return cls(reqs)

    def empty(self):
        return not self.reqs

    def matches(self, obj):
        for field, op, val in self.reqs:
            v = _field_value(obj, field)
            if (op == "=") != (v == val):
                return False
        return True

    def single_name(self):
        for field, op, val in self.reqs:
            if field == "metadata.name" and op == "=":
                return val
        return None
