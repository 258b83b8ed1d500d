"""Server-side printing: meta.k8s.io/v1 Table, and PartialObjectMetadata."""

import time

from . import util


def partial(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def _col(name, typ="string", priority=0, fmt="", desc=""):
    return {"name": name, "type": typ, "format": fmt, "description": desc or name,
            "priority": priority}


NAME = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = _col("Age", desc="CreationTimestamp is a timestamp representing the server time when "
           "this object was created.")


def _age(o):
    return util.age(o.get("metadata", {}).get("creationTimestamp"))


def _name(o):
    return o.get("metadata", {}).get("name", "")


# ------------------------------------------------------------------ pods

def _pod_cells(p):
    spec, st = p.get("spec") or {}, p.get("status") or {}
    md = p.get("metadata") or {}
    restarts, ready, total = 0, 0, len(spec.get("containers") or [])
    last_restart = None
    reason = st.get("reason") or st.get("phase") or ""
    initializing = False
    inits = st.get("initContainerStatuses") or []
    for i, c in enumerate(inits):
        restarts += c.get("restartCount", 0)
        state = c.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + (term.get("reason") or ("Signal:%d" % term["signal"]
                                if term.get("signal") else "ExitCode:%d" % term.get("exitCode", 0)))
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = "Init:%d/%d" % (i, len(spec.get("initContainers") or []))
        initializing = True
        break
    if not initializing:
        has_running = False
        for c in reversed(st.get("containerStatuses") or []):
            restarts += c.get("restartCount", 0)
            state = c.get("state") or {}
            last_term = (c.get("lastState") or {}).get("terminated")
            if last_term and last_term.get("finishedAt"):
                t = util.parse_time(last_term["finishedAt"])
                last_restart = t if last_restart is None else max(last_restart, t)
            if state.get("waiting") and state["waiting"].get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") and state["terminated"].get("reason"):
                reason = state["terminated"]["reason"]
            elif state.get("terminated"):
                t = state["terminated"]
                reason = ("Signal:%d" % t["signal"]) if t.get("signal") else \
                    "ExitCode:%d" % t.get("exitCode", 0)
            elif c.get("ready") and state.get("running"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _pod_ready(p) else "NotReady"
    if md.get("deletionTimestamp"):
        reason = "Unknown" if st.get("reason") == "NodeLost" else "Terminating"
    rs = str(restarts)
    if last_restart is not None and restarts:
        rs = "%d (%s ago)" % (restarts, util.human_duration(time.time() - last_restart))
    gates = spec.get("readinessGates") or []
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        g = "%d/%d" % (sum(1 for x in gates if conds.get(x.get("conditionType")) == "True"),
                       len(gates))
    else:
        g = "<none>"
    return [_name(p), "%d/%d" % (ready, total), reason, rs, _age(p),
            st.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            st.get("nominatedNodeName") or "<none>", g]


def _pod_ready(p):
    for c in (p.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


POD_COLS = [NAME, _col("Ready", desc="The aggregate readiness state of this pod for "
                       "accepting traffic."),
            _col("Status", desc="The aggregate status of the containers in this pod."),
            _col("Restarts", desc="The number of times the containers in this pod have been "
                 "restarted and when the last container in this pod has restarted."),
            AGE, _col("IP", priority=1, desc="IP address allocated to the pod."),
            _col("Node", priority=1, desc="Name of the node this pod is assigned to."),
            _col("Nominated Node", priority=1, desc="Name of the node where this pod is "
                 "nominated to run."),
            _col("Readiness Gates", priority=1, desc="If specified, all readiness gates will be "
                 "evaluated for pod readiness.")]


# ------------------------------------------------------------------ nodes

def _node_cells(n):
    md, spec, st = n.get("metadata") or {}, n.get("spec") or {}, n.get("status") or {}
    status = []
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    if "Ready" in conds:
        status.append("Ready" if conds["Ready"] == "True" else "NotReady")
    else:
        status.append("Unknown")
    if spec.get("unschedulable"):
        status.append("SchedulingDisabled")
    roles = set()
    for k, v in (md.get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.add(k[len("node-role.kubernetes.io/"):])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    addrs = {}
    for a in st.get("addresses") or []:
        addrs.setdefault(a.get("type"), a.get("address"))
    info = st.get("nodeInfo") or {}
    return [_name(n), ",".join(status), ",".join(sorted(roles)) or "<none>", _age(n),
            info.get("kubeletVersion", ""), addrs.get("InternalIP") or "<none>",
            addrs.get("ExternalIP") or "<none>", info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion")
            or "<unknown>"]


NODE_COLS = [NAME, _col("Status", desc="The status of the node"),
             _col("Roles", desc="The roles of the node"), AGE,
             _col("Version", desc="Kubelet Version reported by the node."),
             _col("Internal-IP", priority=1, desc="List of internal IPs."),
             _col("External-IP", priority=1, desc="List of external IPs."),
             _col("OS-Image", priority=1, desc="OS Image reported by the node."),
             _col("Kernel-Version", priority=1, desc="Kernel Version reported by the node."),
             _col("Container-Runtime", priority=1, desc="Container Runtime Version reported "
                  "by the node.")]


# ------------------------------------------------------------------ services

def _svc_cells(s):
    spec, st = s.get("spec") or {}, s.get("status") or {}
    typ = spec.get("type", "ClusterIP")
    ext = list(spec.get("externalIPs") or [])
    if typ == "LoadBalancer":
        ing = [i.get("ip") or i.get("hostname") for i in
               (st.get("loadBalancer") or {}).get("ingress") or []]
        ext = [x for x in ing if x] + ext
        ext_s = ",".join(ext) if ext else "<pending>"
    elif typ == "ExternalName":
        ext_s = spec.get("externalName", "")
    else:
        ext_s = ",".join(ext) if ext else "<none>"
    ports = []
    for p in spec.get("ports") or []:
        if p.get("nodePort"):
            ports.append("%d:%d/%s" % (p.get("port", 0), p["nodePort"], p.get("protocol", "TCP")))
        else:
            ports.append("%d/%s" % (p.get("port", 0), p.get("protocol", "TCP")))
    sel = spec.get("selector") or {}
    return [_name(s), typ, spec.get("clusterIP") or "<none>", ext_s,
            ",".join(ports) or "<none>", _age(s),
            ",".join("%s=%s" % kv for kv in sorted(sel.items())) or "<none>"]


SVC_COLS = [NAME, _col("Type", desc="The type of the service."),
            _col("Cluster-IP", desc="The cluster IP of the service."),
            _col("External-IP", desc="The external IP of the service."),
            _col("Port(s)", desc="The ports of the service."), AGE,
            _col("Selector", priority=1, desc="The selector of the service.")]


# ------------------------------------------------------------------ endpoint slices

def _eps_cells(e):
    ports = [str(p["port"]) if p.get("port") is not None else "<unset>"
             for p in e.get("ports") or []]
    addrs = []
    for ep in e.get("endpoints") or []:
        addrs.extend(ep.get("addresses") or [])
    if not addrs:
        a = "<unset>"
    elif len(addrs) > 3:
        a = ",".join(addrs[:3]) + " + %d more..." % (len(addrs) - 3)
    else:
        a = ",".join(addrs)
    return [_name(e), e.get("addressType", ""), ",".join(ports) or "<unset>", a, _age(e)]


EPS_COLS = [NAME, _col("AddressType", desc="The IP protocol for this slice"),
            _col("Ports", desc="The ports of this slice"),
            _col("Endpoints", desc="The endpoints of this slice"), AGE]


def _ep_cells(e):
    out = []
    for ss in e.get("subsets") or []:
        for a in ss.get("addresses") or []:
            ports = ss.get("ports") or []
            if ports:
                out.extend("%s:%d" % (a.get("ip"), p.get("port", 0)) for p in ports)
            else:
                out.append(a.get("ip"))
    if not out:
        s = "<none>"
    elif len(out) > 3:
        s = ",".join(out[:3]) + " + %d more..." % (len(out) - 3)
    else:
        s = ",".join(out)
    return [_name(e), s, _age(e)]


# ------------------------------------------------------------------ events

def _event_cells(e):
    io = e.get("involvedObject") or {}
    last = e.get("lastTimestamp") or e.get("eventTime")
    first = e.get("firstTimestamp") or e.get("eventTime")
    series = e.get("series")
    if series:
        last_seen = "%s (x%d over %s)" % (
            util.age(series.get("lastObservedTime")), series.get("count", 0), util.age(first))
    elif e.get("count", 0) > 1:
        last_seen = "%s (x%d over %s)" % (util.age(last), e["count"], util.age(first))
    else:
        last_seen = util.age(last)
    obj = "%s/%s" % ((io.get("kind") or "").lower(), io.get("name", ""))
    src = e.get("source") or {}
    source = src.get("component") or e.get("reportingComponent") or ""
    if src.get("host"):
        source += ", " + src["host"]
    return [last_seen, e.get("type", ""), e.get("reason", ""), obj, e.get("message", ""),
            io.get("fieldPath", ""), source, util.age(first), e.get("count", 1) or 1, _name(e)]


EVENT_COLS = [_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"),
              _col("Message"), _col("Subobject", priority=1), _col("Source", priority=1),
              _col("First Seen", priority=1), _col("Count", "integer", priority=1),
              _col("Name", priority=1, fmt="name")]


# ------------------------------------------------------------------ misc

def _csr_cells(c):
    spec, st = c.get("spec") or {}, c.get("status") or {}
    conds = [x.get("type") for x in st.get("conditions") or [] if x.get("status", "True") == "True"]
    if st.get("certificate"):
        conds.append("Issued")
    dur = spec.get("expirationSeconds")
    return [_name(c), _age(c), spec.get("signerName", ""), spec.get("username", ""),
            util.human_duration(dur) if dur else "<none>", ",".join(conds) or "Pending"]


def _ns_cells(n):
    return [_name(n), (n.get("status") or {}).get("phase", ""), _age(n)]


def _lease_cells(le):
    return [_name(le), (le.get("spec") or {}).get("holderIdentity") or "", _age(le)]


def _cm_cells(c):
    return [_name(c), len(c.get("data") or {}) + len(c.get("binaryData") or {}), _age(c)]


def _secret_cells(s):
    return [_name(s), s.get("type", ""), len(s.get("data") or {}), _age(s)]


def _sa_cells(s):
    return [_name(s), len(s.get("secrets") or []), _age(s)]


def _default_cells(o):
    return [_name(o), o.get("metadata", {}).get("creationTimestamp")]


PRINTERS = {
    "pods": (POD_COLS, _pod_cells),
    "nodes": (NODE_COLS, _node_cells),
    "services": (SVC_COLS, _svc_cells),
    "endpointslices.discovery.k8s.io": (EPS_COLS, _eps_cells),
    "endpoints": ([NAME, _col("Endpoints"), AGE], _ep_cells),
    "events": (EVENT_COLS, _event_cells),
    "namespaces": ([NAME, _col("Status"), AGE], _ns_cells),
    "leases.coordination.k8s.io": ([NAME, _col("Holder"), AGE], _lease_cells),
    "configmaps": ([NAME, _col("Data", "integer"), AGE], _cm_cells),
    "secrets": ([NAME, _col("Type"), _col("Data", "integer"), AGE], _secret_cells),
    "serviceaccounts": ([NAME, _col("Secrets", "integer"), AGE], _sa_cells),
    "certificatesigningrequests.certificates.k8s.io": (
        [NAME, AGE, _col("SignerName"), _col("Requestor"), _col("RequestedDuration"),
         _col("Condition")], _csr_cells),
}
DEFAULT = ([NAME, _col("Created At", "date", desc="CreationTimestamp is a timestamp "
                       "representing the server time when this object was created.")],
           _default_cells)


def table_for(res, objs, rv, cont="", include="Metadata", remaining=None, watch=False):
    key = res.storage
    cols, fn = PRINTERS.get(key, DEFAULT)
    if key == "events" and res.group == "events.k8s.io":
        cols, fn = DEFAULT
    rows = []
    for o in objs:
        row = {"cells": fn(o)}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = partial(o)
        rows.append(row)
    md = {"resourceVersion": rv}
    if cont:
        md["continue"] = cont
        if remaining is not None:
            md["remainingItemCount"] = remaining
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md,
            "columnDefinitions": cols, "rows": rows}
