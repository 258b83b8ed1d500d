"""Object storage with one global resourceVersion counter, a bounded event
history for watches, and atomic JSON persistence in the state directory."""

import bisect
import copy
import json
import os
import threading
import time

from .errors import ApiError


class Event:
    __slots__ = ("rv", "type", "storage", "obj", "prev")

    def __init__(self, rv, type_, storage, obj, prev):
        self.rv = rv
        self.type = type_
        self.storage = storage
        self.obj = obj
        self.prev = prev

    def to_json(self):
        return [self.rv, self.type, self.storage, self.obj, self.prev]

    @classmethod
    def from_json(cls, j):
        return cls(j[0], j[1], j[2], j[3], j[4])


class TooOld(Exception):
    """The requested resourceVersion is older than the retained history."""


class Store:
    DEFAULT_WINDOW = 2000
    PERSISTED_HISTORY = 1000

    def __init__(self, path=None):
        self.path = path
        self.cond = threading.Condition(threading.RLock())
        self.rv = 0
        self.objects = {}      # storage -> {(namespace, name): obj}
        self.history = []      # list[Event], rv ascending
        self.compacted = 0     # events with rv <= compacted are gone
        self.window = self.DEFAULT_WINDOW
        self.watch_epoch = 0   # bumped to make open watches end
        self.drop_hard = False
        self.listeners = []    # called with (Event) under the lock
        self.dirty = False
        self._writer = None
        self._stop = False
        self._closed = False   # set at shutdown: later writes are refused, never half-persisted
        self._flush_lock = threading.Lock()  # one writer of the state file at a time
        if path and os.path.exists(path):
            self._load()

    # ---- persistence ----
    def _load(self):
        with open(self.path) as f:
            data = json.load(f)
        self.rv = data["rv"]
        self.compacted = data.get("compacted", 0)
        self.window = data.get("window", self.DEFAULT_WINDOW)
        for storage, objs in data.get("objects", {}).items():
            bucket = self.objects.setdefault(storage, {})
            for o in objs:
                md = o["metadata"]
                bucket[(md.get("namespace", ""), md["name"])] = o
        self.history = [Event.from_json(e) for e in data.get("history", [])]
        if self.history:
            self.compacted = max(self.compacted, self.history[0].rv - 1)
        else:
            self.compacted = max(self.compacted, self.rv)

    def _snapshot(self):
        hist = self.history[-self.PERSISTED_HISTORY:]
        compacted = self.compacted
        if len(hist) < len(self.history):
            compacted = max(compacted, hist[0].rv - 1)
        return {
            "rv": self.rv,
            "compacted": compacted,
            "window": self.window,
            "objects": {s: list(b.values()) for s, b in self.objects.items()},
            "history": [e.to_json() for e in hist],
        }

    def flush(self):
        if not self.path:
            return
        with self._flush_lock:
            with self.cond:
                data = json.dumps(self._snapshot(), separators=(",", ":"))
                self.dirty = False
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)

    def start_writer(self, interval=0.05):
        """Persist changes in the background at most every `interval` seconds."""
        def run():
            while True:
                with self.cond:
                    while not self.dirty and not self._stop:
                        self.cond.wait(1.0)
                    stop = self._stop
                if self.dirty:
                    self.flush()
                if stop:
                    return
                time.sleep(interval)
        self._writer = threading.Thread(target=run, name="store-writer", daemon=True)
        self._writer.start()

    def close(self):
        with self.cond:
            # Refuse writes from here on, so every write a watcher has seen is in the final flush.
            self._closed = True
            self._stop = True
            self.cond.notify_all()
        if self._writer:
            self._writer.join(5)
        self.flush()

    # ---- reads ----
    def get(self, storage, namespace, name):
        with self.cond:
            o = self.objects.get(storage, {}).get((namespace or "", name))
            return copy.deepcopy(o) if o is not None else None

    def list(self, storage, namespace=None):
        """Current objects sorted by (namespace, name); shared references, do not mutate."""
        with self.cond:
            bucket = self.objects.get(storage, {})
            keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
            return [bucket[k] for k in keys], self.rv

    def list_at(self, storage, rv, namespace=None):
        """The objects as they were at resourceVersion rv, rebuilt from the history."""
        with self.cond:
            if rv >= self.rv:
                return self.list(storage, namespace)[0]
            if rv < self.compacted:
                raise TooOld()
            state = dict(self.objects.get(storage, {}))
            idx = bisect.bisect_right(self.history, rv, key=lambda e: e.rv)
            for ev in reversed(self.history[idx:]):
                if ev.storage != storage:
                    continue
                md = ev.obj["metadata"]
                key = (md.get("namespace", ""), md["name"])
                if ev.type == "ADDED":
                    state.pop(key, None)
                elif ev.type == "MODIFIED":
                    state[key] = ev.prev
                else:
                    state[key] = ev.prev if ev.prev is not None else ev.obj
            keys = sorted(k for k in state if namespace is None or k[0] == namespace)
            return [state[k] for k in keys]

    # ---- writes (callers hold self.cond for read-modify-write sequences) ----
    def _commit(self, type_, storage, obj, prev):
        if self._closed:
            raise ApiError(503, "the server is shutting down", reason="ServiceUnavailable")
        self.rv += 1
        if type_ != "DELETED":
            obj["metadata"]["resourceVersion"] = str(self.rv)
        ev_obj = copy.deepcopy(obj)
        if type_ == "DELETED":
            ev_obj["metadata"]["resourceVersion"] = str(self.rv)
        ev = Event(self.rv, type_, storage, ev_obj, prev)
        self.history.append(ev)
        if len(self.history) > self.window + 200:
            self._trim(self.window)
        self.dirty = True
        for fn in self.listeners:
            try:
                fn(ev)
            except Exception:  # a listener must never break a write
                import traceback
                traceback.print_exc()
        self.cond.notify_all()
        return ev

    def _trim(self, n):
        if len(self.history) > n:
            drop = len(self.history) - n
            self.compacted = max(self.compacted, self.history[drop - 1].rv)
            del self.history[:drop]

    def set_window(self, n):
        with self.cond:
            self.window = max(0, int(n))
            self._trim(self.window)
            if self.window == 0:
                self.compacted = self.rv
            self.dirty = True
            self.cond.notify_all()

    def create(self, storage, obj):
        with self.cond:
            md = obj["metadata"]
            key = (md.get("namespace", ""), md["name"])
            bucket = self.objects.setdefault(storage, {})
            if key in bucket:
                return None
            self._commit("ADDED", storage, obj, None)
            bucket[key] = copy.deepcopy(obj)
            return copy.deepcopy(obj)

    def update(self, storage, obj):
        with self.cond:
            md = obj["metadata"]
            key = (md.get("namespace", ""), md["name"])
            bucket = self.objects.setdefault(storage, {})
            prev = bucket.get(key)
            if prev is None:
                return None
            self._commit("MODIFIED", storage, obj, prev)
            bucket[key] = copy.deepcopy(obj)
            return copy.deepcopy(obj)

    def delete(self, storage, namespace, name):
        with self.cond:
            bucket = self.objects.setdefault(storage, {})
            prev = bucket.pop((namespace or "", name), None)
            if prev is None:
                return None
            obj = copy.deepcopy(prev)
            ev = self._commit("DELETED", storage, obj, prev)
            return copy.deepcopy(ev.obj)

    # ---- watch support ----
    def events_after(self, rv):
        """History events with resourceVersion > rv (shared references)."""
        with self.cond:
            if rv < self.compacted:
                raise TooOld()
            idx = bisect.bisect_right(self.history, rv, key=lambda e: e.rv)
            return self.history[idx:], self.rv

    def drop_watches(self, hard=False):
        """End every open watch: cleanly (terminating chunk) or by closing the connection."""
        with self.cond:
            self.drop_hard = hard
            self.watch_epoch += 1
            self.cond.notify_all()
