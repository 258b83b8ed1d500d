"""Small controllers: EndpointSlices and Endpoints from Services and Pods, a
one-node scheduler, namespace setup and termination, and CSR approval/signing."""

import base64
import copy
import threading
import time
import traceback

from . import registry, util
from .certs import CertError, csr_info
from .errors import ApiError
from .selection import LabelSelector

MANAGED_BY = "endpointslice-controller.k8s.io"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MAX_ENDPOINTS_PER_SLICE = 100

R = registry.lookup
PODS = R("", "v1", "pods")
SERVICES = R("", "v1", "services")
ENDPOINTS = R("", "v1", "endpoints")
SLICES = R("discovery.k8s.io", "v1", "endpointslices")
NAMESPACES = R("", "v1", "namespaces")
SERVICEACCOUNTS = R("", "v1", "serviceaccounts")
CONFIGMAPS = R("", "v1", "configmaps")
CSRS = R("certificates.k8s.io", "v1", "certificatesigningrequests")
NODES = R("", "v1", "nodes")


def pod_ready(pod):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def pod_ip(pod, family):
    """The pod's IP of an address family ("IPv4"/"IPv6") from status.podIPs (or podIP), or None."""
    st = pod.get("status") or {}
    ips = [e.get("ip") for e in st.get("podIPs") or []] or [st.get("podIP")]
    for ip in ips:
        if ip and (":" in ip) == (family == "IPv6"):
            return ip
    return None


def pod_in_endpoints(pod):
    st = pod.get("status") or {}
    if not st.get("podIP") and not st.get("podIPs"):
        return False
    phase = st.get("phase")
    if phase in ("Failed", "Succeeded"):
        return False
    return True


def resolve_port(pod, sp):
    """The container port a service port's targetPort names in this pod, or None."""
    tp = sp.get("targetPort", sp.get("port"))
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str) and tp.isdigit():
        return int(tp)
    proto = sp.get("protocol", "TCP")
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == tp and p.get("protocol", "TCP") == proto:
                return p.get("containerPort")
    return None


