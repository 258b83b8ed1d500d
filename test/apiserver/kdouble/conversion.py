"""Conversion between the stored form and the served form of a resource.
Events are stored as core/v1 Events and also served as events.k8s.io/v1."""

import copy

_RENAMES = [  # (events.k8s.io/v1 field, core/v1 field)
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
]
_SAME = ["metadata", "eventTime", "series", "reportingInstance", "action", "reason", "related",
         "type"]


def _is_events_v1(res):
    return res.storage == "events" and res.group == "events.k8s.io"


def to_external(res, obj):
    if obj is None or not _is_events_v1(res):
        return obj
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1"}
    for k in _SAME:
        if k in obj:
            out[k] = copy.deepcopy(obj[k])
    for new, old in _RENAMES:
        if old in obj and obj[old] not in (None, {}, "", 0):
            out[new] = copy.deepcopy(obj[old])
    if "series" in out and isinstance(out["series"], dict):
        out["series"].pop("state", None)
    return out


def from_external(res, obj):
    if not _is_events_v1(res) or not isinstance(obj, dict):
        return obj
    out = {"kind": "Event", "apiVersion": "v1"}
    for k in _SAME:
        if k in obj:
            out[k] = copy.deepcopy(obj[k])
    for new, old in _RENAMES:
        if new in obj:
            out[old] = copy.deepcopy(obj[new])
    out.setdefault("involvedObject", {})
    out.setdefault("source", {})
    if "reportingComponent" not in out:
        out["reportingComponent"] = ""
    return out
