"""Per-resource defaulting, validation and admission, as the API server's
registry strategies and admission plugins do it for the fields that matter here."""

import base64
import copy
import ipaddress

from . import util
from .errors import ApiError, invalid, forbidden

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
# Dual-stack clusters: the IPv6 range next to it (--service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/108).
SERVICE_CIDRS = {"IPv4": SERVICE_CIDR, "IPv6": ipaddress.ip_network("fd00:10:96::/108")}
KUBERNETES_SERVICE_IP = "10.96.0.1"
NODEPORT_RANGE = (30000, 32767)
SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


class Context:
    """What strategies need besides the object: the store and the request's user."""

    def __init__(self, store, user=None, server=None):
        self.store = store
        self.user = user
        self.server = server


# ------------------------------------------------------------------ pods

def _image_pull_policy(image):
    ref = image.split("@", 1)[0]
    if "@" in image:
        return "IfNotPresent"
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_probe(p):
    if not p:
        return
    p.setdefault("timeoutSeconds", 1)
    p.setdefault("periodSeconds", 10)
    p.setdefault("successThreshold", 1)
    p.setdefault("failureThreshold", 3)
    if "httpGet" in p:
        p["httpGet"].setdefault("scheme", "HTTP")
        p["httpGet"].setdefault("path", "/")


def _default_container(c):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if c.get("image"):
        c.setdefault("imagePullPolicy", _image_pull_policy(c["image"]))
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for e in c.get("env") or []:
        fr = (e.get("valueFrom") or {}).get("fieldRef")
        if fr is not None:
            fr.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(c.get(name))


def _default_volume(v):
    for kind in ("secret", "configMap", "projected", "downwardAPI"):
        if kind in v and isinstance(v[kind], dict):
            v[kind].setdefault("defaultMode", 420)
    if "hostPath" in v:
        v["hostPath"].setdefault("type", "")
    if "emptyDir" in v and v["emptyDir"] is None:
        v["emptyDir"] = {}


def default_pod(pod):
    spec = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            _default_container(c)
    for v in spec.get("volumes") or []:
        _default_volume(v)
    if spec.get("hostNetwork"):
        for c in spec.get("containers") or []:
            for p in c.get("ports") or []:
                p.setdefault("hostPort", p.get("containerPort"))


def _qos(spec):
    any_ = False
    guaranteed = True
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        r = c.get("resources") or {}
        rq, lm = r.get("requests") or {}, r.get("limits") or {}
        if rq or lm:
            any_ = True
        for res in ("cpu", "memory"):
            if res not in lm:
                guaranteed = False
            elif res in rq and rq[res] != lm[res]:
                guaranteed = False
    if not any_:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def validate_pod(pod):
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    causes = []
    cs = spec.get("containers") or []
    if not cs:
        causes.append(("spec.containers", "Required value", "FieldValueRequired"))
    seen = set()
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            n = c.get("name", "")
            if not n:
                causes.append(("spec.%s[%d].name" % (key, i), "Required value",
                               "FieldValueRequired"))
            elif not util.DNS1123_LABEL.match(n):
                causes.append(("spec.%s[%d].name" % (key, i), 'Invalid value: "%s"' % n,
                               "FieldValueInvalid"))
            elif n in seen:
                causes.append(("spec.%s[%d].name" % (key, i), 'Duplicate value: "%s"' % n,
                               "FieldValueDuplicate"))
            seen.add(n)
            if not c.get("image"):
                causes.append(("spec.%s[%d].image" % (key, i), "Required value",
                               "FieldValueRequired"))
    if spec.get("restartPolicy") not in ("Always", "OnFailure", "Never"):
        causes.append(("spec.restartPolicy", 'Unsupported value: "%s"' % spec.get("restartPolicy"),
                       "FieldValueNotSupported"))
    vols = set()
    for i, v in enumerate(spec.get("volumes") or []):
        if v.get("name") in vols:
            causes.append(("spec.volumes[%d].name" % i, 'Duplicate value: "%s"' % v.get("name"),
                           "FieldValueDuplicate"))
        vols.add(v.get("name"))
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            for j, m in enumerate(c.get("volumeMounts") or []):
                if m.get("name") not in vols:
                    causes.append(("spec.%s[%d].volumeMounts[%d].name" % (key, i, j),
                                   'Not found: "%s"' % m.get("name"), "FieldValueNotFound"))
    if causes:
        raise invalid("Pod", "", name, causes)


