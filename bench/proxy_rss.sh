#!/bin/bash
# The real `knode proxy` process's memory at scale: SERVICES Services (one TCP port each) and as
# many EndpointSlices of ENDPOINTS endpoints, served by the API server double
# (test/apiserver/apiserver.py), the proxy programming iptables in a network namespace made here.
# Prints VmRSS, RssAnon and VmHWM (peak) of the proxy once its first full sync is done.
#
#   sudo bench/proxy_rss.sh [--services N] [--endpoints M] [--knode PATH] [--keep DIR] [--repair]
#
# --repair: then flushes the proxy's nat KUBE-PROXY-CANARY chain (as a foreign `iptables -F` would)
# and reports the same after the full sync that repairs it (iptables-save of the whole ruleset,
# compare, rewrite what differs), with the peak reset just before the flush (syncPeriod 15 s).
#
# The objects are written into the double's state file before it starts (creating 10 000 objects
# through the API one by one would take minutes); they are shaped as a cluster serves them (uid,
# creationTimestamp, ownerReferences, targetRef, zone, ...). The Services have no selector, so the
# double's EndpointSlice controller leaves the pre-made slices alone. The Node node1 exists (the
# proxy would otherwise wait for it before its first sync). Everything (netns, double,
# proxy, temporary directory) is removed at the end. iptables-legacy is used (a kubelet canary
# chain is made in the netns before the proxy starts).
set -euo pipefail

SERVICES=10000
ENDPOINTS=10
KNODE="$(cd "$(dirname "$0")/.." && pwd)/build/knode"
KEEP=""
REPAIR=0
while [ $# -gt 0 ]; do
  case "$1" in
    --services) SERVICES="$2"; shift 2 ;;
    --endpoints) ENDPOINTS="$2"; shift 2 ;;
    --knode) KNODE="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    --repair) REPAIR=1; shift ;;
    *) echo "usage: $0 [--services N] [--endpoints M] [--knode PATH] [--keep DIR] [--repair]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace, iptables)" >&2; exit 1; }
[ -x "$KNODE" ] || { echo "no knode binary at $KNODE (use --knode)" >&2; exit 1; }

