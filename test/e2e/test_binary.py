"""The multi-call binary: dispatch, role versions, help. (Each role's e2e tests cover its shutdown.)"""
import unittest

from knode_e2e import run


class DispatchTest(unittest.TestCase):
    def test_version(self):
        r = run("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^knode v\d+\.\d+\.\d+")

    def test_role_version_like_upstream(self):
        # kubeadm and installers parse "Kubernetes vX.Y.Z" from `kubelet --version`.
        for argv0 in ("kubelet", "kube-proxy"):
            r = run("--version", argv0=argv0)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout.strip(), r"^Kubernetes v1\.\d+\.\d+$")
        r = run("kubelet", "--version")
        self.assertRegex(r.stdout.strip(), r"^Kubernetes v1\.\d+\.\d+$")

    def test_help_per_role(self):
        r = run("kubelet", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("kubelet", r.stdout)
        r = run("proxy", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("kube-proxy", r.stdout)

    def test_unknown_command_and_flag(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown command frobnicate", r.stderr)
        r = run("kubelet", "--no-such-flag")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown flag: --no-such-flag", r.stderr)

    def test_no_args_prints_usage(self):
        r = run()
        self.assertEqual(r.returncode, 1)
        self.assertIn("Usage:", r.stderr)


if __name__ == "__main__":
    unittest.main()