def admit_pod(pod, ctx):
    """ServiceAccount, DefaultTolerationSeconds and Priority admission."""
    md = pod["metadata"]
    spec = pod["spec"]
    ns = md["namespace"]
    _default_tolerations(spec)
    if MIRROR_ANNOTATION in (md.get("annotations") or {}):
        # mirror pods of static pods get no service account (and may not reference one)
        if spec.get("serviceAccountName") or spec.get("serviceAccount"):
            raise forbidden('pods "%s" is forbidden: a mirror pod may not reference service '
                            'accounts' % md["name"], name=md["name"], kind="pods")
        return
    sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = sa_name
    spec["serviceAccount"] = sa_name
    sa = ctx.store.get("serviceaccounts", ns, sa_name)
    if sa is None:
        raise forbidden('pods "%s" is forbidden: error looking up service account %s/%s: '
                        'serviceaccount "%s" not found' % (md["name"], ns, sa_name, sa_name),
                        name=md["name"], kind="pods")
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = sa.get("automountServiceAccountToken", True)
    has_mount = any(m.get("mountPath") == SA_MOUNT_PATH
                    for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                    for m in (c.get("volumeMounts") or []))
    if automount is not False and not has_mount:
        vname = "kube-api-access-" + util.random_suffix()
        spec.setdefault("volumes", []).append({
            "name": vname,
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ],
                "defaultMode": 420,
            },
        })
        for key in ("initContainers", "containers"):
            for c in spec.get(key) or []:
                c.setdefault("volumeMounts", []).append(
                    {"name": vname, "readOnly": True, "mountPath": SA_MOUNT_PATH})


def _default_tolerations(spec):
    tol = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key and t.get("effect") in ("NoExecute", None, "")
                   for t in tol):
            tol.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                        "tolerationSeconds": 300})


def prepare_pod_create(pod, ctx):
    default_pod(pod)
    validate_pod(pod)
    admit_pod(pod, ctx)
    # the API server ignores a status sent with a new pod
    status = pod["status"] = {"phase": "Pending"}
    status["qosClass"] = _qos(pod["spec"])
    if pod["spec"].get("nodeName"):
        _set_condition(status, {"type": "PodScheduled", "status": "True"})


def _set_condition(status, cond):
    conds = status.setdefault("conditions", [])
    for c in conds:
        if c.get("type") == cond["type"]:
            if c.get("status") != cond["status"]:
                c.update(cond)
                c["lastTransitionTime"] = util.now_ts()
            return
    c = dict(cond)
    c.setdefault("lastProbeTime", None)
    c.setdefault("lastTransitionTime", util.now_ts())
    conds.append(c)


_MUTABLE_POD_SPEC = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds",
                     "schedulingGates")


def _strip_mutable_pod_spec(spec):
    s = copy.deepcopy(spec)
    for k in _MUTABLE_POD_SPEC:
        s.pop(k, None)
    for key in ("containers", "initContainers"):
        for c in s.get(key) or []:
            c.pop("image", None)
    s.pop("ephemeralContainers", None)
    return s


def validate_pod_update(new, old):
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    default_pod(new)
    if _strip_mutable_pod_spec(ns) != _strip_mutable_pod_spec(os_):
        raise invalid("Pod", "", new["metadata"]["name"], [(
            "spec", "Forbidden: pod updates may not change fields other than "
            "`spec.containers[*].image`,`spec.initContainers[*].image`,"
            "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
            "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
            "it was previously negative)", "FieldValueForbidden")])


