"""Helpers shared by the e2e tests: where the binary is, running it, waiting for log lines."""
import os
import select
import subprocess
import tempfile
import time

SOURCE_DIR = os.environ.get("KNODE_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
KNODE = os.environ.get("KNODE_BIN", os.path.join(SOURCE_DIR, "build", "knode"))
FIXTURES = os.path.join(SOURCE_DIR, "test", "fixtures")


def run(*args, argv0=None, timeout=30, **kw):
    """Runs knode with args; returns CompletedProcess with text output."""
    exe = KNODE
    if argv0:
        d = tempfile.mkdtemp(prefix="knode-argv0-")
        exe = os.path.join(d, argv0)
        os.symlink(KNODE, exe)
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout, **kw)


def start(*args, argv0=None, **kw):
    exe = KNODE
    if argv0:
        d = tempfile.mkdtemp(prefix="knode-argv0-")
        exe = os.path.join(d, argv0)
        os.symlink(KNODE, exe)
    return subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for_line(stream, needle, timeout=10.0):
    """Reads lines from a process pipe until one contains needle; returns the text read so far."""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        if needle.encode() in buf:
            return buf.decode(errors="replace")
    raise AssertionError(f"no line containing {needle!r} within {timeout}s; saw: {buf.decode(errors='replace')}")
