"""The REST semantics of the API server on top of the store: create, update,
patch, delete (graceful, finalizers, preconditions), get and list."""

import base64
import copy
import json
import time

from . import conversion, registry, strategies, util
from .errors import (ApiError, already_exists, bad_request, conflict, invalid, not_found,
                     success_status, gone, forbidden)
from .patch import apply_patch
from .store import TooOld


def _md(obj):
    return obj.setdefault("metadata", {})


def _drop_empty_meta(md):
    """Empty maps and lists are omitted in the API's JSON, as Go's omitempty does."""
    for k in ("labels", "annotations", "finalizers", "ownerReferences", "managedFields"):
        if k in md and not md[k]:
            del md[k]


class ListResult:
    def __init__(self, items, rv, cont="", remaining=None):
        self.items = items
        self.rv = rv
        self.cont = cont
        self.remaining = remaining


class Api:
    def __init__(self, store, server=None):
        self.store = store
        self.server = server   # carries ca, issuer, node name, ...

    def ctx(self, user):
        return strategies.Context(self.store, user, self.server)

    # ---------------------------------------------------------------- read
    def get(self, res, ns, name):
        obj = self.store.get(res.storage, ns if res.namespaced else "", name)
        if obj is None:
            raise not_found(res.name, res.group, name)
        return conversion.to_external(res, obj)

    def list(self, res, ns, label_sel=None, field_sel=None, limit=0, cont=None,
             rv=None, rv_match=None):
        ns = (ns or None) if res.namespaced else None
        start_after = None
        list_rv = None
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                list_rv = int(tok["rv"])
                start_after = tuple(tok["start"])
            except Exception:
                raise bad_request("continue key is not valid: incorrect encoded start "
                                  "resourceVersion (version meta.k8s.io/v1)")
            if rv:
                raise bad_request("specifying resource version is not allowed when using "
                                  "continue")
        elif rv and rv != "0":
            try:
                want = int(rv)
            except ValueError:
                raise bad_request("invalid resource version: %s" % rv)
            if rv_match == "Exact":
                list_rv = want
            elif want > self.store.rv:
                # NotOlderThan a version the store has not reached: wait a little like the
                # watch cache does, then give up
                deadline = time.time() + 3
                with self.store.cond:
                    while self.store.rv < want and time.time() < deadline:
                        self.store.cond.wait(0.2)
                    if self.store.rv < want:
                        raise ApiError(504, "Too large resource version: %d, current: %d"
                                       % (want, self.store.rv), "Timeout",
                                       causes=[{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                       retry_after=1)
        with self.store.cond:
            if list_rv is not None and list_rv < self.store.rv:
                try:
                    objs = self.store.list_at(res.storage, list_rv, ns)
                except TooOld:
                    if cont:
                        raise gone("The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without "
                                   "the continue parameter, or use the continue token in this "
                                   "response to retrieve the remainder of the results. "
                                   "Continuing with the provided token results in an "
                                   "inconsistent list - objects that were created, modified, or "
                                   "deleted between the time the first chunk was returned and "
                                   "now may show up in the list.")
                    raise gone("too old resource version: %d (%d)"
                               % (list_rv, self.store.compacted), "Expired")
                cur_rv = list_rv
            else:
                objs, cur_rv = self.store.list(res.storage, ns)
                if list_rv is None:
                    list_rv = cur_rv
        items = []
        last_key = None
        remaining = 0
        for o in objs:
            md = o["metadata"]
            key = (md.get("namespace", ""), md["name"])
            if start_after is not None and key <= start_after:
                continue
            if label_sel is not None and not label_sel.matches(md.get("labels")):
                continue
            if field_sel is not None and not field_sel.matches(o):
                continue
            if limit and len(items) >= limit:
                remaining += 1
                continue
            items.append(o)
            last_key = key
        token = ""
        if limit and remaining:
            token = base64.urlsafe_b64encode(json.dumps(
                {"rv": list_rv, "start": list(last_key)}).encode()).decode().rstrip("=")
        items = [conversion.to_external(res, o) for o in items]
        return ListResult(items, str(cur_rv if not cont else list_rv), token,
                          remaining if token else None)

    # ---------------------------------------------------------------- create
    def _check_namespace(self, res, ns, name):
        if not res.namespaced:
            return
        nsobj = self.store.get("namespaces", "", ns)
        if nsobj is None:
            raise ApiError(404, 'namespaces "%s" not found' % ns, "NotFound",
                           name=ns, kind="namespaces")
        if nsobj["metadata"].get("deletionTimestamp") or \
                (nsobj.get("status") or {}).get("phase") == "Terminating":
            raise forbidden('%s "%s" is forbidden: unable to create new content in namespace %s '
                            'because it is being terminated' % (res.name, name, ns),
                            name=name, kind=res.name, group=res.group)

    def _common_meta(self, res, ns, obj, name_from_url=None):
        md = _md(obj)
        if res.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + util.random_suffix()
            else:
                raise invalid(res.kind, res.group, "", [("metadata.name", "Required value: name "
                              "or generateName is required", "FieldValueRequired")])
        if name_from_url and md["name"] != name_from_url:
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (md["name"], name_from_url))
        name = md["name"]
        if res.storage not in ("events",) and not util.DNS1123_SUBDOMAIN.match(name) \
                and res.storage not in ("rbac",) and ":" not in name:
            raise invalid(res.kind, res.group, name, [(
                "metadata.name", 'Invalid value: "%s": a lowercase RFC 1123 subdomain must '
                "consist of lower case alphanumeric characters, '-' or '.', and must start and "
                "end with an alphanumeric character" % name, "FieldValueInvalid")])
        _drop_empty_meta(md)

    def create(self, res, ns, obj, user=None, dry_run=False):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be an object")
        obj = conversion.from_external(res, obj)
        kind = obj.get("kind")
        if kind and kind != res.kind and not (res.storage == "events"):
            raise bad_request("the API version in the data (%s) does not match the expected API "
                              "version (%s)" % (obj.get("apiVersion"), res.api_version)
                              if obj.get("apiVersion") not in (None, res.api_version) else
                              "%s in version \"%s\" cannot be handled as a %s: the object kind "
                              "does not match" % (kind, res.version, res.kind))
        primary = registry.by_storage(res.storage) or res
        obj = dict({"apiVersion": primary.api_version, "kind": primary.kind},
                   **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")})
        self._common_meta(res, ns, obj)
        md = obj["metadata"]
        with self.store.cond:
            self._check_namespace(res, ns, md["name"])
            for k in ("uid", "resourceVersion", "selfLink", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "managedFields"):
                md.pop(k, None)
            if self.store.get(res.storage, md.get("namespace", ""), md["name"]) is not None:
                raise already_exists(res.name, res.group, md["name"])
            fn = strategies.CREATE.get(res.storage)
            if fn:
                fn(obj, self.ctx(user))
            md["uid"] = util.new_uid()
            md["creationTimestamp"] = util.now_ts()
            if res.has_spec and "spec" in obj:
                md["generation"] = 1
            if dry_run:
                md.pop("uid", None)
                return conversion.to_external(res, obj)
            stored = self.store.create(res.storage, obj)
            if stored is None:
                raise already_exists(res.name, res.group, md["name"])
            if self.server is not None:
                self.server.after_create(res, stored)
            return conversion.to_external(res, stored)

    # ---------------------------------------------------------------- update
    def update(self, res, ns, name, obj, user=None, sub="", dry_run=False, allow_create=False):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be an object")
        obj = conversion.from_external(res, obj)
        primary = registry.by_storage(res.storage) or res
        obj["apiVersion"] = primary.api_version
        obj["kind"] = primary.kind
        ns = ns if res.namespaced else ""
        with self.store.cond:
            old = self.store.get(res.storage, ns, name)
            if old is None:
                if allow_create and not sub:
                    _md(obj).setdefault("name", name)
                    return self.create(res, ns, obj, user, dry_run), True
                raise not_found(res.name, res.group, name)
            self._common_meta(res, ns, obj, name_from_url=name)
            want_rv = obj["metadata"].get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise conflict(res.name, res.group, name)
            if obj["metadata"].get("uid") and obj["metadata"]["uid"] != old["metadata"]["uid"]:
                raise conflict(res.name, res.group, name,
                               "Precondition failed: UID in precondition: %s, UID in object "
                               "meta: %s" % (obj["metadata"]["uid"], old["metadata"]["uid"]))
            new = strategies.merge_for_subresource(res.storage, sub, obj, old)
            new = strategies.prepare_update(res.storage, sub, new, old, self.ctx(user))
            return self._write(res, new, old, dry_run), False

    def _write(self, res, new, old, dry_run=False):
        """Store `new` over `old`, keeping server-owned metadata; finishes deletion
        when the last finalizer goes."""
        md, omd = new["metadata"], old["metadata"]
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "namespace", "name"):
            if k in omd:
                md[k] = omd[k]
            else:
                md.pop(k, None)
        md.pop("selfLink", None)
        _drop_empty_meta(md)
        if res.has_spec:
            gen = omd.get("generation", 1 if "spec" in old else None)
            if gen is not None:
                md["generation"] = gen + (1 if new.get("spec") != old.get("spec") else 0)
        else:
            md.pop("generation", None) if "generation" not in omd else \
                md.__setitem__("generation", omd["generation"])
        md["resourceVersion"] = omd["resourceVersion"]
        if new == old:
            return conversion.to_external(res, old)
        if dry_run:
            return conversion.to_external(res, new)
        if md.get("deletionTimestamp") and not md.get("finalizers") and \
                not md.get("deletionGracePeriodSeconds") and res.storage != "namespaces":
            deleted = self.store.delete(res.storage, md.get("namespace", ""), md["name"])
            if self.server is not None:
                self.server.after_delete(res, deleted)
            return conversion.to_external(res, new)
        stored = self.store.update(res.storage, new)
        if self.server is not None:
            self.server.after_update(res, stored, old)
        return conversion.to_external(res, stored)

    # ---------------------------------------------------------------- patch
    def patch(self, res, ns, name, ptype, body, user=None, sub="", dry_run=False):
        ns = ns if res.namespaced else ""
        with self.store.cond:
            old = self.store.get(res.storage, ns, name)
            if old is None:
                raise not_found(res.name, res.group, name)
            ext = conversion.to_external(res, old)
            patched = apply_patch(ptype, ext, body)
            if not isinstance(patched, dict):
                raise bad_request("patch produced a non-object document")
            md = patched.setdefault("metadata", {})
            if md.get("name", name) != name:
                raise bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (md.get("name"), name))
            md["name"] = name
            # the patched object carries the current resourceVersion unless the patch set
            # one, so only a patch with a stale resourceVersion conflicts
            obj, _ = self.update(res, ns, name, patched, user, sub, dry_run)
            return obj

    def server_side_apply(self, res, ns, name, body, user=None, dry_run=False, force=False):
        """A simplified server-side apply: create when missing, else merge the
        applied configuration into the object (no field ownership tracking)."""
        ns = ns if res.namespaced else ""
        with self.store.cond:
            old = self.store.get(res.storage, ns, name)
            if old is None:
                body.setdefault("metadata", {})["name"] = name
                return self.create(res, ns, body, user, dry_run), True
            ext = conversion.to_external(res, old)
            body.get("metadata", {}).pop("resourceVersion", None)
            patched = apply_patch("application/strategic-merge-patch+json", ext, body)
            obj, _ = self.update(res, ns, name, patched, user, "", dry_run)
            return obj, False

    # ---------------------------------------------------------------- delete
    def delete(self, res, ns, name, opts=None, user=None, dry_run=False):
        """Returns (response object, http code)."""
        opts = opts or {}
        ns = ns if res.namespaced else ""
        with self.store.cond:
            obj = self.store.get(res.storage, ns, name)
            if obj is None:
                raise not_found(res.name, res.group, name)
            md = obj["metadata"]
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != md.get("uid"):
                raise conflict(res.name, res.group, name,
                               "Precondition failed: UID in precondition: %s, UID in object "
                               "meta: %s" % (pre["uid"], md.get("uid")))
            if pre.get("resourceVersion") and pre["resourceVersion"] != md["resourceVersion"]:
                raise conflict(res.name, res.group, name,
                               "Precondition failed: ResourceVersion in precondition: %s, "
                               "ResourceVersion in object meta: %s"
                               % (pre["resourceVersion"], md["resourceVersion"]))
            grace = self._grace(res, obj, opts.get("gracePeriodSeconds"))
            if res.storage == "namespaces":
                return self._delete_namespace(res, obj, dry_run)
            old = copy.deepcopy(obj)
            if md.get("deletionTimestamp"):
                # already terminating: a shorter grace period may cut the wait
                cur = md.get("deletionGracePeriodSeconds") or 0
                if grace is not None and grace < cur:
                    md["deletionGracePeriodSeconds"] = grace
                    md["deletionTimestamp"] = util.now_ts(time.time() + grace)
                    if dry_run:
                        return conversion.to_external(res, obj), 200
                    if grace == 0 and not md.get("finalizers"):
                        return self._really_delete(res, obj)
                    out = self._store_update(res, obj, old)
                    return conversion.to_external(res, out), 200
                return conversion.to_external(res, obj), 200
            if grace:
                md["deletionTimestamp"] = util.now_ts(time.time() + grace)
                md["deletionGracePeriodSeconds"] = grace
                if dry_run:
                    return conversion.to_external(res, obj), 200
                out = self._store_update(res, obj, old)
                return conversion.to_external(res, out), 200
            if md.get("finalizers"):
                md["deletionTimestamp"] = util.now_ts()
                md["deletionGracePeriodSeconds"] = 0
                if dry_run:
                    return conversion.to_external(res, obj), 200
                out = self._store_update(res, obj, old)
                return conversion.to_external(res, out), 200
            if dry_run:
                return conversion.to_external(res, obj), 200
            return self._really_delete(res, obj)

    def _store_update(self, res, obj, old):
        out = self.store.update(res.storage, obj)
        if self.server is not None:
            self.server.after_update(res, out, old)
        return out

    def _really_delete(self, res, obj):
        md = obj["metadata"]
        deleted = self.store.delete(res.storage, md.get("namespace", ""), md["name"])
        if self.server is not None:
            self.server.after_delete(res, deleted)
        if res.return_deleted:
            return conversion.to_external(res, deleted), 200
        return success_status(md["name"], res.name, res.group, md.get("uid")), 200

    def _grace(self, res, obj, requested):
        if res.storage != "pods":
            return None if requested is None else 0
        spec = obj.get("spec") or {}
        if requested is None:
            g = spec.get("terminationGracePeriodSeconds")
            g = 30 if g is None else g
        else:
            g = int(requested)
        if not spec.get("nodeName"):
            return 0
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        return max(0, g)

    def _delete_namespace(self, res, obj, dry_run):
        md = obj["metadata"]
        if md["name"] in ("default", "kube-system", "kube-public"):
            raise forbidden('namespaces "%s" is forbidden: this namespace may not be deleted'
                            % md["name"], name=md["name"], kind="namespaces")
        if md.get("deletionTimestamp"):
            return conversion.to_external(res, obj), 200
        old = copy.deepcopy(obj)
        md["deletionTimestamp"] = util.now_ts()
        md["deletionGracePeriodSeconds"] = 0
        obj.setdefault("status", {})["phase"] = "Terminating"
        if dry_run:
            return obj, 200
        out = self._store_update(res, obj, old)
        return conversion.to_external(res, out), 200

    def finish_namespace(self, name):
        """Called by the namespace controller once the namespace is empty."""
        with self.store.cond:
            obj = self.store.get("namespaces", "", name)
            if obj is None or not obj["metadata"].get("deletionTimestamp"):
                return
            if obj["metadata"].get("finalizers"):
                return
            deleted = self.store.delete("namespaces", "", name)
            if self.server is not None:
                self.server.after_delete(registry.lookup("", "v1", "namespaces"), deleted)

    def delete_collection(self, res, ns, label_sel, field_sel, opts=None, user=None,
                          dry_run=False):
        lst = self.list(res, ns, label_sel, field_sel)
        items = []
        for o in lst.items:
            try:
                out, _ = self.delete(res, o["metadata"].get("namespace", ""),
                                     o["metadata"]["name"], opts, user, dry_run)
                if out.get("kind") != "Status":
                    items.append(out)
            except ApiError as e:
                if e.code != 404:
                    raise
        return {"kind": res.list_kind, "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)}, "items": items}
