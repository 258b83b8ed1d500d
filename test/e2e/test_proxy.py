"""End-to-end: `knode proxy` (iptables mode) against the API server double, with real packets:
ClusterIP, NodePort, externalTrafficPolicy=Local with its health check node port, endpoint changes,
REJECT without endpoints, repair after a flush, servers, dry-run, SIGTERM and cleanup, a busy healthz
port (retried, or fatal with bindAddressHardFail). The
topology is proxy_world's; test_proxy_services.py covers the other Service kinds.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import knode_e2e  # noqa: E402
import proxy_world  # noqa: E402
from proxy_world import CLIENT, EXT, NODE, NODE_IP, NODE_NAME, POD_IPS, in_ns  # noqa: E402


@unittest.skipUnless(proxy_world.usable(), "needs root, ip, busybox, kubectl, iptables and the knode binary")
class ProxyE2E(proxy_world.ProxyWorld):
    @classmethod
    def cluster_objects(cls):
        cls.add_service("web", {"type": "NodePort", "selector": {"app": "web"},
                                "ports": [{"name": "http", "port": 80, "targetPort": 8080}]})
        cls.add_service("empty", {"selector": {"app": "nothing"}, "ports": [{"port": 80, "targetPort": 8080}]})
        cls.add_service("lb-local", {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                                     "selector": {"app": "web"},
                                     "ports": [{"name": "http", "port": 80, "targetPort": 8080}]})
        cls.add_service("lb-none", {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                                    "selector": {"app": "nothing"},
                                    "ports": [{"name": "http", "port": 80, "targetPort": 8080}]})

    # ------------------------------------------------------------------ tests (run in name order)
    def test_01_cluster_ip_reaches_all_three_pods(self):
        t0 = time.time()
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 30, "ClusterIP to answer")
        print("\n  first ClusterIP answer %.2fs after the proxy started" % (time.time() - t0), file=sys.stderr)
        self.assertEqual(self.bodies(self.cluster_url(), 40), {"pod1", "pod2", "pod3"})

    def test_02_node_port_from_outside(self):
        port = self.svc["web"]["spec"]["ports"][0]["nodePort"]
        url = "http://%s:%d/" % (NODE_IP, port)
        self.wait_for(lambda: self.get(EXT, url)[0] == 0, 20, "NodePort to answer")
        self.assertEqual(self.bodies(url, 40, ns=EXT), {"pod1", "pod2", "pod3"})

    def test_03_local_policy_health_check_node_port(self):
        hc = self.svc["lb-local"]["spec"]["healthCheckNodePort"]
        self.assertGreater(hc, 0)
        status, body = self.wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
            self.http(EXT, "http://%s:%d/" % (NODE_IP, hc))), 20, "health check node port")
        doc = json.loads(body)
        self.assertEqual(doc, {"service": {"namespace": "default", "name": "lb-local"}, "localEndpoints": 3,
                               "serviceProxyHealthy": True})
        # nodePortAddresses unset: one listener on every address, as upstream.
        self.assertEqual(self.listeners(hc), ["0.0.0.0:%d" % hc])
        hc2 = self.svc["lb-none"]["spec"]["healthCheckNodePort"]
        status, body = self.wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
            self.http(EXT, "http://%s:%d/" % (NODE_IP, hc2))), 20, "503 from the empty service's health check")
        self.assertEqual(json.loads(body)["localEndpoints"], 0)
        # eTP=Local NodePort works from outside with local endpoints.
        port = self.svc["lb-local"]["spec"]["ports"][0]["nodePort"]
        self.wait_for(lambda: self.get(EXT, "http://%s:%d/" % (NODE_IP, port))[0] == 0, 20, "Local NodePort")

    def test_04_removed_endpoint_stops_getting_traffic(self):
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 20, "ClusterIP")
        t0 = time.time()
        self.set_ready("web-3", POD_IPS[2], ready=False)
        self.wait_for(lambda: "pod3" not in self.bodies(self.cluster_url(), 12), 20, "pod3 to leave")
        print("\n  not-ready endpoint out of rotation within %.2fs (incl. kubectl)" % (time.time() - t0),
              file=sys.stderr)
        self.assertEqual(self.bodies(self.cluster_url(), 40), {"pod1", "pod2"})
        self.set_ready("web-3", POD_IPS[2], ready=True)
        self.wait_for(lambda: "pod3" in self.bodies(self.cluster_url(), 20), 20, "pod3 to come back")

    def test_05_no_endpoints_refused_at_once(self):
        url = self.cluster_url("empty")
        last = []
        self.wait_for(lambda: "refused" in (last.append(self.get(CLIENT, url)) or last[-1])[2].lower(), 20,
                      "REJECT of the empty service (last answer %r)" % (last[-1:],))
        t0 = time.time()
        rc, _, err = self.get(CLIENT, url, timeout=5)
        took = time.time() - t0
        self.assertNotEqual(rc, 0)
        self.assertIn("refused", err.lower())
        self.assertLess(took, 1.0)

    def test_06_flushed_nat_table_is_restored_within_a_sync(self):
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 20, "ClusterIP")
        in_ns(NODE, "iptables", "-t", "nat", "-F")
        t0 = time.time()
        self.assertNotEqual(self.get(CLIENT, self.cluster_url(), timeout=1)[0], 0)
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url(), timeout=1)[0] == 0, 8, "rules to be restored")
        took = time.time() - t0
        print("\n  nat flush repaired after %.2fs (syncPeriod 3s)" % took, file=sys.stderr)
        self.assertLess(took, 3 + 2.5)

    def test_07_healthz_metrics_proxymode_configz(self):
        status, body = self.http(NODE, "http://127.0.0.1:10256/healthz")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(set(doc), {"lastUpdated", "currentTime", "nodeEligible"})
        self.assertTrue(doc["nodeEligible"])
        self.assertEqual(self.http(NODE, "http://127.0.0.1:10256/livez")[0], 200)
        status, metrics = self.http(NODE, "http://127.0.0.1:10249/metrics")
        self.assertEqual(status, 200)
        for name in ("kubeproxy_sync_proxy_rules_duration_seconds", "kubeproxy_sync_full_proxy_rules_duration_seconds",
                     "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                     "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                     "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                     "kubeproxy_network_programming_duration_seconds", "kubeproxy_sync_proxy_rules_iptables_total",
                     "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
                     "kubeproxy_sync_proxy_rules_endpoint_changes_total",
                     "kubeproxy_sync_proxy_rules_service_changes_total",
                     "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "rest_client_requests_total"):
            self.assertIn(name, metrics)
        for line in metrics.splitlines():
            if line.startswith("kubeproxy_sync_partial_proxy_rules_duration_seconds_sum") or \
                    line.startswith("kubeproxy_sync_partial_proxy_rules_duration_seconds_count"):
                print("\n  " + line, file=sys.stderr)
        self.assertEqual(self.http(NODE, "http://127.0.0.1:10249/proxyMode"), (200, "iptables"))  # body stripped
        status, configz = self.http(NODE, "http://127.0.0.1:10249/configz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(configz)["kubeproxy.config.k8s.io"]["mode"], "iptables")

    def test_08_dry_run_prints_the_ruleset(self):
        r = in_ns(NODE, knode_e2e.KNODE, "proxy", "--config", self.config, "--dry-run", check=False, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("*nat", r.stdout)
        self.assertIn("-A KUBE-SERVICES", r.stdout)
        self.assertIn(self.svc["web"]["spec"]["clusterIP"], r.stdout)
        self.assertIn("COMMIT", r.stdout)

    def test_08a_starting_event_on_the_node(self):
        # As upstream: one events.k8s.io/v1 Event, reason Starting, action StartKubeProxy, about the Node.
        def starting():
            items = json.loads(self.kubectl("get", "events.v1.events.k8s.io", "-n", "default", "-o", "json").stdout)["items"]
            return [e for e in items if e.get("reason") == "Starting" and e.get("regarding", {}).get("name") == NODE_NAME]
        self.wait_for(starting, 10, "the Starting event")
        ev = starting()[0]
        self.assertEqual(ev["regarding"], {"kind": "Node", "name": NODE_NAME, "uid": NODE_NAME})
        self.assertEqual(ev["action"], "StartKubeProxy")
        self.assertEqual(ev["type"], "Normal")
        self.assertEqual(ev["reportingController"], "kube-proxy")
        self.assertTrue(ev["reportingInstance"].startswith("kube-proxy-"), ev["reportingInstance"])
        self.assertRegex(ev["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertTrue(ev["metadata"]["name"].startswith(NODE_NAME + "."), ev["metadata"]["name"])

    def test_09_sigterm_then_cleanup(self):
        self.proxy.send_signal(signal.SIGTERM)
        self.assertEqual(self.proxy.wait(timeout=15), 0)
        self.assertIn("KUBE-SVC-", in_ns(NODE, "iptables-save").stdout)
        r = in_ns(NODE, knode_e2e.KNODE, "proxy", "--config", self.config, "--cleanup", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = in_ns(NODE, "iptables-save").stdout
        self.assertNotIn("KUBE-SVC-", after)
        self.assertNotIn("KUBE-SERVICES", after)

    def test_10_busy_healthz_port_retried_or_fatal_with_bind_address_hard_fail(self):
        # test_09's proxy is gone; another process holds the healthz port.
        holder = self.background(NODE, sys.executable, "-c",
                                 "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
                                 " s.bind(('0.0.0.0',10256)); s.listen(); time.sleep(600)")
        self.wait_for(lambda: self.listeners(10256), 10, "the port holder")
        hard = os.path.join(self.tmp, "proxy-hard-fail.yaml")
        with open(self.config) as src, open(hard, "w") as dst:
            dst.write(src.read() + "bindAddressHardFail: true\n")
        r = in_ns(NODE, knode_e2e.KNODE, "proxy", "--config", hard, check=False, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('"Healthz server failed"', r.stderr)
        self.assertNotIn("KUBE-SVC-", in_ns(NODE, "iptables-save").stdout)  # it exited before syncing
        # Without it the proxy runs on and binds as soon as the port is free (retried every 5 s).
        offset = len(self.proxy_text())
        self.start_proxy()
        self.wait_for(lambda: '"Healthz server failed"' in self.proxy_text()[offset:], 20, "the bind failure")
        self.wait_for(lambda: self.get(CLIENT, self.cluster_url())[0] == 0, 20, "rules from the running proxy")
        holder.kill()
        holder.wait()
        t0 = time.time()
        self.wait_for(lambda: self.http(NODE, "http://127.0.0.1:10256/healthz")[0] == 200, 10, "healthz after retry")
        print("\n  healthz served %.2fs after its port was freed (retry every 5s)" % (time.time() - t0), file=sys.stderr)
        self.assertEqual(self.stop_proxy(), 0)


if __name__ == "__main__":
    unittest.main()
