"""Unit tests of the double's pure parts: protobuf decoding, patches, selectors, store."""

import unittest

from kdouble import protobuf as pb
from kdouble.errors import ApiError
from kdouble.patch import json_patch, merge_patch, strategic_merge_patch
from kdouble.selection import FieldSelector, LabelSelector
from kdouble.store import Store, TooOld

F = pb.encode_field


def map_entry(fno, k, v):
    return F(fno, F(1, k) + F(2, v))


class ProtobufTest(unittest.TestCase):
    def test_pod_envelope(self):
        meta = F(1, "web") + F(3, "ns") + map_entry(11, "app", "web") + \
            F(8, F(1, 0) + F(2, 0))          # zero creationTimestamp, as Go writes it
        port = F(1, "") + F(2, 0) + F(3, 8080) + F(4, "TCP") + F(5, "")
        tport = F(1, 1) + F(2, 0) + F(3, "http")
        container = F(1, "c") + F(2, "busybox") + F(4, "sleep") + F(4, "10") + F(6, port) + \
            F(7, F(1, "A") + F(2, "B")) + F(8, b"") + F(16, False)
        spec = F(2, container) + F(3, "Never") + F(4, 0) + F(10, "") + F(21, False)
        raw = F(1, meta) + F(2, spec) + F(3, b"")
        obj = pb.decode_object(pb.envelope("v1", "Pod", raw))
        self.assertEqual(obj["kind"], "Pod")
        self.assertEqual(obj["apiVersion"], "v1")
        self.assertEqual(obj["metadata"], {"name": "web", "namespace": "ns",
                                           "labels": {"app": "web"}})
        c = obj["spec"]["containers"][0]
        self.assertEqual(c, {"name": "c", "image": "busybox", "args": ["sleep", "10"],
                             "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                             "env": [{"name": "A", "value": "B"}], "resources": {}})
        # pointer fields keep their zero values; plain ones are dropped like omitempty
        self.assertEqual(obj["spec"]["terminationGracePeriodSeconds"], 0)
        self.assertIs(obj["spec"]["automountServiceAccountToken"], False)
        self.assertNotIn("nodeName", obj["spec"])
        self.assertEqual(obj["status"], {})
        svc_port = F(1, "http") + F(2, "TCP") + F(3, 80) + F(4, tport)
        svc = pb.decode_object(pb.envelope("v1", "Service", F(2, F(1, svc_port))))
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "http")

    def test_secret_bytes_time_and_negative_ints(self):
        sec = pb.decode_object(pb.envelope("v1", "Secret", map_entry(2, "k", b"\x00\xff") +
                                           F(3, "Opaque")))
        self.assertEqual(sec["data"], {"k": "AP8="})
        meta = F(9, F(1, 1700000000) + F(2, 0)) + F(10, -1)
        cm = pb.decode_object(pb.envelope("v1", "ConfigMap", F(1, meta)))
        self.assertEqual(cm["metadata"]["deletionTimestamp"], "2023-11-14T22:13:20Z")
        self.assertEqual(cm["metadata"]["deletionGracePeriodSeconds"], -1)

    def test_errors(self):
        with self.assertRaises(pb.ProtobufError):
            pb.decode_object(b"{}")
        with self.assertRaises(pb.ProtobufError):
            pb.decode_object(pb.envelope("apps/v1", "Frobnicator", b""))
        with self.assertRaises(pb.ProtobufError):
            pb.decode_object(pb.envelope("v1", "Pod", b"\x0a\xff"))


class PatchTest(unittest.TestCase):
    def test_merge_patch(self):
        self.assertEqual(merge_patch({"a": {"b": 1, "c": 2}, "l": [1]},
                                     {"a": {"b": None, "d": 3}, "l": [2]}),
                         {"a": {"c": 2, "d": 3}, "l": [2]})

    def test_strategic_lists(self):
        orig = {"spec": {"containers": [{"name": "a", "image": "1", "ports": [
            {"containerPort": 80, "protocol": "TCP"}]}, {"name": "b", "image": "1"}],
            "tolerations": [{"key": "x"}]},
            "metadata": {"finalizers": ["f1"]}}
        out = strategic_merge_patch(orig, {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 81}]},
                                    {"name": "b", "$patch": "delete"}],
                     "tolerations": [{"key": "y"}]},
            "metadata": {"finalizers": ["f2"]}})
        self.assertEqual(out["spec"]["containers"], [{"name": "a", "image": "1", "ports": [
            {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}]}])
        self.assertEqual(out["spec"]["tolerations"], [{"key": "y"}])
        self.assertEqual(out["metadata"]["finalizers"], ["f1", "f2"])
        out = strategic_merge_patch({"spec": {"a": 1, "b": 2}},
                                    {"spec": {"$patch": "replace", "c": 3}})
        self.assertEqual(out, {"spec": {"c": 3}})
        out = strategic_merge_patch({"m": {"f": ["a", "b"]}},
                                    {"m": {"$deleteFromPrimitiveList/f": ["a"]}})
        self.assertEqual(out, {"m": {"f": ["b"]}})

    def test_json_patch(self):
        doc = {"a": [1, 2], "b": {"c": 1}}
        out = json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3},
                               {"op": "move", "from": "/b/c", "path": "/d"},
                               {"op": "copy", "from": "/d", "path": "/e"},
                               {"op": "remove", "path": "/a/0"}])
        self.assertEqual(out, {"a": [2, 3], "b": {}, "d": 1, "e": 1})
        self.assertEqual(doc, {"a": [1, 2], "b": {"c": 1}})
        with self.assertRaises(ApiError):
            json_patch(doc, [{"op": "replace", "path": "/zz", "value": 1}])


