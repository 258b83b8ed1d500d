"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch."""

import copy

from .errors import ApiError


class PatchError(ApiError):
    def __init__(self, msg, code=422):
        super().__init__(code, msg, "Invalid" if code == 422 else None)


# ------------------------------------------------------------------ merge patch

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ------------------------------------------------------------------ JSON patch

def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def _parse_pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError('invalid JSON pointer "%s"' % path)
    return [_unescape(t) for t in path[1:].split("/")]


def _walk(doc, toks):
    cur = doc
    for t in toks:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError("doc is missing path: %s" % "/".join([""] + toks))
            cur = cur[t]
        elif isinstance(cur, list):
            try:
                i = int(t)
            except ValueError:
                raise PatchError("invalid array index %r" % t)
            if not 0 <= i < len(cur):
                raise PatchError("unable to access invalid index: %d" % i)
            cur = cur[i]
        else:
            raise PatchError("doc is missing path: %s" % "/".join([""] + toks))
    return cur


def _add(doc, toks, value):
    if not toks:
        return value
    parent = _walk(doc, toks[:-1])
    last = toks[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                i = int(last)
            except ValueError:
                raise PatchError("invalid array index %r" % last)
            if not 0 <= i <= len(parent):
                raise PatchError("unable to access invalid index: %d" % i)
            parent.insert(i, value)
    else:
        raise PatchError("doc is missing path: %s" % "/".join([""] + toks))
    return doc


def _remove(doc, toks):
    if not toks:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, toks[:-1])
    last = toks[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("Unable to remove nonexistent key: %s: missing value" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            i = int(last)
        except ValueError:
            raise PatchError("invalid array index %r" % last)
        if not 0 <= i < len(parent):
            raise PatchError("Unable to remove nonexistent index: %d" % i)
        return parent.pop(i)
    raise PatchError("doc is missing path: %s" % "/".join([""] + toks))


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations", 400)
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError("invalid operation %r" % (op,), 400)
        kind = op["op"]
        toks = _parse_pointer(op.get("path", ""))
        if kind == "add":
            doc = _add(doc, toks, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, toks)
        elif kind == "replace":
            if not toks:
                doc = copy.deepcopy(op.get("value"))
                continue
            parent = _walk(doc, toks[:-1])
            last = toks[-1]
            if isinstance(parent, dict):
                if last not in parent:
                    raise PatchError("replace operation does not apply: doc is missing key: %s"
                                     % op["path"])
                parent[last] = copy.deepcopy(op.get("value"))
            elif isinstance(parent, list):
                i = int(last) if last != "-" else -1
                if not 0 <= i < len(parent):
                    raise PatchError("replace operation does not apply: doc is missing key: %s"
                                     % op["path"])
                parent[i] = copy.deepcopy(op.get("value"))
            else:
                raise PatchError("doc is missing path: %s" % op["path"])
        elif kind == "move":
            val = _remove(doc, _parse_pointer(op["from"]))
            doc = _add(doc, toks, val)
        elif kind == "copy":
            val = copy.deepcopy(_walk(doc, _parse_pointer(op["from"])))
            doc = _add(doc, toks, val)
        elif kind == "test":
            if _walk(doc, toks) != op.get("value"):
                raise PatchError("testing value %s failed" % op.get("path"))
        else:
            raise PatchError("Unexpected kind: %s" % kind, 400)
    return doc


# ------------------------------------------------------------------ strategic merge patch

# list field name -> merge key (patchStrategy "merge"); a key of None merges a list of
# primitives as a set.  Lists not named here are replaced wholesale.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "finalizers": None,
    "conditions": "type",
    "addresses": "type",
    "taints": "key",
    "podIPs": "ip",
    "hostIPs": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "secrets": "name",
}


def _merge_key(field, items):
    """The merge key for list `field`, looking at the items for the ambiguous `ports`."""
    if field == "ports":
        for it in items:
            if isinstance(it, dict):
                if "containerPort" in it:
                    return "containerPort"
                if "port" in it:
                    return "port"
        return "__replace__"
    if field == "addresses":
        # node status addresses merge by type; EndpointSlice/Endpoints addresses do not
        for it in items:
            if not (isinstance(it, dict) and "type" in it and "address" in it):
                return "__replace__"
    if field in MERGE_KEYS:
        return MERGE_KEYS[field]
    return "__replace__"


def strategic_merge_patch(original, patch):
    return _smp_map(copy.deepcopy(original) if isinstance(original, dict) else {}, patch)


def _smp_map(orig, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        out = {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        return out
    if directive == "delete":
        return None
    out = dict(orig) if isinstance(orig, dict) else {}
    # $deleteFromPrimitiveList/<field>
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            f = k.split("/", 1)[1]
            if isinstance(out.get(f), list):
                out[f] = [x for x in out[f] if x not in v]
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
            continue
        cur = out.get(k)
        if isinstance(v, dict):
            merged = _smp_map(cur if isinstance(cur, dict) else {}, v)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list):
            res = _smp_list(k, cur if isinstance(cur, list) else [], v)
            out[k] = res
        else:
            out[k] = v
    if isinstance(retain, list):
        for k in list(out.keys()):
            if k not in retain and k not in patch:
                out.pop(k)
    # $setElementOrder/<field>: order a merged list as the patch says
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            f = k.split("/", 1)[1]
            if isinstance(out.get(f), list):
                out[f] = _reorder(f, out[f], v)
    return out


def _reorder(field, items, order):
    key = _merge_key(field, items + order)
    if key == "__replace__":
        return items
    def ident(x):
        if key is None:
            return x
        return x.get(key) if isinstance(x, dict) else x
    pos = {}
    for i, o in enumerate(order):
        try:
            pos.setdefault(_hashable(ident(o)), i)
        except TypeError:
            pass
    ordered = sorted(range(len(items)),
                     key=lambda i: (pos.get(_hashable(ident(items[i])), len(order) + i)))
    return [items[i] for i in ordered]


def _hashable(x):
    if isinstance(x, (dict, list)):
        import json
        return json.dumps(x, sort_keys=True)
    return x


def _smp_list(field, orig, patch):
    key = _merge_key(field, orig + patch)
    if key == "__replace__":
        # a list of maps without a merge strategy: replace, dropping directive items
        return [copy.deepcopy(x) for x in patch
                if not (isinstance(x, dict) and x.get("$patch") in ("delete",))]
    # a {"$patch": "replace"} element replaces the whole list with the other elements
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch
                if not (isinstance(x, dict) and "$patch" in x)]
    if key is None:
        out = list(orig)
        for x in patch:
            if x not in out:
                out.append(copy.deepcopy(x))
        return out
    out = [copy.deepcopy(x) for x in orig]
    for p in patch:
        if not isinstance(p, dict):
            out.append(copy.deepcopy(p))
            continue
        kv = p.get(key)
        idx = None
        for i, o in enumerate(out):
            if isinstance(o, dict) and o.get(key) == kv:
                # ports are keyed by port and protocol together
                if key in ("containerPort", "port") and \
                        o.get("protocol", "TCP") != p.get("protocol", o.get("protocol", "TCP")):
                    continue
                idx = i
                break
        if p.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_smp_map({}, p))
        else:
            out[idx] = _smp_map(out[idx], p)
    return out


def apply_patch(ptype, original, body):
    """Apply a patch of media type ptype (already JSON-decoded body) to original."""
    if ptype == "application/json-patch+json":
        return json_patch(original, body)
    if not isinstance(body, dict):
        raise PatchError("patch body must be a JSON object", 400)
    if ptype == "application/merge-patch+json":
        return merge_patch(original, body)
    if ptype == "application/strategic-merge-patch+json":
        return strategic_merge_patch(original, body)
    raise ApiError(415, "the body of the request was in an unknown format - accepted media "
                   "types include: application/json-patch+json, application/merge-patch+json, "
                   "application/apply-patch+yaml, application/strategic-merge-patch+json",
                   "UnsupportedMediaType")
