"""`knode config print` and the roles' configuration errors, on kubeadm-shaped files."""
import os
import tempfile
import unittest

from knode_e2e import FIXTURES, run


def read(path):
    with open(path) as f:
        return f.read()


def write_temp(text, name="config.yaml"):
    d = tempfile.mkdtemp(prefix="knode-cfg-")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class ConfigPrintTest(unittest.TestCase):
    def test_kubelet_kubeadm_config(self):
        r = run("config", "print", "kubelet", "--config", os.path.join(FIXTURES, "kubelet", "kubeadm-config.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, read(os.path.join(FIXTURES, "kubelet", "kubeadm-effective.yaml")))

    def test_proxy_kubeadm_configmap(self):
        r = run("config", "print", "proxy", "--config", os.path.join(FIXTURES, "proxy", "config.conf"))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        # kubeadm writes 0s/null everywhere; upstream's defaults fill them in.
        for line in ("apiVersion: kubeproxy.config.k8s.io/v1alpha1", "kind: KubeProxyConfiguration",
                     "  masqueradeBit: 14", "  syncPeriod: 30s", "  minSyncPeriod: 1s",
                     "  maxPerCore: 32768", "  min: 131072", "  tcpEstablishedTimeout: 24h0m0s",
                     "  tcpCloseWaitTimeout: 1h0m0s", "configSyncPeriod: 15m0s", "oomScoreAdj: -999",
                     "healthzBindAddress: 0.0.0.0:10256", "metricsBindAddress: 127.0.0.1:10249",
                     "mode: iptables"):
            self.assertIn(line + "\n", out)

    def test_kubelet_flags_override_file(self):
        r = run("config", "print", "kubelet", "--config", os.path.join(FIXTURES, "kubelet", "kubeadm-config.yaml"),
                "--max-pods=42", "--node-labels=a=b")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("maxPods: 42\n", r.stdout)
        self.assertIn("--max-pods has been deprecated", r.stderr)

    def test_kubelet_without_config_uses_legacy_defaults(self):
        r = run("config", "print", "kubelet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("readOnlyPort: 10255\n", r.stdout)
        self.assertIn("mode: AlwaysAllow\n", r.stdout)

    def test_bad_files_give_one_line_errors(self):
        bad = write_temp("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                         "nodeStatusUpdateFrequency: 10x\n")
        for args in (("config", "print", "kubelet", "--config", bad), ("kubelet", "--config", bad)):
            r = run(*args)
            self.assertEqual(r.returncode, 1)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(f'{bad}: nodeStatusUpdateFrequency: invalid duration "10x"', lines[0])

        badp = write_temp("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                          "iptables:\n  masqueradeBit: 40\n")
        r = run("config", "print", "proxy", "--config", badp)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("iptables.masqueradeBit", r.stderr)
        self.assertIn("40", r.stderr)

        wrong_kind = write_temp("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n")
        r = run("config", "print", "kubelet", "--config", wrong_kind)
        self.assertEqual(r.returncode, 1)
        self.assertIn("KubeProxyConfiguration", r.stderr)

    def test_unknown_field_is_a_warning(self):
        path = write_temp("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                          "maxPods: 20\nnoSuchField: 1\n")
        r = run("config", "print", "kubelet", "--config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("noSuchField", r.stderr)
        self.assertIn("maxPods: 20\n", r.stdout)

    def test_write_config_to(self):
        out = os.path.join(tempfile.mkdtemp(prefix="knode-cfg-"), "written.yaml")
        r = run("proxy", "--config", os.path.join(FIXTURES, "proxy", "config.conf"), "--write-config-to", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kind: KubeProxyConfiguration", read(out))


if __name__ == "__main__":
    unittest.main()
