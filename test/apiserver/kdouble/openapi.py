"""A minimal OpenAPI v3 discovery: one document per group/version that lists
the PATCH operation of every resource with its group-version-kind and the
`fieldValidation` query parameter.

That is what kubectl's validation looks at to decide that the server validates
fields itself (it then skips client-side schema validation, which would need
the full schemas).  No schemas are served: `kubectl apply` falls back to the
built-in type information for strategic merge patches, and `kubectl explain`
does not work."""

import hashlib
import json

from . import registry


def _gv_path(group, version):
    return "api/%s" % version if not group else "apis/%s/%s" % (group, version)


def _gvs():
    seen = []
    for r in registry.RESOURCES:
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def gv_document(group, version):
    paths = {}
    params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string",
               "uniqueItems": True}, "description": "fieldValidation instructs the server on "
               "how to handle objects in the request containing unknown or duplicate fields."},
              {"name": "dryRun", "in": "query", "schema": {"type": "string",
                                                           "uniqueItems": True}},
              {"name": "fieldManager", "in": "query", "schema": {"type": "string",
                                                                 "uniqueItems": True}}]
    prefix = "/api/%s" % version if not group else "/apis/%s/%s" % (group, version)
    for r in registry.RESOURCES:
        if r.group != group or r.version != version or "patch" not in r.verbs:
            continue
        if r.namespaced:
            p = "%s/namespaces/{namespace}/%s/{name}" % (prefix, r.name)
        else:
            p = "%s/%s/{name}" % (prefix, r.name)
        paths[p] = {
            "patch": {
                "operationId": "patch%s" % r.kind,
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version,
                                                    "kind": r.kind},
                "parameters": params,
                "responses": {"200": {"description": "OK"}},
            },
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": {}}}


def root():
    paths = {}
    for g, v in _gvs():
        doc = json.dumps(gv_document(g, v), sort_keys=True).encode()
        h = hashlib.sha512(doc).hexdigest()[:128].upper()
        paths[_gv_path(g, v)] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s"
                                 % (_gv_path(g, v), h)}
    return {"paths": paths}


def lookup(path):
    """The document for an /openapi/v3... path, or None."""
    p = path.rstrip("/")
    if p == "/openapi/v3":
        return root()
    rest = p[len("/openapi/v3/"):] if p.startswith("/openapi/v3/") else None
    if rest is None:
        return None
    for g, v in _gvs():
        if rest == _gv_path(g, v):
            return gv_document(g, v)
    return None