# ------------------------------------------------------------------ services

def _service_ips_in_use(store, exclude=None):
    used = {KUBERNETES_SERVICE_IP}
    ports = set()
    objs, _ = store.list("services")
    for s in objs:
        md = s["metadata"]
        if exclude and (md.get("namespace"), md["name"]) == exclude:
            continue
        sp = s.get("spec") or {}
        for ip in sp.get("clusterIPs") or [sp.get("clusterIP")]:
            if ip and ip != "None":
                used.add(ip)
        for p in sp.get("ports") or []:
            if p.get("nodePort"):
                ports.add((p["nodePort"], p.get("protocol", "TCP")))
                ports.add((p["nodePort"], "*"))
        if sp.get("healthCheckNodePort"):
            ports.add((sp["healthCheckNodePort"], "TCP"))
            ports.add((sp["healthCheckNodePort"], "*"))
    return used, ports


def _allocate_ip(used, cidr=SERVICE_CIDR):
    hosts = cidr.num_addresses
    start = int(cidr.network_address)
    # upstream allocates randomly; a deterministic ascending choice keeps tests readable
    for off in range(10, hosts - 1):
        ip = str(ipaddress.ip_address(start + off))
        if ip not in used:
            return ip
    raise ApiError(500, "range is full", "InternalError")


def _allocate_port(used_ports, proto="TCP"):
    import random
    lo, hi = NODEPORT_RANGE
    cand = list(range(lo, hi + 1))
    random.shuffle(cand)
    for p in cand:
        if (p, proto) not in used_ports and (p, "*") not in used_ports:
            used_ports.add((p, proto))
            return p
    raise ApiError(500, "range is full", "InternalError")


def default_service(svc):
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        given = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
        spec.setdefault("ipFamilies", ["IPv6" if ":" in ip else "IPv4" for ip in given] or ["IPv4"])
        if spec["ipFamilyPolicy"] in ("PreferDualStack", "RequireDualStack") and len(spec["ipFamilies"]) == 1:
            spec["ipFamilies"].append("IPv4" if spec["ipFamilies"][0] == "IPv6" else "IPv6")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        if spec["type"] != "ExternalName" and "targetPort" not in p:
            p["targetPort"] = p.get("port")


def validate_service(svc):
    name = svc["metadata"]["name"]
    spec = svc["spec"]
    causes = []
    if not util.DNS1035_LABEL.match(name):
        causes.append(("metadata.name", 'Invalid value: "%s": a DNS-1035 label must consist of '
                       "lower case alphanumeric characters or '-', start with an alphabetic "
                       "character, and end with an alphanumeric character" % name,
                       "FieldValueInvalid"))
    if spec["type"] not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(("spec.type", 'Unsupported value: "%s"' % spec["type"],
                       "FieldValueNotSupported"))
    ports = spec.get("ports") or []
    if not ports and spec["type"] != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(("spec.ports", "Required value", "FieldValueRequired"))
    names = set()
    for i, p in enumerate(ports):
        n = p.get("name", "")
        if len(ports) > 1 and not n:
            causes.append(("spec.ports[%d].name" % i, "Required value", "FieldValueRequired"))
        if n in names:
            causes.append(("spec.ports[%d].name" % i, 'Duplicate value: "%s"' % n,
                           "FieldValueDuplicate"))
        names.add(n)
        port = p.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            causes.append(("spec.ports[%d].port" % i, "Invalid value: %r: must be between 1 "
                           "and 65535, inclusive" % port, "FieldValueInvalid"))
        if p.get("protocol") not in ("TCP", "UDP", "SCTP"):
            causes.append(("spec.ports[%d].protocol" % i, 'Unsupported value: "%s"'
                           % p.get("protocol"), "FieldValueNotSupported"))
        np = p.get("nodePort")
        if np and spec["type"] == "ClusterIP":
            causes.append(("spec.ports[%d].nodePort" % i, "Forbidden: may not be used when "
                           "`type` is 'ClusterIP'", "FieldValueForbidden"))
    if causes:
        raise invalid("Service", "", name, causes)


