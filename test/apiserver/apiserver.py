#!/usr/bin/env python3
"""A stand-in for kube-apiserver used by knode's tests.

  python3 test/apiserver/apiserver.py --listen 127.0.0.1:PORT --state-dir DIR [--node-name NAME]

See README.md beside this file."""

import argparse
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kdouble.server import App  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description="Kubernetes API server double")
    ap.add_argument("--listen", required=True, help="HOST:PORT to serve HTTPS on")
    ap.add_argument("--state-dir", required=True, help="directory for certificates, "
                    "kubeconfigs and the persisted objects")
    ap.add_argument("--node-name", default=None, help="bind unscheduled pods to this node")
    ap.add_argument("--log-file", default=None, help="request log (default: stderr)")
    args = ap.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        ap.error("--listen must be HOST:PORT")
    log = open(args.log_file, "a") if args.log_file else None
    app = App(host, int(port), args.state_dir, args.node_name, log)
    app.bootstrap()

    def stop(signum, frame):
        threading.Thread(target=app.shutdown, daemon=True).start()

    def hup(signum, frame):
        app.store.drop_watches()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, hup)
    app.serve()
    app.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