class Controllers:
    def __init__(self, app):
        self.app = app
        self.api = app.api
        self.store = app.store
        self.cond = threading.Condition()
        self.queue = []
        self.queued = set()
        self.stopped = False
        self.thread = None

    # ---------------------------------------------------------------- queue
    def enqueue(self, key):
        with self.cond:
            if key not in self.queued:
                self.queued.add(key)
                self.queue.append(key)
                self.cond.notify()

    def start(self):
        self.thread = threading.Thread(target=self._run, name="controllers", daemon=True)
        self.thread.start()
        threading.Thread(target=self._resync, name="controllers-resync", daemon=True).start()

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def _resync(self):
        while not self.stopped:
            time.sleep(2)
            self.resync_all()

    def resync_all(self):
        objs, _ = self.store.list("namespaces")
        for ns in objs:
            if ns["metadata"].get("deletionTimestamp"):
                self.enqueue(("namespace", "", ns["metadata"]["name"]))
        svcs, _ = self.store.list("services")
        for s in svcs:
            self.enqueue(("service", s["metadata"]["namespace"], s["metadata"]["name"]))
        pods, _ = self.store.list("pods")
        for p in pods:
            if not (p.get("spec") or {}).get("nodeName"):
                self.enqueue(("schedule", p["metadata"]["namespace"], p["metadata"]["name"]))
        csrs, _ = self.store.list(CSRS.storage)
        for c in csrs:
            if not (c.get("status") or {}).get("certificate"):
                self.enqueue(("csr", "", c["metadata"]["name"]))

    def _run(self):
        while True:
            with self.cond:
                while not self.queue and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
                key = self.queue.pop(0)
                self.queued.discard(key)
            try:
                self._process(key)
            except ApiError as e:
                if e.code != 404:
                    self.app.log("controller %s: %s" % (key, e.message))
            except Exception:
                traceback.print_exc()

    def _process(self, key):
        kind, ns, name = key
        if kind == "service":
            self.sync_service(ns, name)
        elif kind == "schedule":
            self.schedule(ns, name)
        elif kind == "namespace":
            self.sync_namespace(name)
        elif kind == "csr":
            self.sync_csr(name)

    # ---------------------------------------------------------------- events in
    def on_change(self, res, obj, old):
        st = res.storage
        md = obj["metadata"]
        if st == "services":
            self.enqueue(("service", md["namespace"], md["name"]))
        elif st == "pods":
            self._pod_changed(obj, old)
            if not (obj.get("spec") or {}).get("nodeName") and \
                    not md.get("deletionTimestamp"):
                self.enqueue(("schedule", md["namespace"], md["name"]))
        elif st == "nodes":
            pods, _ = self.store.list("pods")
            for p in pods:
                if not (p.get("spec") or {}).get("nodeName"):
                    self.enqueue(("schedule", p["metadata"]["namespace"], p["metadata"]["name"]))
            for s in self.store.list("services")[0]:
                self.enqueue(("service", s["metadata"]["namespace"], s["metadata"]["name"]))
        elif st == "namespaces":
            if md.get("deletionTimestamp"):
                self.enqueue(("namespace", "", md["name"]))
        elif st == CSRS.storage:
            self.enqueue(("csr", "", md["name"]))
        elif st in ("endpointslices.discovery.k8s.io", "endpoints"):
            svc = (md.get("labels") or {}).get(SERVICE_NAME_LABEL) if st != "endpoints" \
                else md["name"]
            if svc:
                self.enqueue(("service", md["namespace"], svc))

    def _pod_changed(self, pod, old):
        ns = pod["metadata"]["namespace"]
        labels = [pod["metadata"].get("labels") or {}]
        if old is not None:
            labels.append(old["metadata"].get("labels") or {})
        for s in self.store.list("services", ns)[0]:
            sel = (s.get("spec") or {}).get("selector")
            if sel and any(LabelSelector.from_map(sel).matches(lb) for lb in labels):
                self.enqueue(("service", ns, s["metadata"]["name"]))

    # ---------------------------------------------------------------- namespaces
    def setup_namespace(self, name):
        """Objects every namespace has: the default ServiceAccount and kube-root-ca.crt."""
        if self.store.get("serviceaccounts", name, "default") is None:
            try:
                self.api.create(SERVICEACCOUNTS, name, {"metadata": {"name": "default"}})
            except ApiError as e:
                if e.code != 409:
                    raise
        if self.store.get("configmaps", name, "kube-root-ca.crt") is None:
            try:
                self.api.create(CONFIGMAPS, name, {
                    "metadata": {"name": "kube-root-ca.crt", "annotations": {
                        "kubernetes.io/description": "Contains a CA bundle that can be used to "
                        "verify the kube-apiserver when using internal endpoints such as the "
                        "internal service IP or kubernetes.default.svc. No other usage is "
                        "guaranteed across distributions of Kubernetes clusters."}},
                    "data": {"ca.crt": self.app.ca.ca_pem().decode()}})
            except ApiError as e:
                if e.code != 409:
                    raise

    def sync_namespace(self, name):
        ns = self.store.get("namespaces", "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        for res in registry.RESOURCES:
            if not res.namespaced or not res.persisted or res.group == "events.k8s.io":
                continue
            objs, _ = self.store.list(res.storage, name)
            for o in list(objs):
                remaining += 1
                if o["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.api.delete(res, name, o["metadata"]["name"], {})
                except ApiError as e:
                    if e.code != 404:
                        raise
        if remaining == 0:
            with self.store.cond:
                ns = self.store.get("namespaces", "", name)
                if ns is None:
                    return
                if (ns.get("spec") or {}).get("finalizers"):
                    old = copy.deepcopy(ns)
                    ns["spec"]["finalizers"] = []
                    self.api._store_update(NAMESPACES, ns, old)
                self.api.finish_namespace(name)

    # ---------------------------------------------------------------- scheduler
    def schedule(self, ns, name):
        node_name = self.app.node_name
        if not node_name:
            return
        pod = self.store.get("pods", ns, name)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or \
                pod["metadata"].get("deletionTimestamp"):
            return
        spec = pod["spec"]
        if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        if spec.get("schedulingGates"):
            return
        node = self.store.get("nodes", "", node_name)
        if node is None or (node.get("spec") or {}).get("unschedulable"):
            return
        if not LabelSelector.from_map(spec.get("nodeSelector")).matches(
                node["metadata"].get("labels")):
            return
        try:
            self.app.bind_pod(ns, name, node_name, pod["metadata"]["uid"])
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    # ---------------------------------------------------------------- endpoints
    def sync_service(self, ns, name):
        svc = self.store.get("services", ns, name)
        slices = [s for s in self.store.list(SLICES.storage, ns)[0]
                  if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name and
                  (s["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY]
        spec = (svc or {}).get("spec") or {}
        if svc is None or not spec.get("selector") or spec.get("type") == "ExternalName":
            for s in slices:
                self._delete(SLICES, ns, s["metadata"]["name"])
            if svc is None or (spec.get("type") == "ExternalName"):
                ep = self.store.get("endpoints", ns, name)
                if ep is not None and not (ns == "default" and name == "kubernetes"):
                    self._delete(ENDPOINTS, ns, name)
            return
        sel = LabelSelector.from_map(spec["selector"])
        pods = [p for p in self.store.list("pods", ns)[0]
                if sel.matches(p["metadata"].get("labels")) and pod_in_endpoints(p)]
        nodes = {n["metadata"]["name"]: n for n in self.store.list("nodes")[0]}
        # One set of slices per address family of the Service (ipFamilies; IPv4 when unset), as
        # upstream's EndpointSlice controller; the Endpoints object carries the primary family only.
        families = spec.get("ipFamilies") or ["IPv4"]
        groups = {}
        for pod in pods:
            ports = []
            for sp in spec.get("ports") or []:
                port = resolve_port(pod, sp)
                if port is None:
                    continue
                ep = {"name": sp.get("name", ""), "port": port,
                      "protocol": sp.get("protocol", "TCP")}
                if sp.get("appProtocol"):
                    ep["appProtocol"] = sp["appProtocol"]
                ports.append(ep)
            key = tuple(sorted((p["name"], p["port"], p["protocol"]) for p in ports))
            groups.setdefault(key, (ports, []))[1].append(pod)
        desired = []
        for family in families:
            of_family = []
            for key in sorted(groups):
                ports, gpods = groups[key]
                eps = [self._endpoint(p, svc, nodes, family) for p in gpods]
                eps = [e for e in eps if e is not None]
                eps.sort(key=lambda e: (e["targetRef"]["name"]))
                for i in range(0, len(eps), MAX_ENDPOINTS_PER_SLICE):
                    of_family.append((family, ports, eps[i:i + MAX_ENDPOINTS_PER_SLICE]))
            desired.extend(of_family or [(family, [], None)])  # a placeholder per family
        self._reconcile_slices(svc, slices, desired)
        self._sync_endpoints(svc, groups, nodes, families[0])

    def _endpoint(self, pod, svc, nodes, family="IPv4"):
        ip = pod_ip(pod, family)
        if not ip:
            return None
        serving = pod_ready(pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = bool(svc["spec"].get("publishNotReadyAddresses")) or (serving and not terminating)
        ep = {"addresses": [ip],
              "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
              "targetRef": {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                            "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}
        spec = pod.get("spec") or {}
        if spec.get("hostname") and spec.get("subdomain") == svc["metadata"]["name"]:
            ep["hostname"] = spec["hostname"]
        if spec.get("nodeName"):
            ep["nodeName"] = spec["nodeName"]
            node = nodes.get(spec["nodeName"])
            zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(
                "topology.kubernetes.io/zone")
            if zone:
                ep["zone"] = zone
        return ep

    def _slice_labels(self, svc):
        labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items()
                  if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)}
        labels[SERVICE_NAME_LABEL] = svc["metadata"]["name"]
        labels[MANAGED_BY_LABEL] = MANAGED_BY
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        return labels

    def _reconcile_slices(self, svc, existing, desired):
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        labels = self._slice_labels(svc)
        owner = [{"apiVersion": "v1", "kind": "Service", "name": name,
                  "uid": svc["metadata"]["uid"], "controller": True,
                  "blockOwnerDeletion": True}]
        existing = sorted(existing, key=lambda s: s["metadata"]["name"])
        unused = list(existing)
        for family, ports, eps in desired:
            # prefer an existing slice of the family with the same ports (addressType is immutable)
            match = None
            for s in unused:
                if s.get("addressType") == family and s.get("ports") == ports:
                    match = s
                    break
            if match is None:
                match = next((s for s in unused if s.get("addressType") == family), None)
            body = {"addressType": family, "endpoints": eps, "ports": ports}
            if match is not None:
                unused.remove(match)
                same = all(match.get(k) == v for k, v in body.items()) and \
                    match["metadata"].get("labels") == labels and \
                    match["metadata"].get("ownerReferences") == owner
                if same:
                    continue
                new = copy.deepcopy(match)
                new.update(body)
                new["metadata"]["labels"] = labels
                new["metadata"]["ownerReferences"] = owner
                new["metadata"].setdefault("annotations", {})[
                    "endpoints.kubernetes.io/last-change-trigger-time"] = util.now_ts()
                try:
                    self.api.update(SLICES, ns, new["metadata"]["name"], new)
                except ApiError as e:
                    if e.code == 409:
                        self.enqueue(("service", ns, name))
                    else:
                        raise
            else:
                obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                       "metadata": {"generateName": name + "-", "labels": labels,
                                    "ownerReferences": owner, "annotations": {
                                        "endpoints.kubernetes.io/last-change-trigger-time":
                                        util.now_ts()}}}
                obj.update(body)
                self.api.create(SLICES, ns, obj)
        for s in unused:
            self._delete(SLICES, ns, s["metadata"]["name"])

    def _sync_endpoints(self, svc, groups, nodes, family="IPv4"):
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        subsets = []
        for key in sorted(groups):
            ports, pods = groups[key]
            ready, not_ready = [], []
            for pod in sorted(pods, key=lambda p: pod_ip(p, family) or ""):
                ip = pod_ip(pod, family)
                if not ip:
                    continue
                terminating = bool(pod["metadata"].get("deletionTimestamp"))
                addr = {"ip": ip, "targetRef": {
                    "kind": "Pod", "namespace": ns, "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"]}}
                if (pod.get("spec") or {}).get("nodeName"):
                    addr["nodeName"] = pod["spec"]["nodeName"]
                if publish or (pod_ready(pod) and not terminating):
                    ready.append(addr)
                elif not terminating:
                    not_ready.append(addr)
            if not ports or not (ready or not_ready):
                continue
            ss = {}
            if ready:
                ss["addresses"] = ready
            if not_ready:
                ss["notReadyAddresses"] = not_ready
            ss["ports"] = [{k: v for k, v in p.items() if not (k == "name" and v == "")}
                           for p in ports]
            subsets.append(ss)
        labels = dict(svc["metadata"].get("labels") or {})
        labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
        cur = self.store.get("endpoints", ns, name)
        if cur is None:
            obj = {"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": name, "labels": labels}}
            if subsets:
                obj["subsets"] = subsets
            try:
                self.api.create(ENDPOINTS, ns, obj)
            except ApiError as e:
                if e.code != 409:
                    raise
            return
        if cur.get("subsets", []) == subsets and cur["metadata"].get("labels") == labels:
            return
        new = copy.deepcopy(cur)
        new["metadata"]["labels"] = labels
        if subsets:
            new["subsets"] = subsets
        else:
            new.pop("subsets", None)
        try:
            self.api.update(ENDPOINTS, ns, name, new)
        except ApiError as e:
            if e.code == 409:
                self.enqueue(("service", ns, name))
            else:
                raise

    def _delete(self, res, ns, name):
        try:
            self.api.delete(res, ns, name, {})
        except ApiError as e:
            if e.code != 404:
                raise

    # ---------------------------------------------------------------- CSRs
    def sync_csr(self, name):
        csr = self.store.get(CSRS.storage, "", name)
        if csr is None:
            return
        spec, st = csr.get("spec") or {}, csr.get("status") or {}
        types = {c.get("type") for c in st.get("conditions") or []
                 if c.get("status", "True") == "True"}
        if "Denied" in types or "Failed" in types or st.get("certificate"):
            return
        signer = spec.get("signerName", "")
        known = ("kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving",
                 "kubernetes.io/kube-apiserver-client")
        if signer not in known:
            return
        try:
            pem = base64.b64decode(spec.get("request", ""))
            cn, orgs, sans, verified = csr_info(pem)
        except (CertError, ValueError) as e:
            return self._csr_condition(csr, "Failed", "SignerValidationFailure",
                                       "invalid certificate request: %s" % e)
        usages = set(spec.get("usages") or [])
        if "Approved" not in types:
            reason = self._auto_approve(spec, signer, cn, orgs, usages)
            if reason is None:
                return
            return self._csr_condition(csr, "Approved", "AutoApproved", reason)
        # approved: sign
        problem = self._signer_check(signer, cn, orgs, usages, sans, verified)
        if problem:
            return self._csr_condition(csr, "Failed", "SignerValidationFailure", problem)
        try:
            cert = self.app.ca.sign_csr(pem, sorted(usages), spec.get("expirationSeconds"),
                                        copy_sans=signer == "kubernetes.io/kubelet-serving")
        except CertError as e:
            return self._csr_condition(csr, "Failed", "SignerValidationFailure", str(e))
        new = copy.deepcopy(csr)
        new.setdefault("status", {})["certificate"] = base64.b64encode(cert).decode()
        try:
            self.api.update(CSRS, "", name, new, sub="status")
        except ApiError as e:
            if e.code == 409:
                self.enqueue(("csr", "", name))
            else:
                raise

    def _auto_approve(self, spec, signer, cn, orgs, usages):
        user = spec.get("username", "")
        groups = spec.get("groups") or []
        if signer == "kubernetes.io/kube-apiserver-client-kubelet":
            if not cn.startswith("system:node:") or orgs != ["system:nodes"]:
                return None
            if not usages <= {"digital signature", "key encipherment", "client auth"} or \
                    "client auth" not in usages:
                return None
            if user.startswith("system:bootstrap:") or "system:bootstrappers" in groups:
                return "Auto approving kubelet client certificate after SubjectAccessReview."
            if "system:nodes" in groups and user == cn:
                return ("Auto approving self kubelet client certificate after "
                        "SubjectAccessReview.")
            return None
        if signer == "kubernetes.io/kubelet-serving":
            if "system:nodes" in groups and user == cn and cn.startswith("system:node:") and \
                    orgs == ["system:nodes"] and "server auth" in usages:
                return "Auto approving kubelet serving certificate."
        return None

    @staticmethod
    def _signer_check(signer, cn, orgs, usages, sans, verified):
        if not verified:
            return "the certificate request signature does not verify"
        if signer == "kubernetes.io/kube-apiserver-client-kubelet":
            if not cn.startswith("system:node:") or orgs != ["system:nodes"]:
                return "subject must be O=system:nodes, CN=system:node:<name>"
            if "client auth" not in usages:
                return "usages must include client auth"
        if signer == "kubernetes.io/kubelet-serving":
            if not cn.startswith("system:node:") or orgs != ["system:nodes"]:
                return "subject must be O=system:nodes, CN=system:node:<name>"
            if "server auth" not in usages:
                return "usages must include server auth"
            if not sans:
                return "at least one DNS or IP subjectAltName is required"
        if signer == "kubernetes.io/kube-apiserver-client" and "client auth" not in usages:
            return "usages must include client auth"
        return None

    def _csr_condition(self, csr, typ, reason, message):
        new = copy.deepcopy(csr)
        now = util.now_ts()
        new.setdefault("status", {}).setdefault("conditions", []).append({
            "type": typ, "status": "True", "reason": reason, "message": message,
            "lastUpdateTime": now, "lastTransitionTime": now})
        sub = "approval" if typ in ("Approved", "Denied") else "status"
        try:
            self.api.update(CSRS, "", csr["metadata"]["name"], new, sub=sub)
        except ApiError as e:
            if e.code != 409:
                raise
        self.enqueue(("csr", "", csr["metadata"]["name"]))
