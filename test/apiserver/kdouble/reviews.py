"""Create-only review resources (TokenReview, *SubjectAccessReview, SelfSubjectReview)
and the serviceaccounts/token subresource (TokenRequest)."""

import copy
import time

from . import util
from .auth import User
from .errors import ApiError, bad_request, not_found


def _attrs_from_spec(spec):
    ra = spec.get("resourceAttributes")
    if ra:
        return {"verb": ra.get("verb", ""), "apiGroup": ra.get("group", ""),
                "resource": ra.get("resource", ""), "subresource": ra.get("subresource", ""),
                "namespace": ra.get("namespace", ""), "name": ra.get("name", "")}
    nra = spec.get("nonResourceAttributes") or {}
    return {"verb": nra.get("verb", ""), "path": nra.get("path", "")}


def _sar_status(app, user, spec):
    ok, reason = app.authz.authorize(user, _attrs_from_spec(spec))
    st = {"allowed": ok}
    if not ok:
        st["denied"] = False
        st["reason"] = reason or ""
    else:
        st["reason"] = reason or "allowed by the double's policy"
    return st


def handle(app, user, res, namespace, obj):
    if not isinstance(obj, dict):
        raise bad_request("the body of the request must be an object")
    out = copy.deepcopy(obj)
    out["apiVersion"] = res.api_version
    out["kind"] = res.kind
    md = out.setdefault("metadata", {})
    md.setdefault("creationTimestamp", None)
    spec = out.setdefault("spec", {})
    k = res.kind
    if k == "TokenReview":
        token = spec.get("token", "")
        u = app.authn.from_token(token, spec.get("audiences")) if token else None
        if u is None:
            out["status"] = {"authenticated": False, "user": {},
                             "error": "[invalid bearer token, token lookup failed]"}
        else:
            out["status"] = {"authenticated": True, "user": u.info(),
                             "audiences": spec.get("audiences") or
                             ["https://kubernetes.default.svc.cluster.local"]}
        return out
    if k == "SelfSubjectReview":
        out["status"] = {"userInfo": user.info()}
        return out
    if k == "SubjectAccessReview":
        subject = User(spec.get("user", ""), spec.get("groups") or [], spec.get("uid", ""),
                       spec.get("extra"))
        out["status"] = _sar_status(app, subject, spec)
        return out
    if k == "LocalSubjectAccessReview":
        ra = spec.get("resourceAttributes") or {}
        if ra.get("namespace", namespace) != namespace:
            raise bad_request("spec.resourceAttributes.namespace must match namespace: %s"
                              % namespace)
        subject = User(spec.get("user", ""), spec.get("groups") or [], spec.get("uid", ""))
        out["status"] = _sar_status(app, subject, spec)
        return out
    if k == "SelfSubjectAccessReview":
        out["status"] = _sar_status(app, user, spec)
        return out
    if k == "SelfSubjectRulesReview":
        admin = "system:masters" in user.groups or user.anonymous is False
        rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}] if admin else []
        out["status"] = {"resourceRules": rules,
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
                         if admin else [], "incomplete": False}
        return out
    raise ApiError(405, "method not allowed", "MethodNotAllowed")


def token_request(app, namespace, sa_name, obj):
    sa = app.store.get("serviceaccounts", namespace, sa_name)
    if sa is None:
        raise not_found("serviceaccounts", "", sa_name)
    spec = (obj or {}).get("spec") or {}
    exp = spec.get("expirationSeconds") or 3600
    if exp < 600:
        raise ApiError(422, 'TokenRequest.authentication.k8s.io "%s" is invalid: '
                       'spec.expirationSeconds: Invalid value: %d: may not specify a duration '
                       'less than 10 minutes' % (sa_name, exp), "Invalid")
    bound = spec.get("boundObjectRef")
    if bound:
        kind = bound.get("kind")
        store_key = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}.get(kind)
        if store_key is None:
            raise ApiError(422, "spec.boundObjectRef.kind: Unsupported value: %r" % kind,
                           "Invalid")
        target = app.store.get(store_key, "" if kind == "Node" else namespace, bound.get("name"))
        if target is None:
            raise not_found(store_key, "", bound.get("name"))
        if bound.get("uid") and bound["uid"] != target["metadata"]["uid"]:
            raise ApiError(409, "the UID in the bound object reference (%s) does not match the "
                           "UID in record. The object might have been deleted and then "
                           "recreated" % bound["uid"], "Conflict")
        bound = dict(bound, uid=target["metadata"]["uid"])
    token, claims = app.issuer.issue(namespace, sa_name, sa["metadata"]["uid"],
                                     spec.get("audiences"), exp, bound)
    out = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": sa_name, "namespace": namespace, "creationTimestamp": util.now_ts()},
        "spec": {"audiences": claims["aud"], "expirationSeconds": exp,
                 "boundObjectRef": bound},
        "status": {"token": token, "expirationTimestamp": util.now_ts(claims["exp"])},
    }
    if bound is None:
        del out["spec"]["boundObjectRef"]
    return out