def allocate_service(svc, ctx, old=None):
    """ClusterIP, NodePort and healthCheckNodePort allocation (create and update)."""
    md = svc["metadata"]
    spec = svc["spec"]
    exclude = (md.get("namespace"), md["name"]) if old is not None else None
    used, used_ports = _service_ips_in_use(ctx.store, exclude)
    name = md["name"]
    if old is not None:
        osp = old.get("spec") or {}
        # fill allocated values the client left out, as the API server does
        if not spec.get("clusterIP") and osp.get("clusterIP") and spec["type"] != "ExternalName":
            spec["clusterIP"] = osp["clusterIP"]
            spec["clusterIPs"] = osp.get("clusterIPs") or [osp["clusterIP"]]
        elif spec.get("clusterIP") and osp.get("clusterIP") and \
                spec["clusterIP"] != osp["clusterIP"] and osp.get("type") != "ExternalName":
            raise invalid("Service", "", name, [("spec.clusterIPs[0]",
                          'Invalid value: []string{"%s"}: may not change once set'
                          % spec["clusterIP"], "FieldValueInvalid")])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            oldports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                        for p in osp.get("ports") or []}
            for p in spec.get("ports") or []:
                if not p.get("nodePort"):
                    np = oldports.get((p.get("port"), p.get("protocol", "TCP")))
                    if np:
                        p["nodePort"] = np
            if not spec.get("healthCheckNodePort") and osp.get("healthCheckNodePort") and \
                    spec.get("externalTrafficPolicy") == "Local":
                spec["healthCheckNodePort"] = osp["healthCheckNodePort"]
    if spec["type"] == "ExternalName":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    elif spec.get("clusterIP") != "None" and (spec.get("ipFamilies") or ["IPv4"]) != ["IPv4"]:
        # IPv6 and dual-stack Services: one cluster IP per entry of ipFamilies
        given = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        ips = []
        for i, fam in enumerate(spec["ipFamilies"]):
            cidr = SERVICE_CIDRS[fam]
            ip = given[i] if i < len(given) else _allocate_ip(used, cidr)
            if ipaddress.ip_address(ip) not in cidr or (ip in used and ip not in ((old or {}).get("spec") or {}).get(
                    "clusterIPs", [])):
                raise invalid("Service", "", name, [("spec.clusterIPs[%d]" % i, 'Invalid value: "%s": not '
                              "available in %s" % (ip, cidr), "FieldValueInvalid")])
            used.add(ip)
            ips.append(ip)
        spec["clusterIP"] = ips[0]
        spec["clusterIPs"] = ips
    else:
        ip = spec.get("clusterIP")
        if not ip:
            ip = _allocate_ip(used)
        elif ip != "None":
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                raise invalid("Service", "", name, [("spec.clusterIPs[0]", 'Invalid value: "%s": '
                              "must be a valid IP address" % ip, "FieldValueInvalid")])
            if addr not in SERVICE_CIDR:
                raise invalid("Service", "", name, [("spec.clusterIPs", 'Invalid value: '
                              '[]string{"%s"}: failed to allocate IP %s: the provided IP (%s) '
                              "is not in the valid range. The range of valid IPs is %s"
                              % (ip, ip, ip, SERVICE_CIDR), "FieldValueInvalid")])
            if ip in used and not (old and (old.get("spec") or {}).get("clusterIP") == ip) and \
                    not (ip == KUBERNETES_SERVICE_IP and md.get("namespace") == "default"
                         and name == "kubernetes"):
                raise invalid("Service", "", name, [("spec.clusterIPs", 'Invalid value: '
                              '[]string{"%s"}: failed to allocate IP %s: provided IP is already '
                              "allocated" % (ip, ip), "FieldValueInvalid")])
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
    wants_nodeports = spec["type"] == "NodePort" or (
        spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True))
    for i, p in enumerate(spec.get("ports") or []):
        if wants_nodeports:
            np = p.get("nodePort")
            if np:
                lo, hi = NODEPORT_RANGE
                if not lo <= np <= hi:
                    raise invalid("Service", "", name, [(
                        "spec.ports[%d].nodePort" % i, "Invalid value: %d: provided port is not "
                        "in the valid range. The range of valid ports is %d-%d" % (np, lo, hi),
                        "FieldValueInvalid")])
                if (np, p.get("protocol", "TCP")) in used_ports:
                    raise invalid("Service", "", name, [(
                        "spec.ports[%d].nodePort" % i, "Invalid value: %d: provided port is "
                        "already allocated" % np, "FieldValueInvalid")])
                used_ports.add((np, p.get("protocol", "TCP")))
            else:
                p["nodePort"] = _allocate_port(used_ports, p.get("protocol", "TCP"))
        elif spec["type"] in ("ClusterIP", "ExternalName"):
            p.pop("nodePort", None)
    if spec["type"] == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local":
        if not spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = _allocate_port(used_ports, "TCP")
    else:
        spec.pop("healthCheckNodePort", None)
    if spec["type"] not in ("NodePort", "LoadBalancer"):
        spec.pop("externalTrafficPolicy", None)


