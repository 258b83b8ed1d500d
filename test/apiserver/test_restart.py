"""Restarting the double on the same state directory."""

import unittest

from harness import Double, read_kubeconfig_token


class RestartTest(unittest.TestCase):
    def test_objects_versions_and_watch_survive_restart(self):
        d = Double(node_name="node1").start()
        try:
            ns = "/api/v1/namespaces/default/configmaps"
            st, a = d.create(ns, {"metadata": {"name": "keep"}, "data": {"v": "1"}})
            self.assertEqual(st, 201)
            rv_a = a["metadata"]["resourceVersion"]
            st, b = d.create(ns, {"metadata": {"name": "keep2"}})
            self.assertEqual(st, 201)
            uid = a["metadata"]["uid"]
            with open(d.path("ca.crt")) as f:
                ca_before = f.read()
            token = read_kubeconfig_token(d.path("kube-proxy.kubeconfig"))
            d.stop()

            d.start()
            st, a2 = d.get(ns + "/keep")
            self.assertEqual(st, 200)
            self.assertEqual(a2["metadata"]["resourceVersion"], rv_a)
            self.assertEqual(a2["metadata"]["uid"], uid)
            with open(d.path("ca.crt")) as f:
                self.assertEqual(f.read(), ca_before)
            # tokens issued before the restart still work
            st, _ = d.get(ns, cert=None, token=token)
            self.assertEqual(st, 200)
            # resourceVersions keep growing
            st, c = d.create(ns, {"metadata": {"name": "after"}})
            self.assertEqual(st, 201)
            self.assertGreater(int(c["metadata"]["resourceVersion"]),
                               int(b["metadata"]["resourceVersion"]))
            # a watch from before the restart replays what happened since
            w = d.watch(ns, {"resourceVersion": rv_a, "timeoutSeconds": "1"})
            evs = w.rest()
            w.close()
            self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                             [("ADDED", "keep2"), ("ADDED", "after")])
            # the default/kubernetes service is not duplicated
            st, svcs = d.get("/api/v1/namespaces/default/services")
            self.assertEqual([s["metadata"]["name"] for s in svcs["items"]], ["kubernetes"])
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
