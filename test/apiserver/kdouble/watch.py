"""Watch streams: chunked JSON lines of {"type", "object"} events."""

import json
import threading
import time

from . import conversion, tables
from .errors import ApiError, bad_request
from .selection import FieldSelector, LabelSelector
from .store import TooOld


def _q1(q, k, default=None):
    v = q.get(k)
    return v[-1] if v else default


def _bool(v):
    return v is not None and v.lower() in ("1", "true", "t", "yes", "y")


class _Closed(Exception):
    pass


class WatchManager:
    def __init__(self, store):
        self.store = store
        self.bookmark_interval = 30.0
        self.default_timeout = 1800
        self.lock = threading.Lock()
        self.open = 0

    def count(self):
        with self.lock:
            return self.open

    def serve(self, h, res, ns, name, q, mode):
        ns = (ns or None) if res.namespaced else None
        ls = LabelSelector.parse(_q1(q, "labelSelector", ""))
        fs = FieldSelector.parse(_q1(q, "fieldSelector", ""), res.storage)
        if name:
            fs.reqs.append(("metadata.name", "=", name))
        rv_param = _q1(q, "resourceVersion", "")
        bookmarks = _bool(_q1(q, "allowWatchBookmarks"))
        send_initial = _q1(q, "sendInitialEvents")
        send_initial = None if send_initial is None else _bool(send_initial)
        rv_match = _q1(q, "resourceVersionMatch", "")
        try:
            timeout = float(_q1(q, "timeoutSeconds", "") or self.default_timeout)
        except ValueError:
            raise bad_request("invalid timeoutSeconds")
        if send_initial is not None:
            if rv_match != "NotOlderThan":
                raise ApiError(422, "resourceVersionMatch: Forbidden: sendInitialEvents "
                               "requires setting resourceVersionMatch to NotOlderThan",
                               "Invalid")
            if send_initial and not bookmarks:
                raise ApiError(422, "allowWatchBookmarks: Forbidden: sendInitialEvents "
                               "requires allowWatchBookmarks=true", "Invalid")
        include = _q1(q, "includeObject", "Metadata")
        store = self.store

        def matches(obj):
            if obj is None:
                return False
            md = obj["metadata"]
            if ns is not None and md.get("namespace", "") != ns:
                return False
            return ls.matches(md.get("labels")) and fs.matches(obj)

        initial = []
        with store.cond:
            epoch = store.watch_epoch
            if rv_param in ("", "0") or send_initial:
                objs, last = store.list(res.storage, ns)
                initial = [o for o in objs if matches(o)]
                if rv_param not in ("", "0") and send_initial:
                    want = int(rv_param)
                    if want > last:
                        last = want
                too_old = False
            else:
                try:
                    last = int(rv_param)
                except ValueError:
                    raise bad_request("invalid resource version: %s" % rv_param)
                too_old = last < store.compacted
                compacted = store.compacted

        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Cache-Control", "no-cache, private")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Audit-Id", h._audit_id)
        h.end_headers()
        h._code = 200
        with self.lock:
            self.open += 1

        def write(ev_type, obj):
            if mode == "table" and ev_type not in ("ERROR", "BOOKMARK"):
                obj = tables.table_for(res, [obj], obj["metadata"].get("resourceVersion", ""),
                                       "", include, watch=True)
            elif mode == "partial" and ev_type not in ("ERROR",):
                obj = tables.partial(obj)
            data = json.dumps({"type": ev_type, "object": obj}, separators=(",", ":")) + "\n"
            data = data.encode()
            try:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                h.wfile.flush()
            except OSError:
                raise _Closed()

        def bookmark(rv, initial_end=False):
            md = {"resourceVersion": str(rv)}
            if initial_end:
                md["annotations"] = {"k8s.io/initial-events-end": "true"}
            write("BOOKMARK", {"kind": res.kind, "apiVersion": res.api_version, "metadata": md})

        try:
            if too_old:
                write("ERROR", ApiError(410, "too old resource version: %d (%d)"
                                        % (last, compacted), "Expired").status())
                return
            for o in initial:
                write("ADDED", conversion.to_external(res, o))
            if send_initial:
                bookmark(last, initial_end=True)
            deadline = time.time() + timeout
            next_bookmark = time.time() + self.bookmark_interval
            while True:
                with store.cond:
                    while True:
                        if store.watch_epoch != epoch:
                            if store.drop_hard:
                                raise _Closed()
                            return
                        if store.rv > last:
                            break
                        now = time.time()
                        wake = min(deadline, next_bookmark if bookmarks else deadline)
                        if now >= wake:
                            break
                        store.cond.wait(min(1.0, wake - now))
                    try:
                        events, head = store.events_after(last)
                    except TooOld:
                        events, head = None, store.compacted
                if events is None:
                    write("ERROR", ApiError(410, "too old resource version: %d (%d)"
                                            % (last, head), "Expired").status())
                    return
                for ev in events:
                    last = ev.rv
                    if ev.storage != res.storage:
                        continue
                    new_ok = ev.type != "DELETED" and matches(ev.obj)
                    old_ok = matches(ev.prev)
                    if ev.type == "ADDED" and new_ok:
                        write("ADDED", conversion.to_external(res, ev.obj))
                    elif ev.type == "MODIFIED":
                        if new_ok and old_ok:
                            write("MODIFIED", conversion.to_external(res, ev.obj))
                        elif new_ok:
                            write("ADDED", conversion.to_external(res, ev.obj))
                        elif old_ok:
                            gone = dict(ev.prev)
                            gone["metadata"] = dict(gone["metadata"],
                                                    resourceVersion=str(ev.rv))
                            write("DELETED", conversion.to_external(res, gone))
                    elif ev.type == "DELETED" and old_ok:
                        write("DELETED", conversion.to_external(res, ev.obj))
                last = max(last, head)
                now = time.time()
                if now >= deadline:
                    if bookmarks:
                        bookmark(last)
                    return
                if bookmarks and now >= next_bookmark:
                    bookmark(last)
                    next_bookmark = now + self.bookmark_interval
        except _Closed:
            h.close_connection = True
            try:
                import socket
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        finally:
            with self.lock:
                self.open -= 1
            if not h.close_connection:
                try:
                    h.wfile.write(b"0\r\n\r\n")
                    h.wfile.flush()
                except OSError:
                    h.close_connection = True
