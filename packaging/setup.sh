#!/usr/bin/env bash
# One command on a fresh Debian 12 machine (as root): install every dependency and build knode.
#   packaging/setup.sh            → build/knode (RelWithDebInfo, tests and benchmarks included)
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
ln -sf knode build/kubelet
ln -sf knode build/kube-proxy
echo "setup: built $(pwd)/build/knode"