class SelectorTest(unittest.TestCase):
    def test_labels(self):
        s = LabelSelector.parse("a=1,b==2,c!=3,d in (x, y),e notin (z),f,!g")
        self.assertTrue(s.matches({"a": "1", "b": "2", "d": "y", "f": ""}))
        self.assertFalse(s.matches({"a": "1", "b": "2", "d": "y", "f": "", "g": "1"}))
        self.assertFalse(s.matches({"a": "1", "b": "2", "c": "3", "d": "y", "f": ""}))
        self.assertFalse(s.matches({"a": "1", "b": "2", "d": "y", "e": "z", "f": ""}))
        with self.assertRaises(ApiError):
            LabelSelector.parse("a b c")

    def test_fields(self):
        pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "x"},
               "status": {"phase": "Running"}}
        self.assertTrue(FieldSelector.parse("spec.nodeName=x,status.phase!=Failed",
                                            "pods").matches(pod))
        self.assertFalse(FieldSelector.parse("metadata.name==q", "pods").matches(pod))
        with self.assertRaises(ApiError):
            FieldSelector.parse("spec.nodeName=x", "configmaps")


class StoreTest(unittest.TestCase):
    def test_history_and_list_at(self):
        s = Store()
        s.create("cm", {"metadata": {"name": "a", "namespace": "n"}, "v": 1})
        rv1 = s.rv
        s.update("cm", {"metadata": {"name": "a", "namespace": "n"}, "v": 2})
        s.create("cm", {"metadata": {"name": "b", "namespace": "n"}})
        s.delete("cm", "n", "a")
        self.assertEqual([o["metadata"]["name"] for o in s.list("cm")[0]], ["b"])
        old = s.list_at("cm", rv1)
        self.assertEqual([(o["metadata"]["name"], o["v"]) for o in old], [("a", 1)])
        evs, head = s.events_after(rv1)
        self.assertEqual([e.type for e in evs], ["MODIFIED", "ADDED", "DELETED"])
        s.set_window(1)
        with self.assertRaises(TooOld):
            s.events_after(rv1)
        self.assertEqual(len(s.events_after(head - 1)[0]), 1)


if __name__ == "__main__":
    unittest.main()
