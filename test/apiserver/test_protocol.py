"""The wire protocol, spoken with http.client and ssl directly."""

import base64
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Double, read_kubeconfig_token

NS = "/api/v1/namespaces/proto"
CM = NS + "/configmaps"
PODS = NS + "/pods"


def cm(name, data=None, **meta):
    md = {"name": name}
    md.update(meta)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data or {}}


def pod(name, node=None, containers=("a",), **spec):
    s = {"containers": [{"name": c, "image": "busybox:1.36"} for c in containers]}
    if node:
        s["nodeName"] = node
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": s}


class ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Double(node_name=None).start()
        st, _ = cls.d.create("/api/v1/namespaces", {"metadata": {"name": "proto"}})
        assert st == 201

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def setUp(self):
        self.d.control("DELETE", "faults")
        self.d.control("POST", "history", {"window": 2000})

    def ok(self, resp, code=200):
        st, obj = resp
        self.assertEqual(st, code, obj)
        return obj

    # ------------------------------------------------------------------ basics
    def test_health_version_discovery(self):
        for p in ("/readyz", "/livez", "/healthz"):
            st, _, body = self.d.request("GET", p, raw=True, cert=None)
            self.assertEqual((st, body), (200, b"ok"))
        v = self.ok(self.d.get("/version"))
        self.assertEqual(v["major"], "1")
        api = self.ok(self.d.get("/api"))
        self.assertEqual(api["versions"], ["v1"])
        groups = self.ok(self.d.get("/apis"))
        names = [g["name"] for g in groups["groups"]]
        for g in ("discovery.k8s.io", "coordination.k8s.io", "certificates.k8s.io",
                  "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io"):
            self.assertIn(g, names)
        res = self.ok(self.d.get("/api/v1"))
        byname = {r["name"]: r for r in res["resources"]}
        self.assertIn("pods/status", byname)
        self.assertIn("serviceaccounts/token", byname)
        self.assertEqual(byname["pods"]["shortNames"], ["po"])
        st, resp, body = self.d.request(
            "GET", "/apis", raw=True,
            headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;"
                               "as=APIGroupDiscoveryList,application/json"})
        self.assertEqual(st, 200)
        self.assertIn("as=APIGroupDiscoveryList", resp.getheader("Content-Type"))
        agg = json.loads(body)
        self.assertEqual(agg["kind"], "APIGroupDiscoveryList")

    def test_create_fills_metadata_and_errors_are_status(self):
        obj = self.ok(self.d.create(CM, cm("", generateName="gen-")), 201)
        md = obj["metadata"]
        self.assertTrue(md["name"].startswith("gen-") and len(md["name"]) == 9)
        for k in ("uid", "creationTimestamp", "resourceVersion"):
            self.assertTrue(md.get(k), k)
        st, err = self.d.create(CM, cm(md["name"]))
        self.assertEqual(st, 409)
        self.assertEqual((err["kind"], err["status"], err["reason"], err["code"]),
                         ("Status", "Failure", "AlreadyExists", 409))
        self.assertEqual(err["details"], {"name": md["name"], "kind": "configmaps"})
        st, err = self.d.get(CM + "/nope")
        self.assertEqual((st, err["reason"]), (404, "NotFound"))
        self.assertEqual(err["message"], 'configmaps "nope" not found')
        st, err = self.d.create(CM, cm("Bad_Name"))
        self.assertEqual((st, err["reason"]), (422, "Invalid"))
        st, err = self.d.create("/api/v1/namespaces/missing/configmaps", cm("x"))
        self.assertEqual(st, 404)

    def test_table_output(self):
        self.ok(self.d.create(PODS, pod("tbl")), 201)
        st, t = self.d.get(PODS, headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
        self.assertEqual(st, 200)
        self.assertEqual((t["kind"], t["apiVersion"]), ("Table", "meta.k8s.io/v1"))
        cols = [c["name"] for c in t["columnDefinitions"]]
        self.assertEqual(cols[:5], ["Name", "Ready", "Status", "Restarts", "Age"])
        row = [r for r in t["rows"] if r["cells"][0] == "tbl"][0]
        self.assertEqual(row["cells"][1:3], ["0/1", "Pending"])
        self.assertEqual(row["object"]["kind"], "PartialObjectMetadata")
        self.assertEqual(row["object"]["metadata"]["name"], "tbl")
        st, t = self.d.get(PODS + "?includeObject=Object", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
        self.assertEqual(t["rows"][0]["object"]["kind"], "Pod")

    # ------------------------------------------------------------------ list
    def test_list_limit_continue(self):
        ns = "/api/v1/namespaces/paging"
        self.ok(self.d.create("/api/v1/namespaces", {"metadata": {"name": "paging"}}), 201)
        for i in range(7):
            self.ok(self.d.create(ns + "/configmaps", cm("c%d" % i, labels={"page": "y"})), 201)
        first = self.ok(self.d.get(ns + "/configmaps?limit=3&labelSelector=page%3Dy"))
        self.assertEqual([i["metadata"]["name"] for i in first["items"]], ["c0", "c1", "c2"])
        self.assertEqual(first["metadata"]["remainingItemCount"], 4)
        tok = first["metadata"]["continue"]
        # a change after the first page does not show in later pages
        self.ok(self.d.request("DELETE", ns + "/configmaps/c5"))
        names = []
        while tok:
            page = self.ok(self.d.get(ns + "/configmaps?limit=3&labelSelector=page%3Dy"
                                      "&continue=" + tok))
            self.assertEqual(page["metadata"]["resourceVersion"],
                             first["metadata"]["resourceVersion"])
            names += [i["metadata"]["name"] for i in page["items"]]
            tok = page["metadata"].get("continue")
        self.assertEqual(names, ["c3", "c4", "c5", "c6"])
        # an expired continue token is 410 Gone
        first = self.ok(self.d.get(ns + "/configmaps?limit=2"))
        self.ok(self.d.create(ns + "/configmaps", cm("later")), 201)
        self.d.control("POST", "history", {"window": 0})
        st, err = self.d.get(ns + "/configmaps?limit=2&continue=" + first["metadata"]["continue"])
        self.assertEqual((st, err["reason"]), (410, "Expired"))

    def test_field_selectors(self):
        self.ok(self.d.create(PODS, pod("fs-a")), 201)
        self.ok(self.d.create(PODS, pod("fs-b", node="node9")), 201)
        lst = self.ok(self.d.get(PODS + "?fieldSelector=spec.nodeName%3Dnode9"))
        self.assertEqual([p["metadata"]["name"] for p in lst["items"]], ["fs-b"])
        lst = self.ok(self.d.get(PODS + "?fieldSelector=spec.nodeName!%3Dnode9,"
                                 "metadata.name%3Dfs-a"))
        self.assertEqual([p["metadata"]["name"] for p in lst["items"]], ["fs-a"])
        lst = self.ok(self.d.get("/api/v1/pods?fieldSelector=metadata.namespace%3Dproto,"
                                 "status.phase%3DPending"))
        self.assertTrue(len(lst["items"]) >= 2)
        st, err = self.d.get(PODS + "?fieldSelector=spec.bogus%3Dx")
        self.assertEqual(st, 400)
        self.assertIn("field label not supported", err["message"])

    # ------------------------------------------------------------------ watch
    def test_watch_resume_from_resource_version(self):
        a = self.ok(self.d.create(CM, cm("wr", {"v": "1"})), 201)
        rv0 = a["metadata"]["resourceVersion"]
        a["data"] = {"v": "2"}
        self.ok(self.d.request("PUT", CM + "/wr", a))
        self.ok(self.d.request("DELETE", CM + "/wr"))
        w = self.d.watch(CM, {"resourceVersion": rv0, "timeoutSeconds": "2"})
        evs = [e for e in w.rest() if e["object"]["metadata"]["name"] == "wr"]
        w.close()
        self.assertEqual([e["type"] for e in evs], ["MODIFIED", "DELETED"])
        self.assertEqual(evs[0]["object"]["data"], {"v": "2"})
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertTrue(rvs[0] < rvs[1])

    def test_watch_initial_state_and_live_events(self):
        self.ok(self.d.create(CM, cm("live0", labels={"grp": "live"})), 201)
        w = self.d.watch(CM, {"labelSelector": "grp=live", "timeoutSeconds": "3"})
        first = w.next()
        self.assertEqual((first["type"], first["object"]["metadata"]["name"]),
                         ("ADDED", "live0"))
        self.ok(self.d.create(CM, cm("live1", labels={"grp": "live"})), 201)
        self.ok(self.d.create(CM, cm("other")), 201)
        # a label change that makes an object leave the selection is a DELETED event
        self.ok(self.d.patch(CM + "/live0", {"metadata": {"labels": {"grp": "gone"}}}))
        evs = w.rest()
        w.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "live1"), ("DELETED", "live0")])

    def test_watch_field_selector_sees_binding_as_added(self):
        self.ok(self.d.create(PODS, pod("tobind")), 201)
        st, cur = self.d.get(PODS)
        w = self.d.watch(PODS, {"fieldSelector": "spec.nodeName=nodeX",
                                "resourceVersion": cur["metadata"]["resourceVersion"],
                                "timeoutSeconds": "2"})
        self.ok(self.d.create(PODS + "/tobind/binding", {
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": "tobind"},
            "target": {"kind": "Node", "name": "nodeX"}}), 201)
        evs = w.rest()
        w.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "tobind")])
        st, err = self.d.create(PODS + "/tobind/binding", {
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": "tobind"},
            "target": {"kind": "Node", "name": "nodeY"}})
        self.assertEqual(st, 409)

    def test_watch_legacy_prefix(self):
        self.ok(self.d.create(CM, cm("legacy")), 201)
        conn = self.d.connect()
        conn.request("GET", "/api/v1/watch/namespaces/proto/configmaps/legacy?timeoutSeconds=1")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        evs = [json.loads(l) for l in resp.read().splitlines() if l.strip()]
        conn.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "legacy")])

    def test_watch_too_old_is_410(self):
        a = self.ok(self.d.create(CM, cm("old")), 201)
        old_rv = a["metadata"]["resourceVersion"]
        for i in range(3):
            self.ok(self.d.patch(CM + "/old", {"data": {"i": str(i)}}))
        self.d.control("POST", "history", {"window": 1})
        w = self.d.watch(CM, {"resourceVersion": old_rv, "timeoutSeconds": "2"})
        self.assertEqual(w.status, 200)
        ev = w.next()
        w.close()
        self.assertEqual(ev["type"], "ERROR")
        st = ev["object"]
        self.assertEqual((st["kind"], st["code"], st["reason"]), ("Status", 410, "Expired"))
        self.assertIn("too old resource version", st["message"])
        st, err = self.d.get(CM + "?resourceVersion=%s&resourceVersionMatch=Exact" % old_rv)
        self.assertEqual(st, 410)

    def test_bookmarks(self):
        self.d.control("POST", "bookmark-interval", {"seconds": 0.5})
        try:
            st, cur = self.d.get(CM)
            w = self.d.watch(CM, {"resourceVersion": cur["metadata"]["resourceVersion"],
                                  "allowWatchBookmarks": "true", "timeoutSeconds": "2"})
            time.sleep(0.3)
            created = self.ok(self.d.create(CM, cm("bm")), 201)
            evs = w.rest()
            w.close()
        finally:
            self.d.control("POST", "bookmark-interval", {"seconds": 30})
        types = [e["type"] for e in evs]
        self.assertIn("ADDED", types)
        self.assertGreaterEqual(types.count("BOOKMARK"), 2)
        last = evs[-1]
        self.assertEqual(last["type"], "BOOKMARK")
        self.assertEqual(last["object"]["kind"], "ConfigMap")
        self.assertGreaterEqual(int(last["object"]["metadata"]["resourceVersion"]),
                                int(created["metadata"]["resourceVersion"]))

    def test_send_initial_events(self):
        self.ok(self.d.create(CM, cm("init", labels={"grp": "init"})), 201)
        w = self.d.watch(CM, {"sendInitialEvents": "true", "allowWatchBookmarks": "true",
                              "resourceVersionMatch": "NotOlderThan", "labelSelector":
                              "grp=init", "timeoutSeconds": "1"})
        evs = w.collect(2)
        w.close()
        self.assertEqual(evs[0]["type"], "ADDED")
        self.assertEqual(evs[1]["type"], "BOOKMARK")
        self.assertEqual(evs[1]["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"})

    def test_drop_watches(self):
        w = self.d.watch(CM, {"timeoutSeconds": "30"})
        got = []
        t = threading.Thread(target=lambda: got.extend(w.rest()))
        t.start()
        time.sleep(0.5)
        self.ok(self.d.control("POST", "drop-watches"))
        t.join(5)
        self.assertFalse(t.is_alive(), "the watch did not end")
        w.close()

    # ------------------------------------------------------------------ writes
    def test_conflict_on_stale_update(self):
        a = self.ok(self.d.create(CM, cm("cf", {"x": "1"})), 201)
        b = json.loads(json.dumps(a))
        a["data"]["x"] = "2"
        a2 = self.ok(self.d.request("PUT", CM + "/cf", a))
        self.assertGreater(int(a2["metadata"]["resourceVersion"]),
                           int(b["metadata"]["resourceVersion"]))
        b["data"]["x"] = "3"
        st, err = self.d.request("PUT", CM + "/cf", b)
        self.assertEqual((st, err["reason"]), (409, "Conflict"))
        self.assertIn("the object has been modified", err["message"])
        # an update that changes nothing keeps the resourceVersion
        a3 = self.ok(self.d.request("PUT", CM + "/cf", a2))
        self.assertEqual(a3["metadata"]["resourceVersion"], a2["metadata"]["resourceVersion"])

    def test_patch_types(self):
        p = pod("pt", containers=("a", "b"))
        p["spec"]["containers"][0]["env"] = [{"name": "E1", "value": "1"}]
        self.ok(self.d.create(PODS, p), 201)
        out = self.ok(self.d.patch(PODS + "/pt", {"spec": {"containers": [
            {"name": "b", "image": "busybox:1.37"}]}},
            "application/strategic-merge-patch+json"))
        imgs = [(c["name"], c["image"]) for c in out["spec"]["containers"]]
        self.assertEqual(imgs, [("a", "busybox:1.36"), ("b", "busybox:1.37")])
        # status conditions merge by type
        self.ok(self.d.patch(PODS + "/pt/status", {"status": {"conditions": [
            {"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]}},
            "application/strategic-merge-patch+json"))
        out = self.ok(self.d.patch(PODS + "/pt/status", {"status": {"conditions": [
            {"type": "Ready", "status": "True"}]}}, "application/strategic-merge-patch+json"))
        conds = {c["type"]: c["status"] for c in out["status"]["conditions"]}
        self.assertEqual(conds, {"Ready": "True", "Initialized": "True"})
        # a status patch does not touch the spec, a spec patch does not touch status
        out = self.ok(self.d.patch(PODS + "/pt", {"status": {"phase": "Failed"},
                                                  "metadata": {"labels": {"l": "1"}}}))
        self.assertEqual(out["status"]["phase"], "Pending")
        self.assertEqual(out["metadata"]["labels"], {"l": "1"})
        # $patch: delete removes a keyed element
        out = self.ok(self.d.patch(PODS + "/pt/status", {"status": {"conditions": [
            {"type": "Initialized", "$patch": "delete"}]}},
            "application/strategic-merge-patch+json"))
        self.assertEqual([c["type"] for c in out["status"]["conditions"]], ["Ready"])
        # JSON patch, with a failing test operation
        out = self.ok(self.d.patch(PODS + "/pt", [
            {"op": "test", "path": "/metadata/labels/l", "value": "1"},
            {"op": "add", "path": "/metadata/annotations", "value": {"a~/b": "c"}},
            {"op": "replace", "path": "/metadata/labels/l", "value": "2"}],
            "application/json-patch+json"))
        self.assertEqual(out["metadata"]["annotations"], {"a~/b": "c"})
        self.assertEqual(out["metadata"]["labels"], {"l": "2"})
        st, err = self.d.patch(PODS + "/pt", [{"op": "test", "path": "/metadata/labels/l",
                                              "value": "9"}], "application/json-patch+json")
        self.assertEqual(st, 422)
        out = self.ok(self.d.patch(PODS + "/pt", [
            {"op": "remove", "path": "/metadata/annotations/a~0~1b"}],
            "application/json-patch+json"))
        self.assertNotIn("annotations", out["metadata"])
        # merge patch with null deletes a key; changing immutable pod spec fields is refused
        out = self.ok(self.d.patch(PODS + "/pt", {"metadata": {"labels": {"l": None}}}))
        self.assertFalse(out["metadata"].get("labels"))
        st, err = self.d.patch(PODS + "/pt", {"spec": {"restartPolicy": "Never"}})
        self.assertEqual((st, err["reason"]), (422, "Invalid"))
        # a patch carrying a stale resourceVersion conflicts
        st, err = self.d.patch(PODS + "/pt", {"metadata": {"resourceVersion": "1",
                                                           "labels": {"x": "y"}}})
        self.assertEqual(st, 409)

    def test_graceful_pod_deletion(self):
        self.ok(self.d.create(PODS, pod("gd", node="node1")), 201)
        st, cur = self.d.get(PODS + "/gd")
        w = self.d.watch(PODS, {"fieldSelector": "metadata.name=gd", "timeoutSeconds": "2",
                                "resourceVersion": cur["metadata"]["resourceVersion"]})
        out = self.ok(self.d.request("DELETE", PODS + "/gd"))
        self.assertEqual(out["metadata"]["deletionGracePeriodSeconds"], 30)
        self.assertTrue(out["metadata"]["deletionTimestamp"])
        self.assertEqual(self.d.get(PODS + "/gd")[0], 200)
        # a wrong uid precondition is a conflict
        st, err = self.d.request("DELETE", PODS + "/gd", {
            "kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
            "preconditions": {"uid": "not-the-uid"}})
        self.assertEqual(st, 409)
        self.ok(self.d.request("DELETE", PODS + "/gd", {
            "kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
            "preconditions": {"uid": cur["metadata"]["uid"]}}))
        self.assertEqual(self.d.get(PODS + "/gd")[0], 404)
        evs = w.rest()
        w.close()
        self.assertEqual([e["type"] for e in evs], ["MODIFIED", "DELETED"])
        # unbound pods go at once
        self.ok(self.d.create(PODS, pod("gd2")), 201)
        out = self.ok(self.d.request("DELETE", PODS + "/gd2"))
        self.assertEqual(self.d.get(PODS + "/gd2")[0], 404)

    def test_finalizers_hold_deletion(self):
        self.ok(self.d.create(CM, cm("fin", finalizers=["example.com/hold"])), 201)
        out = self.ok(self.d.request("DELETE", CM + "/fin"))
        self.assertTrue(out["metadata"]["deletionTimestamp"])
        self.assertEqual(self.d.get(CM + "/fin")[0], 200)
        self.ok(self.d.patch(CM + "/fin", {"metadata": {"finalizers": None}}))
        self.assertEqual(self.d.get(CM + "/fin")[0], 404)

    def test_service_allocation(self):
        svc = self.ok(self.d.create(NS + "/services", {
            "metadata": {"name": "lb"}, "spec": {
                "type": "LoadBalancer", "externalTrafficPolicy": "Local",
                "selector": {"app": "lb"}, "ports": [{"name": "a", "port": 80},
                                                     {"name": "b", "port": 53,
                                                      "protocol": "UDP"}]}}), 201)
        spec = svc["spec"]
        self.assertTrue(spec["clusterIP"].startswith("10.9"))
        self.assertEqual(spec["clusterIPs"], [spec["clusterIP"]])
        for p in spec["ports"]:
            self.assertTrue(30000 <= p["nodePort"] <= 32767)
            self.assertEqual(p["targetPort"], p["port"])
        self.assertTrue(30000 <= spec["healthCheckNodePort"] <= 32767)
        self.assertEqual(spec["ipFamilies"], ["IPv4"])
        # an update that leaves out allocated values keeps them
        upd = json.loads(json.dumps(svc))
        del upd["spec"]["clusterIP"]
        del upd["spec"]["clusterIPs"]
        for p in upd["spec"]["ports"]:
            del p["nodePort"]
        out = self.ok(self.d.request("PUT", NS + "/services/lb", upd))
        self.assertEqual(out["spec"]["clusterIP"], spec["clusterIP"])
        self.assertEqual([p["nodePort"] for p in out["spec"]["ports"]],
                         [p["nodePort"] for p in spec["ports"]])
        st, err = self.d.create(NS + "/services", {"metadata": {"name": "dup"}, "spec": {
            "clusterIP": spec["clusterIP"], "ports": [{"port": 1}]}})
        self.assertEqual(st, 422)
        st, err = self.d.create(NS + "/services", {"metadata": {"name": "kube"}, "spec": {
            "clusterIP": "10.96.0.1", "ports": [{"port": 1}]}})
        self.assertEqual(st, 422)
        st, err = self.d.create(NS + "/services", {"metadata": {"name": "outside"}, "spec": {
            "clusterIP": "192.168.1.1", "ports": [{"port": 1}]}})
        self.assertEqual(st, 422)
        headless = self.ok(self.d.create(NS + "/services", {"metadata": {"name": "hl"},
                                                            "spec": {"clusterIP": "None",
                                                                     "selector": {"a": "b"}}}),
                           201)
        self.assertEqual(headless["spec"]["clusterIP"], "None")

    def test_endpointslice_named_port_and_terminating(self):
        self.ok(self.d.create(NS + "/services", {"metadata": {"name": "eps"}, "spec": {
            "selector": {"app": "eps"}, "ports": [{"name": "web", "port": 80,
                                                   "targetPort": "http"}]}}), 201)
        p = pod("eps-1", node="node1")
        p["metadata"]["labels"] = {"app": "eps"}
        p["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8081}]
        self.ok(self.d.create(PODS, p), 201)
        self.ok(self.d.patch(PODS + "/eps-1/status", {"status": {
            "phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
            "conditions": [{"type": "Ready", "status": "True"}]}},
            "application/strategic-merge-patch+json"))
        path = "/apis/discovery.k8s.io/v1/namespaces/proto/endpointslices?labelSelector=" \
               "kubernetes.io%2Fservice-name%3Deps"

        def wait(pred):
            deadline = time.time() + 5
            while time.time() < deadline:
                items = self.ok(self.d.get(path))["items"]
                if items and pred(items[0]):
                    return items[0]
                time.sleep(0.1)
            self.fail("slice never matched: %s" % items)
        sl = wait(lambda s: s.get("endpoints"))
        self.assertEqual(sl["ports"], [{"name": "web", "port": 8081, "protocol": "TCP"}])
        self.ok(self.d.request("DELETE", PODS + "/eps-1"))
        sl = wait(lambda s: s.get("endpoints") and
                  s["endpoints"][0]["conditions"]["terminating"])
        self.assertEqual(sl["endpoints"][0]["conditions"],
                         {"ready": False, "serving": True, "terminating": True})
        self.ok(self.d.request("DELETE", PODS + "/eps-1", {"gracePeriodSeconds": 0}))
        sl = wait(lambda s: not s.get("endpoints"))

    def test_endpointslices_per_address_family(self):
        # A dual-stack Service gets one slice per family from the pods' podIPs; an IPv4 Service
        # ignores the IPv6 address; the Endpoints object carries the primary family only.
        self.ok(self.d.create(NS + "/services", {"metadata": {"name": "ds"}, "spec": {
            "selector": {"app": "ds"}, "ipFamilyPolicy": "RequireDualStack",
            "ipFamilies": ["IPv6", "IPv4"], "ports": [{"port": 80}]}}), 201)
        self.ok(self.d.create(NS + "/services", {"metadata": {"name": "v4"}, "spec": {
            "selector": {"app": "ds"}, "ports": [{"port": 80}]}}), 201)
        p = pod("ds-1", node="node1")
        p["metadata"]["labels"] = {"app": "ds"}
        self.ok(self.d.create(PODS, p), 201)
        self.ok(self.d.patch(PODS + "/ds-1/status", {"status": {
            "phase": "Running", "podIP": "10.244.1.6",
            "podIPs": [{"ip": "10.244.1.6"}, {"ip": "fd00:244::6"}],
            "conditions": [{"type": "Ready", "status": "True"}]}},
            "application/strategic-merge-patch+json"))

        def slices(svc):
            path = ("/apis/discovery.k8s.io/v1/namespaces/proto/endpointslices?labelSelector="
                    "kubernetes.io%2Fservice-name%3D" + svc)
            return {s["addressType"]: [a for e in s.get("endpoints") or [] for a in e["addresses"]]
                    for s in self.ok(self.d.get(path))["items"]}
        deadline = time.time() + 5
        while time.time() < deadline and not (
                slices("ds") == {"IPv6": ["fd00:244::6"], "IPv4": ["10.244.1.6"]} and
                slices("v4") == {"IPv4": ["10.244.1.6"]}):
            time.sleep(0.1)
        self.assertEqual(slices("ds"), {"IPv6": ["fd00:244::6"], "IPv4": ["10.244.1.6"]})
        self.assertEqual(slices("v4"), {"IPv4": ["10.244.1.6"]})
        ep = self.ok(self.d.get(NS + "/endpoints/ds"))
        self.assertEqual([a["ip"] for a in ep["subsets"][0]["addresses"]], ["fd00:244::6"])

    # ------------------------------------------------------------------ auth
    def test_bearer_tokens_and_anonymous(self):
        token = read_kubeconfig_token(self.d.path("kube-proxy.kubeconfig"))
        st, lst = self.d.get("/api/v1/services", cert=None, token=token)
        self.assertEqual(st, 200)
        st, err = self.d.get("/api/v1/services", cert=None, token="wrong.token.value")
        self.assertEqual((st, err["reason"]), (401, "Unauthorized"))
        st, err = self.d.get("/api/v1/services", cert=None)
        self.assertEqual((st, err["reason"]), (403, "Forbidden"))
        self.assertIn("system:anonymous", err["message"])
        # TokenReview of the same token
        out = self.ok(self.d.create("/apis/authentication.k8s.io/v1/tokenreviews", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": {"token": token}}), 201)
        self.assertTrue(out["status"]["authenticated"])
        self.assertEqual(out["status"]["user"]["username"],
                         "system:serviceaccount:kube-system:kube-proxy")
        # TokenRequest issues a working, expiring token
        tr = self.ok(self.d.create("/api/v1/namespaces/proto/serviceaccounts/default/token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": 600}}), 201)
        self.assertTrue(tr["status"]["expirationTimestamp"])
        st, _ = self.d.get("/api/v1/namespaces/proto/configmaps", cert=None,
                           token=tr["status"]["token"])
        self.assertEqual(st, 200)

    def test_authorization_policy(self):
        token = read_kubeconfig_token(self.d.path("kube-proxy.kubeconfig"))
        self.d.control("POST", "authz", {"rules": [
            {"users": ["system:serviceaccount:kube-system:kube-proxy"], "verbs": ["delete"],
             "allow": False}]})
        try:
            st, err = self.d.request("DELETE", CM + "/whatever", cert=None, token=token)
            self.assertEqual(st, 403)
            sar = self.ok(self.d.create(
                "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
                    "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                    "spec": {"user": "system:serviceaccount:kube-system:kube-proxy",
                             "resourceAttributes": {"verb": "delete", "resource": "pods"}}}),
                201)
            self.assertFalse(sar["status"]["allowed"])
        finally:
            self.d.control("POST", "authz", {"rules": []})

    def test_bootstrap_csr_is_signed(self):
        tmp = tempfile.mkdtemp(dir=self.d.tmp)
        key, csr = os.path.join(tmp, "k"), os.path.join(tmp, "csr")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True)
        subprocess.run(["openssl", "req", "-new", "-key", key, "-subj",
                        "/O=system:nodes/CN=system:node:node7", "-out", csr], check=True,
                       capture_output=True)
        with open(csr, "rb") as f:
            req = base64.b64encode(f.read()).decode()
        token = read_kubeconfig_token(self.d.path("bootstrap-kubelet.kubeconfig"))
        self.assertEqual(token, "abcdef.0123456789abcdef")
        base = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
        out = self.ok(self.d.create(base, {
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"generateName": "node-csr-"},
            "spec": {"request": req, "usages": ["digital signature", "client auth"],
                     "signerName": "kubernetes.io/kube-apiserver-client-kubelet"}},
            cert=None, token=token), 201)
        self.assertEqual(out["spec"]["username"], "system:bootstrap:abcdef")
        self.assertIn("system:bootstrappers", out["spec"]["groups"])
        name = out["metadata"]["name"]
        w = self.d.watch(base, {"fieldSelector": "metadata.name=" + name,
                                "timeoutSeconds": "10"})
        cert = None
        while True:
            ev = w.next()
            if ev is None:
                break
            c = ev["object"].get("status", {}).get("certificate")
            if c:
                cert = base64.b64decode(c)
                conds = [x["type"] for x in ev["object"]["status"]["conditions"]]
                self.assertIn("Approved", conds)
                break
        w.close()
        self.assertIsNotNone(cert, "no certificate was issued")
        crt = os.path.join(tmp, "crt")
        with open(crt, "wb") as f:
            f.write(cert)
        p = subprocess.run(["openssl", "verify", "-CAfile", self.d.path("ca.crt"), crt],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # the bootstrap identity may not read pods
        st, _ = self.d.get("/api/v1/pods", cert=None, token=token)
        self.assertEqual(st, 403)

    # ------------------------------------------------------------------ faults
    def test_fault_injection(self):
        self.ok(self.d.control("POST", "faults", {"pathPrefix": CM, "method": "GET",
                                                  "count": 2, "code": 503}))
        self.assertEqual(self.d.get(CM)[0], 503)
        st, _, _ = self.d.request("GET", CM, raw=True)
        self.assertEqual(st, 503)
        self.assertEqual(self.d.get(CM)[0], 200)
        self.ok(self.d.control("POST", "faults", {"pathPrefix": CM, "count": 1, "code": 429}))
        st, resp, _ = self.d.request("GET", CM, raw=True)
        self.assertEqual((st, resp.getheader("Retry-After")), (429, "1"))
        self.ok(self.d.control("POST", "faults", {"pathPrefix": CM, "count": 1, "delay": 0.5}))
        t0 = time.time()
        self.assertEqual(self.d.get(CM)[0], 200)
        self.assertGreaterEqual(time.time() - t0, 0.5)


if __name__ == "__main__":
    unittest.main()
