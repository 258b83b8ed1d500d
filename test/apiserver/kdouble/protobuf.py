"""Decoding of Kubernetes protobuf request bodies.

A body is the magic prefix b"k8s\\x00" followed by a runtime.Unknown message
(typeMeta=1, raw=2, contentEncoding=3, contentType=4); raw holds the object's
generated protobuf message.  A generic wire-format reader turns bytes into
(field number, wire type, value) triples and the tables below name the fields
of the messages kubectl's typed commands send.

Go's protobuf marshalling always writes non-pointer scalars, even zero values;
JSON omits them (omitempty).  Fields marked PTR are pointers in Go, so a zero
value that is present on the wire is kept."""

import base64
import datetime
import json
import struct

MAGIC = b"k8s\x00"


class ProtobufError(Exception):
    pass


# ------------------------------------------------------------------ wire format

def _varint(buf, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def fields(buf):
    """Yield (field number, wire type, value) for every field of a message."""
    pos = 0
    n = len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        fno, wt = key >> 3, key & 7
        if fno == 0:
            raise ProtobufError("field number 0")
        if wt == 0:
            v, pos = _varint(buf, pos)
        elif wt == 1:
            if pos + 8 > n:
                raise ProtobufError("truncated fixed64")
            v = buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            if pos + ln > n:
                raise ProtobufError("truncated length-delimited field %d" % fno)
            v = bytes(buf[pos:pos + ln])
            pos += ln
        elif wt == 5:
            if pos + 4 > n:
                raise ProtobufError("truncated fixed32")
            v = buf[pos:pos + 4]
            pos += 4
        else:
            raise ProtobufError("unsupported wire type %d" % wt)
        yield fno, wt, v


def _signed(v, bits=64):
    if v >= 1 << 63:
        v -= 1 << 64
    if bits == 32:
        v &= 0xFFFFFFFF
        if v >= 1 << 31:
            v -= 1 << 32
    return v


# ------------------------------------------------------------------ schema

PTR, REP, INLINE = 1, 2, 4

# message name -> {field number: (json name, type, flags)}
# types: s string, b bytes, i32, i64, bool, f64, map:<value type>, or a message name
M = {}


M["TypeMeta"] = {1: ("apiVersion", "s", 0), 2: ("kind", "s", 0)}
M["Unknown"] = {1: ("typeMeta", "TypeMeta", 0), 2: ("raw", "b", 0),
                3: ("contentEncoding", "s", 0), 4: ("contentType", "s", 0)}

# meta/v1
M["ObjectMeta"] = {
    1: ("name", "s", 0), 2: ("generateName", "s", 0), 3: ("namespace", "s", 0),
    4: ("selfLink", "s", 0), 5: ("uid", "s", 0), 6: ("resourceVersion", "s", 0),
    7: ("generation", "i64", 0), 8: ("creationTimestamp", "Time", 0),
    9: ("deletionTimestamp", "Time", PTR), 10: ("deletionGracePeriodSeconds", "i64", PTR),
    11: ("labels", "map:s", 0), 12: ("annotations", "map:s", 0),
    13: ("ownerReferences", "OwnerReference", REP), 14: ("finalizers", "s", REP),
    17: ("managedFields", "ManagedFieldsEntry", REP),
}
M["OwnerReference"] = {1: ("kind", "s", 0), 3: ("name", "s", 0), 4: ("uid", "s", 0),
                       5: ("apiVersion", "s", 0), 6: ("controller", "bool", PTR),
                       7: ("blockOwnerDeletion", "bool", PTR)}
M["ManagedFieldsEntry"] = {1: ("manager", "s", 0), 2: ("operation", "s", 0),
                           3: ("apiVersion", "s", 0), 4: ("time", "Time", PTR),
                           6: ("fieldsType", "s", 0), 7: ("fieldsV1", "FieldsV1", PTR),
                           8: ("subresource", "s", 0)}
M["LabelSelector"] = {1: ("matchLabels", "map:s", 0),
                      2: ("matchExpressions", "LabelSelectorRequirement", REP)}
M["LabelSelectorRequirement"] = {1: ("key", "s", 0), 2: ("operator", "s", 0),
                                 3: ("values", "s", REP)}
M["DeleteOptions"] = {1: ("gracePeriodSeconds", "i64", PTR),
                      2: ("preconditions", "Preconditions", PTR),
                      3: ("orphanDependents", "bool", PTR),
                      4: ("propagationPolicy", "s", PTR), 5: ("dryRun", "s", REP),
                      6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool", PTR)}
M["Preconditions"] = {1: ("uid", "s", PTR), 2: ("resourceVersion", "s", PTR)}
M["Condition"] = {1: ("type", "s", 0), 2: ("status", "s", 0),
                  3: ("observedGeneration", "i64", 0), 4: ("lastTransitionTime", "Time", 0),
                  5: ("reason", "s", 0), 6: ("message", "s", 0)}

# core/v1
M["Pod"] = {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "PodSpec", 0),
            3: ("status", "PodStatus", 0)}
M["PodSpec"] = {
    1: ("volumes", "Volume", REP), 2: ("containers", "Container", REP),
    3: ("restartPolicy", "s", 0), 4: ("terminationGracePeriodSeconds", "i64", PTR),
    5: ("activeDeadlineSeconds", "i64", PTR), 6: ("dnsPolicy", "s", 0),
    7: ("nodeSelector", "map:s", 0), 8: ("serviceAccountName", "s", 0),
    9: ("serviceAccount", "s", 0), 10: ("nodeName", "s", 0), 11: ("hostNetwork", "bool", 0),
    12: ("hostPID", "bool", 0), 13: ("hostIPC", "bool", 0),
    14: ("securityContext", "PodSecurityContext", PTR),
    15: ("imagePullSecrets", "LocalObjectReference", REP), 16: ("hostname", "s", 0),
    17: ("subdomain", "s", 0), 19: ("schedulerName", "s", 0),
    20: ("initContainers", "Container", REP),
    21: ("automountServiceAccountToken", "bool", PTR), 22: ("tolerations", "Toleration", REP),
    23: ("hostAliases", "HostAlias", REP), 24: ("priorityClassName", "s", 0),
    25: ("priority", "i32", PTR), 27: ("shareProcessNamespace", "bool", PTR),
    29: ("runtimeClassName", "s", PTR), 30: ("enableServiceLinks", "bool", PTR),
    31: ("preemptionPolicy", "s", PTR), 35: ("setHostnameAsFQDN", "bool", PTR),
    37: ("hostUsers", "bool", PTR),
}
M["PodSecurityContext"] = {4: ("runAsUser", "i64", PTR), 5: ("runAsNonRoot", "bool", PTR),
                           6: ("runAsGroup", "i64", PTR), 3: ("supplementalGroups", "i64", REP),
                           7: ("fsGroup", "i64", PTR)}
M["PodStatus"] = {1: ("phase", "s", 0), 3: ("message", "s", 0), 4: ("reason", "s", 0),
                  5: ("hostIP", "s", 0), 6: ("podIP", "s", 0)}
M["Container"] = {
    1: ("name", "s", 0), 2: ("image", "s", 0), 3: ("command", "s", REP), 4: ("args", "s", REP),
    5: ("workingDir", "s", 0), 6: ("ports", "ContainerPort", REP), 7: ("env", "EnvVar", REP),
    8: ("resources", "ResourceRequirements", 0), 9: ("volumeMounts", "VolumeMount", REP),
    13: ("terminationMessagePath", "s", 0), 14: ("imagePullPolicy", "s", 0),
    15: ("securityContext", "SecurityContext", PTR), 16: ("stdin", "bool", 0),
    17: ("stdinOnce", "bool", 0), 18: ("tty", "bool", 0),
    20: ("terminationMessagePolicy", "s", 0), 24: ("restartPolicy", "s", PTR),
}
M["SecurityContext"] = {1: ("capabilities", "Capabilities", PTR), 2: ("privileged", "bool", PTR),
                        4: ("runAsUser", "i64", PTR), 5: ("runAsNonRoot", "bool", PTR),
                        6: ("readOnlyRootFilesystem", "bool", PTR),
                        7: ("allowPrivilegeEscalation", "bool", PTR),
                        8: ("runAsGroup", "i64", PTR)}
M["Capabilities"] = {1: ("add", "s", REP), 2: ("drop", "s", REP)}
M["ContainerPort"] = {1: ("name", "s", 0), 2: ("hostPort", "i32", 0),
                      3: ("containerPort", "i32", 0), 4: ("protocol", "s", 0),
                      5: ("hostIP", "s", 0)}
M["EnvVar"] = {1: ("name", "s", 0), 2: ("value", "s", 0), 3: ("valueFrom", "EnvVarSource", PTR)}
M["EnvVarSource"] = {1: ("fieldRef", "ObjectFieldSelector", PTR),
                     3: ("configMapKeyRef", "KeySelector", PTR),
                     4: ("secretKeyRef", "KeySelector", PTR)}
M["ObjectFieldSelector"] = {1: ("apiVersion", "s", 0), 2: ("fieldPath", "s", 0)}
M["KeySelector"] = {1: ("localObjectReference", "LocalObjectReference", INLINE),
                    2: ("key", "s", 0), 3: ("optional", "bool", PTR)}
M["LocalObjectReference"] = {1: ("name", "s", 0)}
M["ResourceRequirements"] = {1: ("limits", "map:Quantity", 0), 2: ("requests", "map:Quantity", 0)}
M["VolumeMount"] = {1: ("name", "s", 0), 2: ("readOnly", "bool", 0), 3: ("mountPath", "s", 0),
                    4: ("subPath", "s", 0), 5: ("mountPropagation", "s", PTR),
                    6: ("subPathExpr", "s", 0)}
M["Volume"] = {1: ("name", "s", 0), 2: ("volumeSource", "VolumeSource", INLINE)}
M["VolumeSource"] = {1: ("hostPath", "HostPathVolumeSource", PTR),
                     2: ("emptyDir", "EmptyDirVolumeSource", PTR),
                     6: ("secret", "SecretVolumeSource", PTR),
                     19: ("configMap", "ConfigMapVolumeSource", PTR)}
M["HostPathVolumeSource"] = {1: ("path", "s", 0), 2: ("type", "s", PTR)}
M["EmptyDirVolumeSource"] = {1: ("medium", "s", 0), 2: ("sizeLimit", "Quantity", PTR)}
M["KeyToPath"] = {1: ("key", "s", 0), 2: ("path", "s", 0), 3: ("mode", "i32", PTR)}
M["SecretVolumeSource"] = {1: ("secretName", "s", 0), 2: ("items", "KeyToPath", REP),
                           3: ("defaultMode", "i32", PTR), 4: ("optional", "bool", PTR)}
M["ConfigMapVolumeSource"] = {1: ("localObjectReference", "LocalObjectReference", INLINE),
                              2: ("items", "KeyToPath", REP), 3: ("defaultMode", "i32", PTR),
                              4: ("optional", "bool", PTR)}
M["Toleration"] = {1: ("key", "s", 0), 2: ("operator", "s", 0), 3: ("value", "s", 0),
                   4: ("effect", "s", 0), 5: ("tolerationSeconds", "i64", PTR)}
M["HostAlias"] = {1: ("ip", "s", 0), 2: ("hostnames", "s", REP)}

M["Namespace"] = {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "NamespaceSpec", 0),
                  3: ("status", "NamespaceStatus", 0)}
