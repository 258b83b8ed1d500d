#!/usr/bin/env bash
# Stops the test containerd started by containerd-up.sh: removes what the CRI still runs (pods,
# their tasks and shims, their addresses), then TERM, then KILL, and unmounts what is left under
# STATE_DIR. The test bridge (knodetest0) is deleted once no test containerd is left running (the
# bridge plugin makes it again on the next pod).
# Idempotent. Images and the state directory stay, so the next start is fast; pass --purge to
# delete the state directory too.
#
#   test/scripts/containerd-down.sh [STATE_DIR] [--purge]
set -euo pipefail

STATE_DIR=/run/knode-test/containerd
PURGE=0
for arg in "$@"; do
  case $arg in
    --purge) PURGE=1 ;;
    *) STATE_DIR=$arg ;;
  esac
done
SOCK=$STATE_DIR/containerd.sock
PIDFILE=$STATE_DIR/containerd.pid

log() { echo "containerd-down: $*" >&2; }

if [[ -d $STATE_DIR && -z ${KNODE_TEST_LOCK_HELD:-} ]]; then
  exec 9>"$STATE_DIR/.lock"
  flock 9
fi

pid=""
if [[ -f $PIDFILE ]]; then
  pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null || pid=""
fi

IPAM_DIR=${KNODE_TEST_IPAM_DIR:-/run/knode-test/cni-ipam}
if [[ -n $pid && -S $SOCK ]]; then
  # Kill and delete the tasks and containers of every namespace, so no shim or container outlives
  # containerd. This bypasses the CRI, so no CNI DEL runs: release the pods' addresses by hand
  # (host-local keeps one file per address holding the container id, which is the sandbox id).
  for ns in $(timeout 10 ctr -a "$SOCK" namespaces ls -q 2>/dev/null || true); do
    for task in $(timeout 10 ctr -a "$SOCK" -n "$ns" tasks ls -q 2>/dev/null || true); do
      timeout 10 ctr -a "$SOCK" -n "$ns" tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    for task in $(timeout 10 ctr -a "$SOCK" -n "$ns" tasks ls -q 2>/dev/null || true); do
      timeout 10 ctr -a "$SOCK" -n "$ns" tasks delete -f "$task" >/dev/null 2>&1 || true
    done
    for c in $(timeout 10 ctr -a "$SOCK" -n "$ns" containers ls -q 2>/dev/null || true); do
      if [[ -d $IPAM_DIR ]]; then
        grep -rlsx -e "$c" -e "$c"$'\r' "$IPAM_DIR" 2>/dev/null | xargs -r rm -f
      fi
      timeout 10 ctr -a "$SOCK" -n "$ns" containers delete "$c" >/dev/null 2>&1 || true
    done
  done
fi

if [[ -n $pid ]]; then
  log "stopping containerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after 10 s; KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
rm -f "$PIDFILE" "$SOCK" "$SOCK.ttrpc"

# Shims whose containerd was this one (their command line names our state dir's socket).
for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK( |$)" 2>/dev/null || true); do
  kill -KILL "$shim" 2>/dev/null || true
done

# Mounts left under the state dir (rootfs overlays, sandbox shm, netns bind mounts), deepest first.
if [[ -d $STATE_DIR ]]; then
  awk -v d="$STATE_DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
fi

if [[ $PURGE -eq 1 ]]; then
  rm -rf "$STATE_DIR"
  log "purged $STATE_DIR"
fi
log "stopped"

# The last test containerd gone: remove the bridge its pods used, leaving the host as it was.
if ! pgrep -f "containerd --config /run/knode-test/" >/dev/null 2>&1; then
  ip link del knodetest0 2>/dev/null || true
fi
