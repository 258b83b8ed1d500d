"""The multi-call binary: dispatch, version, help, clean shutdown on SIGTERM/SIGINT."""
import re
import signal
import unittest

from knode_e2e import run, start, wait_for_line

KLOG_LINE = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [\w.+-]+:\d+\] ")


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


class ShutdownTest(unittest.TestCase):
    def check_role_stops(self, args, argv0, sig, started):
        p = start(*args, argv0=argv0)
        try:
            head = wait_for_line(p.stderr, started)
            p.send_signal(sig)
            out, err = p.communicate(timeout=10)
            err = head + err
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("shutting down", err)
        for line in err.strip().splitlines():
            self.assertRegex(line, KLOG_LINE)

    def test_proxy_sigterm(self):
        self.check_role_stops([], "kube-proxy", signal.SIGTERM, "Starting kube-proxy")

    def test_kubelet_sigint(self):
        self.check_role_stops(["kubelet"], None, signal.SIGINT, "Starting kubelet")


if __name__ == "__main__":
    unittest.main()