M["NamespaceSpec"] = {1: ("finalizers", "s", REP)}
M["NamespaceStatus"] = {1: ("phase", "s", 0)}

M["Service"] = {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "ServiceSpec", 0),
                3: ("status", "ServiceStatus", 0)}
M["ServiceSpec"] = {
    1: ("ports", "ServicePort", REP), 2: ("selector", "map:s", 0), 3: ("clusterIP", "s", 0),
    4: ("type", "s", 0), 5: ("externalIPs", "s", REP), 7: ("sessionAffinity", "s", 0),
    8: ("loadBalancerIP", "s", 0), 9: ("loadBalancerSourceRanges", "s", REP),
    10: ("externalName", "s", 0), 11: ("externalTrafficPolicy", "s", 0),
    12: ("healthCheckNodePort", "i32", 0), 13: ("publishNotReadyAddresses", "bool", 0),
    17: ("ipFamilyPolicy", "s", PTR), 18: ("clusterIPs", "s", REP),
    19: ("ipFamilies", "s", REP), 20: ("allocateLoadBalancerNodePorts", "bool", PTR),
    21: ("loadBalancerClass", "s", PTR), 22: ("internalTrafficPolicy", "s", PTR),
    23: ("trafficDistribution", "s", PTR),
}
M["ServicePort"] = {1: ("name", "s", 0), 2: ("protocol", "s", 0), 3: ("port", "i32", 0),
                    4: ("targetPort", "IntOrString", 0), 5: ("nodePort", "i32", 0),
                    6: ("appProtocol", "s", PTR)}