SRC="$(cd "$(dirname "$0")/.." && pwd)"
NS="knrss-$$"
PORT=6443
TMP="$(mktemp -d /tmp/knode-proxy-rss.XXXXXX)"
API_PID=""
PROXY_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp "$TMP"/*.log "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 1" INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
# The proxy follows the kubelet's choice of iptables flavour (its KUBE-KUBELET-CANARY chain):
# legacy loads 10k services several times faster than nft.
ip netns exec "$NS" iptables-legacy -t mangle -N KUBE-KUBELET-CANARY

start_api() {
  ip netns exec "$NS" python3 "$SRC/test/apiserver/apiserver.py" --listen "127.0.0.1:$PORT" \
    --state-dir "$TMP/state" --node-name node1 --log-file "$TMP/apiserver.log" >>"$TMP/apiserver.out" 2>&1 &
  API_PID=$!
  for _ in $(seq 1 600); do
    if [ -f "$TMP/state/admin.kubeconfig" ] &&
       ip netns exec "$NS" python3 -c 'import ssl,urllib.request,sys
ctx=ssl._create_unverified_context()
urllib.request.urlopen("https://127.0.0.1:%s/readyz" % sys.argv[1], context=ctx, timeout=2)' "$PORT" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "the API server double did not become ready" >&2
  exit 1
}
stop_api() { kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=""; }

# 1. A first start creates certificates, kubeconfigs and the default objects; SIGTERM persists them.
start_api
stop_api

# 2. The bulk objects go straight into the state file.
python3 - "$TMP/state/state.json" "$SERVICES" "$ENDPOINTS" <<'EOF'
import json, sys, uuid
path, nsvc, neps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = json.load(open(path))
rv = data["rv"]
objs = data.setdefault("objects", {})
svcs = objs.setdefault("services", [])
slices = objs.setdefault("endpointslices.discovery.k8s.io", [])
ts = "2026-11-27T20:00:00Z"
for i in range(nsvc):
    name = "svc-%05d" % i
    ip = "10.100.%d.%d" % (i // 250, i % 250 + 1)
    rv += 1
    suid = str(uuid.uuid4())
    svcs.append({"kind": "Service", "apiVersion": "v1", "metadata": {
        "name": name, "namespace": "default", "uid": suid, "resourceVersion": str(rv),
        "creationTimestamp": ts, "labels": {"app": name, "tier": "backend"}},
        "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                 "clusterIP": ip, "clusterIPs": [ip], "type": "ClusterIP", "sessionAffinity": "None",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}})
    rv += 1
    eps = []
    for j in range(neps):
        n = i * neps + j
        eps.append({"addresses": ["10.%d.%d.%d" % (128 + n // 65536, n // 256 % 256, n % 256)],
                    "conditions": {"ready": True, "serving": True, "terminating": False},
                    "nodeName": "node%d" % (n % 50),
                    "targetRef": {"kind": "Pod", "namespace": "default", "name": "%s-pod-%d" % (name, j),
                                  "uid": str(uuid.uuid4())},
                    "zone": "zone-%d" % (n % 3)})
    slices.append({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": {
        "name": name + "-abcde", "namespace": "default", "uid": str(uuid.uuid4()), "resourceVersion": str(rv),
        "creationTimestamp": ts, "generateName": name + "-",
        "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "bench.knode.io"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name, "uid": suid,
                             "controller": True, "blockOwnerDeletion": True}]},
        "addressType": "IPv4", "endpoints": eps,
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]})
rv += 1
objs.setdefault("nodes", []).append({"kind": "Node", "apiVersion": "v1", "metadata": {
    "name": "node1", "uid": str(uuid.uuid4()), "resourceVersion": str(rv), "creationTimestamp": ts,
    "labels": {"kubernetes.io/hostname": "node1", "topology.kubernetes.io/zone": "zone-0"}},
    "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
    "status": {"addresses": [{"type": "InternalIP", "address": "192.168.77.1"},
                             {"type": "Hostname", "address": "node1"}]}})
data["rv"] = rv
json.dump(data, open(path, "w"), separators=(",", ":"))
EOF

start_api
cat >"$TMP/proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $TMP/state/kube-proxy.kubeconfig
  qps: 1000
  burst: 1000
hostnameOverride: node1
mode: iptables
clusterCIDR: 10.244.0.0/16
iptables:
  syncPeriod: $([ "$REPAIR" = 1 ] && echo 15s || echo 1h)
  minSyncPeriod: 1s
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
EOF

START=$(date +%s.%N)
ip netns exec "$NS" "$KNODE" proxy --config "$TMP/proxy.yaml" -v 2 >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
# `ip netns exec` execs the command: the pid is the proxy's.
for _ in $(seq 1 3000); do
  kill -0 "$PROXY_PID" 2>/dev/null || { echo "knode proxy exited:" >&2; tail -20 "$TMP/proxy.log" >&2; exit 1; }
  grep -q '"Synced proxy rules"\|Synced proxy rules' "$TMP/proxy.log" && break
  sleep 0.1
done
grep -q 'Synced proxy rules' "$TMP/proxy.log" || { echo "no first sync within 300 s" >&2; tail -5 "$TMP/proxy.log" >&2; exit 1; }
END=$(date +%s.%N)
sleep 2  # let the handler threads and allocator settle
rules=$(ip netns exec "$NS" iptables-legacy-save -t nat 2>/dev/null | grep -c '^-A KUBE-SEP-' || true)
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PROXY_PID/status"; }
rss=$(kb VmRSS); anon=$(kb RssAnon); hwm=$(kb VmHWM)
printf 'services=%d endpoints/service=%d KUBE-SEP rules=%d first sync after %.1f s\n' \
  "$SERVICES" "$ENDPOINTS" "$rules" "$(echo "$END - $START" | bc)"
printf 'VmRSS %.1f MiB  RssAnon %.1f MiB  VmHWM (peak) %.1f MiB\n' \
  "$(echo "$rss / 1024" | bc -l)" "$(echo "$anon / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"

if [ "$REPAIR" = 1 ]; then
  echo 5 >"/proc/$PROXY_PID/clear_refs"  # resets VmHWM
  syncs=$(grep -c 'Synced proxy rules' "$TMP/proxy.log")
  ip netns exec "$NS" iptables-legacy -t nat -F KUBE-PROXY-CANARY
  R0=$(date +%s.%N)
  for _ in $(seq 1 1200); do
    [ "$(grep -c 'Synced proxy rules' "$TMP/proxy.log")" -gt "$syncs" ] && break
    sleep 0.1
  done
  grep 'Synced proxy rules' "$TMP/proxy.log" | tail -1 | grep -q 'full=true' ||
    { echo "no repairing full sync within 120 s" >&2; tail -5 "$TMP/proxy.log" >&2; exit 1; }
  R1=$(date +%s.%N)
  sleep 2
  rss=$(kb VmRSS); anon=$(kb RssAnon); hwm=$(kb VmHWM)
  printf 'repair: full sync logged %.1f s after the flush (syncPeriod 15 s)\n' "$(echo "$R1 - $R0" | bc)"
  printf 'VmRSS %.1f MiB  RssAnon %.1f MiB  VmHWM (peak since the flush) %.1f MiB\n' \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$anon / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
fi
