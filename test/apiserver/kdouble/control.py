"""Fault injection and test controls under /_control (loopback clients only, no auth).

  GET  /_control/state                 rv, compacted rv, history window, open watches, faults
  POST /_control/drop-watches          {"hard": false}  end every open watch (hard: close the
                                       connection without the terminating chunk)
  POST /_control/faults                {"pathPrefix": "/api/v1/pods", "method": "GET",
                                        "count": 1, "code": 500, "delay": 0.0,
                                        "message": "...", "watch": null}
                                       the next `count` matching requests are delayed by
                                       `delay` seconds and, when `code` is set, answered with a
                                       Status of that code (429 adds Retry-After: 1);
                                       "watch": true/false limits the rule to watch/non-watch
  DELETE /_control/faults              remove all fault rules
  POST /_control/history               {"window": N}  keep only the last N watch events
  POST /_control/bookmark-interval     {"seconds": S}
  POST /_control/authz                 {"rules": [...]}  see auth.Authorizer
  POST /_control/flush                 write the state file now
"""

import json
import threading
import urllib.parse

from .errors import ApiError


class Faults:
    def __init__(self):
        self.rules = []
        self.lock = threading.Lock()

    def add(self, rule):
        rule = dict(rule)
        rule.setdefault("count", 1)
        rule.setdefault("pathPrefix", "/")
        with self.lock:
            self.rules.append(rule)

    def clear(self):
        with self.lock:
            self.rules = []

    def match(self, method, raw_path):
        url = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(url.query)
        is_watch = "/watch/" in url.path or \
            query.get("watch", [""])[-1].lower() in ("1", "true")
        with self.lock:
            for r in self.rules:
                if not url.path.startswith(r["pathPrefix"]):
                    continue
                if r.get("method") and r["method"].upper() != method:
                    continue
                if r.get("watch") is not None and bool(r["watch"]) != is_watch:
                    continue
                r["count"] -= 1
                if r["count"] <= 0:
                    self.rules.remove(r)
                return dict(r)
        return None

    def snapshot(self):
        with self.lock:
            return [dict(r) for r in self.rules]


class Control:
    def __init__(self, app):
        self.app = app

    def handle(self, h, path, q, body):
        host = h.client_address[0]
        if not (host.startswith("127.") or host == "::1"):
            raise ApiError(403, "control endpoints are for loopback clients only", "Forbidden")
        try:
            args = json.loads(body) if body.strip() else {}
        except ValueError:
            raise ApiError(400, "control bodies are JSON", "BadRequest")
        app = self.app
        cmd = path[len("/_control"):].strip("/")
        m = h.command
        if cmd == "state" and m == "GET":
            st = app.store
            with st.cond:
                out = {"resourceVersion": st.rv, "compacted": st.compacted,
                       "window": st.window, "history": len(st.history),
                       "watches": app.watches.count(), "faults": app.faults.snapshot(),
                       "objects": {k: len(v) for k, v in st.objects.items()}}
            return h.send_json(200, out)
        if cmd == "drop-watches" and m == "POST":
            app.store.drop_watches(bool(args.get("hard")))
            return h.send_json(200, {"dropped": True})
        if cmd == "faults" and m == "POST":
            app.faults.add(args)
            return h.send_json(200, {"faults": app.faults.snapshot()})
        if cmd == "faults" and m == "DELETE":
            app.faults.clear()
            return h.send_json(200, {"faults": []})
        if cmd == "history" and m == "POST":
            app.store.set_window(int(args.get("window", 0)))
            return h.send_json(200, {"window": app.store.window,
                                     "compacted": app.store.compacted})
        if cmd == "bookmark-interval" and m == "POST":
            app.watches.bookmark_interval = float(args.get("seconds", 30))
            return h.send_json(200, {"seconds": app.watches.bookmark_interval})
        if cmd == "authz" and m == "POST":
            app.authz.set_rules(args.get("rules") or [])
            return h.send_json(200, {"rules": app.authz.rules})
        if cmd == "flush" and m == "POST":
            app.store.flush()
            return h.send_json(200, {"flushed": True})
        raise ApiError(404, "unknown control endpoint %s %s" % (m, path), "NotFound")