M["ServiceStatus"] = {1: ("loadBalancer", "LoadBalancerStatus", 0),
                      2: ("conditions", "Condition", REP)}
M["LoadBalancerStatus"] = {1: ("ingress", "LoadBalancerIngress", REP)}
M["LoadBalancerIngress"] = {1: ("ip", "s", 0), 2: ("hostname", "s", 0),
                            3: ("ipMode", "s", PTR)}

M["ConfigMap"] = {1: ("metadata", "ObjectMeta", 0), 2: ("data", "map:s", 0),
                  3: ("binaryData", "map:b", 0), 4: ("immutable", "bool", PTR)}
M["Secret"] = {1: ("metadata", "ObjectMeta", 0), 2: ("data", "map:b", 0), 3: ("type", "s", 0),
               4: ("stringData", "map:s", 0), 5: ("immutable", "bool", PTR)}
M["ServiceAccount"] = {1: ("metadata", "ObjectMeta", 0), 2: ("secrets", "ObjectReference", REP),
                       3: ("automountServiceAccountToken", "bool", PTR),
                       4: ("imagePullSecrets", "LocalObjectReference", REP)}
M["ObjectReference"] = {1: ("kind", "s", 0), 2: ("namespace", "s", 0), 3: ("name", "s", 0),
                        4: ("uid", "s", 0), 5: ("apiVersion", "s", 0),
                        6: ("resourceVersion", "s", 0), 7: ("fieldPath", "s", 0)}