def prepare_service_create(svc, ctx):
    default_service(svc)
    validate_service(svc)
    allocate_service(svc, ctx)
    svc["status"] = {"loadBalancer": {}}


# ------------------------------------------------------------------ others

def prepare_namespace_create(ns, ctx):
    if not util.DNS1123_LABEL.match(ns["metadata"]["name"]):
        raise invalid("Namespace", "", ns["metadata"]["name"], [(
            "metadata.name", 'Invalid value: "%s": a lowercase RFC 1123 label must consist of '
            "lower case alphanumeric characters or '-', and must start and end with an "
            "alphanumeric character" % ns["metadata"]["name"], "FieldValueInvalid")])
    ns.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    ns["status"] = {"phase": "Active"}
    labels = ns["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = ns["metadata"]["name"]


def prepare_secret(sec, ctx):
    sec.setdefault("type", "Opaque")
    sd = sec.pop("stringData", None)
    if sd:
        data = sec.setdefault("data", {})
        for k, v in sd.items():
            data[k] = base64.b64encode(v.encode()).decode()
    for k, v in (sec.get("data") or {}).items():
        try:
            base64.b64decode(v, validate=True)
        except Exception:
            from .errors import bad_request
            raise bad_request("illegal base64 data in secret data key %s" % k)


def prepare_csr_create(csr, ctx):
    spec = csr.setdefault("spec", {})
    user = ctx.user
    if user is not None:
        spec["username"] = user.name
        spec["groups"] = user.groups
        if user.uid:
            spec["uid"] = user.uid
        else:
            spec.pop("uid", None)
        if user.extra:
            spec["extra"] = user.extra
        else:
            spec.pop("extra", None)
    name = csr["metadata"]["name"]
    causes = []
    req = spec.get("request")
    pem = b""
    if not req:
        causes.append(("spec.request", "Required value", "FieldValueRequired"))
    else:
        try:
            pem = base64.b64decode(req)
        except Exception:
            pem = b""
        if b"CERTIFICATE REQUEST" not in pem:
            causes.append(("spec.request", "Invalid value: []byte{...}: "
                           "PEM block type must be CERTIFICATE REQUEST", "FieldValueInvalid"))
    if not spec.get("signerName"):
        causes.append(("spec.signerName", "Required value", "FieldValueRequired"))
    if not spec.get("usages"):
        causes.append(("spec.usages", "Required value", "FieldValueRequired"))
    if causes:
        raise invalid("CertificateSigningRequest", "certificates.k8s.io", name, causes)
    csr["status"] = {}


def prepare_event(ev, ctx):
    ev.setdefault("involvedObject", {})


CREATE = {
    "pods": prepare_pod_create,
    "services": prepare_service_create,
    "namespaces": prepare_namespace_create,
    "secrets": prepare_secret,
    "certificatesigningrequests.certificates.k8s.io": prepare_csr_create,
    "events": prepare_event,
}


# which top-level fields a write through each (sub)resource may change
STATUS_ONLY = ("status",)


def merge_for_subresource(storage, sub, new, old):
    """The object to store for an update of `sub` ('' = main resource)."""
    if sub in ("status",):
        out = copy.deepcopy(old)
        out["status"] = new.get("status", {})
        # status writes may carry metadata changes for nodes (labels, annotations)
        if storage == "nodes":
            for k in ("labels", "annotations"):
                if k in new.get("metadata", {}):
                    out["metadata"][k] = new["metadata"][k]
        return out
    if sub == "approval":
        out = copy.deepcopy(old)
        out.setdefault("status", {})["conditions"] = (new.get("status") or {}).get("conditions", [])
        return out
    if sub == "finalize":
        out = copy.deepcopy(old)
        out.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get("finalizers", [])
        return out
    if sub == "ephemeralcontainers":
        out = copy.deepcopy(old)
        out["spec"]["ephemeralContainers"] = (new.get("spec") or {}).get("ephemeralContainers", [])
        return out
    out = copy.deepcopy(new)
    if storage in ("pods", "nodes", "services", "namespaces",
                   "certificatesigningrequests.certificates.k8s.io") or \
            (storage not in ("events",) and "status" in old and _has_status_sub(storage)):
        if "status" in old:
            out["status"] = copy.deepcopy(old["status"])
        else:
            out.pop("status", None)
    return out


def _has_status_sub(storage):
    from . import registry
    r = registry.by_storage(storage)
    return r is not None and "status" in r.subresources


def prepare_update(storage, sub, new, old, ctx):
    if storage == "pods" and sub == "":
        validate_pod_update(new, old)
    if storage == "services" and sub == "":
        default_service(new)
        validate_service(new)
        allocate_service(new, ctx, old)
    if storage == "secrets":
        prepare_secret(new, ctx)
    if storage == "namespaces" and sub == "":
        new.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
        new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
            new["metadata"]["name"]
    if storage == "certificatesigningrequests.certificates.k8s.io":
        if sub == "":
            new["spec"] = old.get("spec")
        if sub == "approval":
            for c in (new.get("status") or {}).get("conditions") or []:
                if c.get("type") not in ("Approved", "Denied", "Failed"):
                    raise invalid("CertificateSigningRequest", "certificates.k8s.io",
                                  new["metadata"]["name"], [(
                                      "status.conditions", 'Unsupported value: "%s"'
                                      % c.get("type"), "FieldValueNotSupported")])
                c.setdefault("status", "True")
                c.setdefault("lastUpdateTime", util.now_ts())
                c.setdefault("lastTransitionTime", util.now_ts())
            types = {c.get("type") for c in (new.get("status") or {}).get("conditions") or []}
            if "Approved" in types and "Denied" in types:
                raise invalid("CertificateSigningRequest", "certificates.k8s.io",
                              new["metadata"]["name"], [(
                                  "status.conditions", "Invalid value: \"Approved\": "
                                  "Approved and Denied conditions are mutually exclusive",
                                  "FieldValueInvalid")])
            # once set, Approved or Denied may not be removed
            old_types = {c.get("type") for c in (old.get("status") or {}).get("conditions") or []}
            for t in ("Approved", "Denied"):
                if t in old_types and t not in types:
                    raise invalid("CertificateSigningRequest", "certificates.k8s.io",
                                  new["metadata"]["name"], [(
                                      "status.conditions", "Forbidden: updates may not remove "
                                      "a condition of type \"%s\"" % t, "FieldValueForbidden")])
    return new
