"""The resource types the double serves, and the discovery documents built from them."""

import hashlib

CRUD = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CREATE_ONLY = ["create"]


class Resource:
    def __init__(self, group, version, name, kind, namespaced, short=(), verbs=None,
                 subresources=None, singular=None, categories=(), storage=None,
                 has_spec=True, return_deleted=False):
        self.group = group
        self.version = version
        self.name = name
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        self.verbs = list(verbs if verbs is not None else CRUD)
        # subresource name -> (kind, verbs)
        self.subresources = dict(subresources or {})
        self.singular = singular or kind.lower()
        self.categories = list(categories)
        # objects of resources sharing a storage key live in one bucket
        self.storage = storage or (name if not group else "%s.%s" % (name, group))
        self.has_spec = has_spec
        self.return_deleted = return_deleted

    @property
    def api_version(self):
        return self.version if not self.group else "%s/%s" % (self.group, self.version)

    @property
    def list_kind(self):
        return self.kind + "List"

    @property
    def persisted(self):
        return "create" in self.verbs and "get" in self.verbs

    def __repr__(self):
        return "Resource(%s)" % self.storage


def _r(*a, **kw):
    return Resource(*a, **kw)


STATUS = ("", ["get", "patch", "update"])

RESOURCES = [
    # core/v1
    _r("", "v1", "namespaces", "Namespace", False, ["ns"],
       subresources={"status": ("Namespace", ["get", "patch", "update"]),
                     "finalize": ("Namespace", ["update"])},
       return_deleted=True),
    _r("", "v1", "pods", "Pod", True, ["po"], categories=["all"],
       subresources={"status": ("Pod", ["get", "patch", "update"]),
                     "binding": ("Binding", ["create"]),
                     "eviction": ("Eviction", ["create"]),
                     "log": ("Pod", ["get"]),
                     "exec": ("PodExecOptions", ["create", "get"]),
                     "attach": ("PodAttachOptions", ["create", "get"]),
                     "portforward": ("PodPortForwardOptions", ["create", "get"]),
                     "proxy": ("PodProxyOptions", ["create", "delete", "get", "patch", "update"]),
                     "ephemeralcontainers": ("Pod", ["get", "patch", "update"])},
       return_deleted=True),
    _r("", "v1", "bindings", "Binding", True, verbs=CREATE_ONLY, has_spec=False),
    _r("", "v1", "nodes", "Node", False, ["no"],
       subresources={"status": ("Node", ["get", "patch", "update"]),
                     "proxy": ("NodeProxyOptions", ["create", "delete", "get", "patch", "update"])}),
    _r("", "v1", "services", "Service", True, ["svc"], categories=["all"],
       verbs=["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
       subresources={"status": ("Service", ["get", "patch", "update"]),
                     "proxy": ("ServiceProxyOptions", ["create", "delete", "get", "patch", "update"])},
       return_deleted=True),
    _r("", "v1", "endpoints", "Endpoints", True, ["ep"], has_spec=False),
    _r("", "v1", "configmaps", "ConfigMap", True, ["cm"], has_spec=False),
    _r("", "v1", "secrets", "Secret", True, has_spec=False),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"], has_spec=False,
       subresources={"token": ("TokenRequest", ["create"])}),
    _r("", "v1", "events", "Event", True, ["ev"], has_spec=False),
    _r("", "v1", "limitranges", "LimitRange", True, ["limits"]),
    _r("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"],
       subresources={"status": ("ResourceQuota", ["get", "patch", "update"])}),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"],
       subresources={"status": ("PersistentVolumeClaim", ["get", "patch", "update"])}),
    _r("", "v1", "persistentvolumes", "PersistentVolume", False, ["pv"],
       subresources={"status": ("PersistentVolume", ["get", "patch", "update"])}),
    # discovery.k8s.io/v1
    _r("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, has_spec=False),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "leases", "Lease", True),
    # events.k8s.io/v1 shares storage with core events
    _r("events.k8s.io", "v1", "events", "Event", True, ["ev"], storage="events", has_spec=False),
    # certificates.k8s.io/v1
    _r("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest",
       False, ["csr"],
       subresources={"status": ("CertificateSigningRequest", ["get", "patch", "update"]),
                     "approval": ("CertificateSigningRequest", ["get", "patch", "update"])}),
    # authentication / authorization reviews (not persisted)
    _r("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, verbs=CREATE_ONLY),
    _r("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
       verbs=CREATE_ONLY),
    _r("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False,
       verbs=CREATE_ONLY),
    _r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
       False, verbs=CREATE_ONLY),
    _r("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview",
       True, verbs=CREATE_ONLY),
    _r("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
       False, verbs=CREATE_ONLY),
    # plain storage, no controllers
    _r("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], categories=["all"],
       subresources={"status": ("DaemonSet", ["get", "patch", "update"])}),
    _r("apps", "v1", "deployments", "Deployment", True, ["deploy"], categories=["all"],
       subresources={"status": ("Deployment", ["get", "patch", "update"])}),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], categories=["all"],
       subresources={"status": ("ReplicaSet", ["get", "patch", "update"])}),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], categories=["all"],
       subresources={"status": ("StatefulSet", ["get", "patch", "update"])}),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, has_spec=False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False,
       has_spec=False),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True, has_spec=False),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, has_spec=False),
    _r("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", False, has_spec=False),
    _r("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _r("storage.k8s.io", "v1", "csinodes", "CSINode", False),
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ["sc"], has_spec=False),
    _r("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False,
       subresources={"status": ("VolumeAttachment", ["get", "patch", "update"])}),
    _r("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ["pc"],
       has_spec=False),
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"],
       subresources={"status": ("PodDisruptionBudget", ["get", "patch", "update"])}),
]