M["Binding"] = {1: ("metadata", "ObjectMeta", 0), 2: ("target", "ObjectReference", 0)}
M["Event"] = {1: ("metadata", "ObjectMeta", 0), 2: ("involvedObject", "ObjectReference", 0),
              3: ("reason", "s", 0), 4: ("message", "s", 0), 5: ("source", "EventSource", 0),
              6: ("firstTimestamp", "Time", 0), 7: ("lastTimestamp", "Time", 0),
              8: ("count", "i32", 0), 9: ("type", "s", 0), 10: ("eventTime", "MicroTime", 0),
              11: ("series", "EventSeries", PTR), 12: ("action", "s", 0),
              13: ("related", "ObjectReference", PTR), 14: ("reportingComponent", "s", 0),
              15: ("reportingInstance", "s", 0)}
M["EventSource"] = {1: ("component", "s", 0), 2: ("host", "s", 0)}
M["EventSeries"] = {1: ("count", "i32", 0), 2: ("lastObservedTime", "MicroTime", 0)}

# policy/v1
M["Eviction"] = {1: ("metadata", "ObjectMeta", 0), 2: ("deleteOptions", "DeleteOptions", PTR)}

# coordination.k8s.io/v1
M["Lease"] = {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "LeaseSpec", 0)}
M["LeaseSpec"] = {1: ("holderIdentity", "s", PTR), 2: ("leaseDurationSeconds", "i32", PTR),
                  3: ("acquireTime", "MicroTime", PTR), 4: ("renewTime", "MicroTime", PTR),
                  5: ("leaseTransitions", "i32", PTR), 6: ("strategy", "s", PTR),
                  7: ("preferredHolder", "s", PTR)}

# authentication.k8s.io/v1
M["TokenRequest"] = {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenRequestSpec", 0),
                     3: ("status", "TokenRequestStatus", 0)}
M["TokenRequestSpec"] = {1: ("audiences", "s", REP), 4: ("expirationSeconds", "i64", PTR),
                         3: ("boundObjectRef", "BoundObjectReference", PTR)}
M["BoundObjectReference"] = {1: ("kind", "s", 0), 2: ("apiVersion", "s", 0),
                             3: ("name", "s", 0), 4: ("uid", "s", 0)}
M["TokenRequestStatus"] = {1: ("token", "s", 0), 2: ("expirationTimestamp", "Time", 0)}
M["TokenReview"] = {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenReviewSpec", 0),
                    3: ("status", "Empty", 0)}
M["TokenReviewSpec"] = {1: ("token", "s", 0), 2: ("audiences", "s", REP)}
M["SelfSubjectReview"] = {1: ("metadata", "ObjectMeta", 0), 2: ("status", "Empty", 0)}

# authorization.k8s.io/v1
M["ResourceAttributes"] = {1: ("namespace", "s", 0), 2: ("verb", "s", 0), 3: ("group", "s", 0),
                           4: ("version", "s", 0), 5: ("resource", "s", 0),
                           6: ("subresource", "s", 0), 7: ("name", "s", 0)}
M["NonResourceAttributes"] = {1: ("path", "s", 0), 2: ("verb", "s", 0)}
M["SelfSubjectAccessReview"] = {1: ("metadata", "ObjectMeta", 0),
                                2: ("spec", "SelfSubjectAccessReviewSpec", 0),
                                3: ("status", "SubjectAccessReviewStatus", 0)}
