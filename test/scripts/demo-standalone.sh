#!/usr/bin/env bash
# knode as a standalone kubelet (no API server): runs the sample static pod
# packaging/examples/static-pods/hello.yaml on the test containerd, waits until the pod answers HTTP
# on its pod IP, prints the pod's status and the answer, and cleans up (pod, agent) on exit.
#
#   sudo test/scripts/demo-standalone.sh [path/to/knode]
#
# Needs root, containerd, runc and the CNI plugins (packaging/setup.sh); the test containerd is
# started by test/scripts/containerd-up.sh and left running.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KNODE=${1:-$SRC/build/knode}
[[ -x $KNODE ]] || { echo "demo: $KNODE not built (cmake --build build)" >&2; exit 1; }

SOCK=$("$SRC/test/scripts/containerd-up.sh")
WORK=$(mktemp -d /tmp/knode-demo.XXXXXX)
mkdir -p "$WORK/manifests" "$WORK/root"
cp "$SRC/packaging/examples/static-pods/hello.yaml" "$WORK/manifests/"
STATUS=$WORK/root/pods-status.json
AGENT=

cleanup() {
  set +e
  if [[ -n $AGENT ]] && kill -0 "$AGENT" 2>/dev/null; then
    echo "demo: removing the manifest; the kubelet stops the pod" >&2
    rm -f "$WORK/manifests/hello.yaml"
    for _ in $(seq 1 60); do
      python3 - "$STATUS" <<'PY' && break
import json, sys
sys.exit(0 if not json.load(open(sys.argv[1]))["items"] else 1)
PY
      sleep 0.5
    done
    kill -TERM "$AGENT"
    wait "$AGENT" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "demo: $KNODE kubelet --pod-manifest-path=$WORK/manifests --container-runtime-endpoint=unix://$SOCK --root-dir=$WORK/root" >&2
"$KNODE" kubelet --pod-manifest-path="$WORK/manifests" --container-runtime-endpoint="unix://$SOCK" \
  --root-dir="$WORK/root" --hostname-override=demo-node --file-check-frequency=2s \
  2>"$WORK/kubelet.log" &
AGENT=$!

# Wait until the pod is Running and Ready (its readiness probe answered) with an IP, then ask it.
IP=
for _ in $(seq 1 120); do
  kill -0 "$AGENT" 2>/dev/null || { echo "demo: the kubelet exited:" >&2; cat "$WORK/kubelet.log" >&2; exit 1; }
  IP=$(python3 - "$STATUS" 2>/dev/null <<'PY' || true
import json, sys
for p in json.load(open(sys.argv[1]))["items"]:
    cs = p["status"].get("containerStatuses", [{}])
    if p["metadata"]["name"] == "hello-demo-node" and p["status"].get("phase") == "Running" and cs[0].get("ready"):
        print(p["status"].get("podIP", ""))
PY
)
  [[ -n $IP ]] && break
  sleep 0.5
done
[[ -n $IP ]] || { echo "demo: the pod did not start; kubelet log:" >&2; cat "$WORK/kubelet.log" >&2; exit 1; }

ANSWER=
for _ in $(seq 1 40); do
  ANSWER=$(curl -fsS --max-time 2 "http://$IP:8080/" 2>/dev/null) && break
  sleep 0.25
done

echo "== pod status ($STATUS)"
python3 - "$STATUS" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["items"]:
    s = p["status"]
    print(f'{p["metadata"]["namespace"]}/{p["metadata"]["name"]}  uid={p["metadata"]["uid"]}  phase={s["phase"]}  podIP={s.get("podIP")}  qos={s.get("qosClass")}')
    for c in s.get("conditions", []):
        print(f'  condition {c["type"]}={c["status"]}')
    for c in s.get("containerStatuses", []):
        state = next(iter(c["state"]))
        print(f'  container {c["name"]}: {state} ready={c.get("ready", False)} restarts={c.get("restartCount", 0)} id={c.get("containerID")}')
PY
echo "== GET http://$IP:8080/"
[[ -n $ANSWER ]] || { echo "demo: no HTTP answer from $IP:8080" >&2; exit 1; }
echo "$ANSWER"