# preferred version of each group, in discovery order
GROUP_ORDER = ["", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
               "rbac.authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io",
               "discovery.k8s.io", "node.k8s.io", "policy", "scheduling.k8s.io",
               "storage.k8s.io"]

_BY_PATH = {(r.group, r.version, r.name): r for r in RESOURCES}
_BY_KIND = {}
for _res in RESOURCES:
    _BY_KIND.setdefault((_res.group, _res.kind), _res)


def lookup(group, version, name):
    return _BY_PATH.get((group, version, name))


def by_kind(group, kind):
    return _BY_KIND.get((group, kind))


def by_storage(storage):
    for r in RESOURCES:
        if r.storage == storage and (r.group == "" or storage != "events"):
            return r
    return None


def group_versions(group):
    return sorted({r.version for r in RESOURCES if r.group == group})


def _hash(r):
    h = hashlib.sha256(("%s/%s/%s" % (r.group, r.version, r.kind)).encode()).digest()
    import base64
    return base64.b64encode(h[:8]).decode()


def api_resource_list(group, version):
    res = [r for r in RESOURCES if r.group == group and r.version == version]
    if not res:
        return None
    items = []
    for r in res:
        item = {
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        }
        if r.short:
            item["shortNames"] = r.short
        if r.categories:
            item["categories"] = r.categories
        if r.persisted:
            item["storageVersionHash"] = _hash(r)
        items.append(item)
        for sub, (kind, verbs) in sorted(r.subresources.items()):
            s = {"name": "%s/%s" % (r.name, sub), "singularName": "",
                 "namespaced": r.namespaced, "kind": kind, "verbs": verbs}
            if kind in ("Binding", "Eviction", "TokenRequest") and r.group == "":
                s["group"] = {"Binding": "", "Eviction": "policy",
                              "TokenRequest": "authentication.k8s.io"}[kind]
                s["version"] = "v1"
                if not s["group"]:
                    del s["group"]
                    del s["version"]
            items.append(s)
    gv = version if not group else "%s/%s" % (group, version)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": items}


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def api_group(group):
    versions = group_versions(group)
    if not versions:
        return None
    vs = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": vs,
            "preferredVersion": vs[0]}


def api_group_list():
    groups = []
    for g in GROUP_ORDER:
        if g == "":
            continue
        ag = api_group(g)
        if ag:
            del ag["kind"]
            del ag["apiVersion"]
            groups.append(ag)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


# ---- aggregated discovery (apidiscovery.k8s.io/v2) ----

def _aggregated_resources(group, version):
    out = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        item = {
            "resource": r.name,
            "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
            "scope": "Namespaced" if r.namespaced else "Cluster",
            "singularResource": r.singular,
            "verbs": r.verbs,
        }
        if r.short:
            item["shortNames"] = r.short
        if r.categories:
            item["categories"] = r.categories
        subs = []
        for sub, (kind, verbs) in sorted(r.subresources.items()):
            subs.append({"subresource": sub,
                         "responseKind": {"group": r.group if kind == r.kind else "",
                                          "version": r.version, "kind": kind},
                         "verbs": verbs})
        if subs:
            item["subresources"] = subs
        out.append(item)
    return out


def aggregated_discovery(legacy, api_version="apidiscovery.k8s.io/v2"):
    """APIGroupDiscoveryList for /api (legacy=True) or /apis."""
    items = []
    groups = [""] if legacy else [g for g in GROUP_ORDER if g]
    for g in groups:
        versions = []
        for v in group_versions(g):
            versions.append({"version": v, "resources": _aggregated_resources(g, v),
                             "freshness": "Current"})
        if not versions:
            continue
        items.append({"metadata": {"name": g, "creationTimestamp": None},
                      "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version,
            "metadata": {}, "items": items}