M["SelfSubjectAccessReviewSpec"] = {1: ("resourceAttributes", "ResourceAttributes", PTR),
                                    2: ("nonResourceAttributes", "NonResourceAttributes", PTR)}
M["SubjectAccessReviewStatus"] = {1: ("allowed", "bool", 0), 4: ("denied", "bool", 0),
                                  2: ("reason", "s", 0), 3: ("evaluationError", "s", 0)}
M["SubjectAccessReview"] = {1: ("metadata", "ObjectMeta", 0),
                            2: ("spec", "SubjectAccessReviewSpec", 0),
                            3: ("status", "SubjectAccessReviewStatus", 0)}
M["LocalSubjectAccessReview"] = M["SubjectAccessReview"]
M["SubjectAccessReviewSpec"] = {1: ("resourceAttributes", "ResourceAttributes", PTR),
                                2: ("nonResourceAttributes", "NonResourceAttributes", PTR),
                                3: ("user", "s", 0), 4: ("groups", "s", REP),
                                5: ("extra", "map:ExtraValue", 0), 6: ("uid", "s", 0)}
M["SelfSubjectRulesReview"] = {1: ("metadata", "ObjectMeta", 0),
                               2: ("spec", "SelfSubjectRulesReviewSpec", 0),
                               3: ("status", "Empty", 0)}
M["SelfSubjectRulesReviewSpec"] = {1: ("namespace", "s", 0)}

# certificates.k8s.io/v1
M["CertificateSigningRequest"] = {1: ("metadata", "ObjectMeta", 0),
                                  2: ("spec", "CertificateSigningRequestSpec", 0),
                                  3: ("status", "CertificateSigningRequestStatus", 0)}
M["CertificateSigningRequestSpec"] = {
    1: ("request", "b", 0), 2: ("username", "s", 0), 3: ("uid", "s", 0),
    4: ("groups", "s", REP), 5: ("usages", "s", REP), 6: ("extra", "map:ExtraValue", 0),
    7: ("signerName", "s", 0), 8: ("expirationSeconds", "i32", PTR)}
M["CertificateSigningRequestStatus"] = {1: ("conditions", "CertificateSigningRequestCondition",
                                            REP),
                                        2: ("certificate", "b", 0)}
M["CertificateSigningRequestCondition"] = {1: ("type", "s", 0), 6: ("status", "s", 0),
                                           2: ("reason", "s", 0), 3: ("message", "s", 0),
                                           4: ("lastUpdateTime", "Time", 0),
                                           5: ("lastTransitionTime", "Time", 0)}
M["Empty"] = {}

# kinds that may arrive as request bodies -> message name
KINDS = {k: k for k in ("Pod", "Namespace", "Service", "ConfigMap", "Secret", "ServiceAccount",
                        "Binding", "Event", "Eviction", "Lease", "TokenRequest", "TokenReview",
                        "SelfSubjectReview", "SelfSubjectAccessReview", "SubjectAccessReview",
                        "LocalSubjectAccessReview", "SelfSubjectRulesReview",
                        "CertificateSigningRequest", "DeleteOptions")}

SCALARS = ("s", "b", "i32", "i64", "bool", "f64")


def _time(buf, micro=False):
    secs, nanos = 0, 0
    for fno, wt, v in fields(buf):
        if fno == 1 and wt == 0:
            secs = _signed(v)
        elif fno == 2 and wt == 0:
            nanos = _signed(v, 32)
    if secs == 0 and nanos == 0:
        return None
    dt = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc)
    if micro:
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (nanos // 1000)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar(typ, wt, v):
    if typ == "s":
        if wt != 2:
            raise ProtobufError("string field with wire type %d" % wt)
        return v.decode("utf-8")
    if typ == "b":
        if wt != 2:
            raise ProtobufError("bytes field with wire type %d" % wt)
        return base64.b64encode(v).decode()
    if typ == "bool":
        return bool(v)
    if typ == "i64":
        return _signed(v)
    if typ == "i32":
        return _signed(v, 32)
    if typ == "f64":
        return struct.unpack("<d", v)[0]
    raise ProtobufError("unknown scalar type %s" % typ)


def _special(typ, v):
    """Messages with a non-object JSON form."""
    if typ == "Time":
        return _time(v)
    if typ == "MicroTime":
        return _time(v, micro=True)
    if typ == "Quantity":
        for fno, wt, x in fields(v):
            if fno == 1:
                return x.decode()
        return "0"
    if typ == "IntOrString":
        kind, iv, sv = 0, 0, ""
        for fno, wt, x in fields(v):
            if fno == 1:
                kind = _signed(x)
            elif fno == 2:
                iv = _signed(x, 32)
            elif fno == 3:
                sv = x.decode()
        return sv if kind == 1 else iv
    if typ == "FieldsV1":
        for fno, wt, x in fields(v):
            if fno == 1:
                return json.loads(x) if x else {}
        return {}
    if typ == "ExtraValue":
        return [x.decode() for fno, wt, x in fields(v) if fno == 1]
    return _NOT_SPECIAL


_NOT_SPECIAL = object()


def _value(typ, wt, v, unknown=None):
    if typ in SCALARS:
        return _scalar(typ, wt, v)
    if wt != 2:
        raise ProtobufError("message field %s with wire type %d" % (typ, wt))
    sp = _special(typ, v)
    if sp is not _NOT_SPECIAL:
        return sp
    return decode_message(v, typ, unknown)


def _map_entry(buf, vtyp, unknown=None):
    key, val = "", None
    for fno, wt, v in fields(buf):
        if fno == 1:
            key = v.decode()
        elif fno == 2:
            val = _value(vtyp, wt, v, unknown)
    if val is None:
        val = {"s": "", "b": "", "Quantity": "0"}.get(vtyp, [] if vtyp == "ExtraValue" else {})
    return key, val


def decode_message(buf, name, unknown=None):
    schema = M.get(name)
    if schema is None:
        raise ProtobufError("no field table for message %s" % name)
    out = {}
    for fno, wt, v in fields(buf):
        f = schema.get(fno)
        if f is None:
            if unknown is not None and name != "Empty":
                unknown.append((name, fno))
            continue
        jname, typ, flags = f
        if typ.startswith("map:"):
            k, val = _map_entry(v, typ[4:], unknown)
            out.setdefault(jname, {})[k] = val
            continue
        if flags & REP:
            if typ in ("i32", "i64", "bool") and wt == 2:   # packed
                pos, lst = 0, out.setdefault(jname, [])
                while pos < len(v):
                    x, pos = _varint(v, pos)
                    lst.append(_scalar(typ, 0, x))
                continue
            out.setdefault(jname, []).append(_value(typ, wt, v, unknown))
            continue
        val = _value(typ, wt, v, unknown)
        if flags & INLINE:
            if isinstance(val, dict):
                out.update(val)
            continue
        if val is None:
            continue
        if not (flags & PTR) and typ in SCALARS and val in ("", 0) and val is not False:
            continue
        if not (flags & PTR) and typ == "bool" and val is False:
            continue
        out[jname] = val
    return out


def decode_object(body, unknown=None):
    """A JSON-shaped dict for a protobuf-encoded request body; fields without a
    table entry are skipped and reported as (message, field number) in `unknown`."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing k8s protobuf magic prefix")
    unk = decode_message(body[len(MAGIC):], "Unknown")
    tm = unk.get("typeMeta") or {}
    kind = tm.get("kind", "")
    if unk.get("contentEncoding"):
        raise ProtobufError("unsupported content encoding %s" % unk["contentEncoding"])
    mname = KINDS.get(kind)
    if mname is None:
        raise ProtobufError("protobuf bodies of kind %r are not supported by the double; "
                            "send JSON" % kind)
    raw = base64.b64decode(unk.get("raw", ""))
    obj = decode_message(raw, mname, unknown)
    if tm.get("apiVersion"):
        obj["apiVersion"] = tm["apiVersion"]
    obj["kind"] = kind
    return obj


# ------------------------------------------------------------------ encoding (for tests)

def _key(fno, wt):
    return _enc_varint((fno << 3) | wt)


def _enc_varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_field(fno, value):
    """Minimal encoder used by tests to build bodies: ints, strs, bytes, nested bytes."""
    if isinstance(value, bool):
        return _key(fno, 0) + _enc_varint(int(value))
    if isinstance(value, int):
        return _key(fno, 0) + _enc_varint(value)
    if isinstance(value, str):
        value = value.encode()
    return _key(fno, 2) + _enc_varint(len(value)) + value


def envelope(api_version, kind, raw):
    tm = encode_field(1, api_version) + encode_field(2, kind)
    return MAGIC + encode_field(1, tm) + encode_field(2, raw) + encode_field(3, "") + \
        encode_field(4, "")
