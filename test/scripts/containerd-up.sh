#!/usr/bin/env bash
# Starts a private containerd for knode's tests (root). Idempotent: if it already runs, only makes
# sure the test images are there. Prints the CRI socket path on stdout (everything else -> stderr).
#
#   sock=$(test/scripts/containerd-up.sh)            # state in /run/knode-test/containerd
#   KNODE_TEST_CRI_ENDPOINT=unix://$sock ctest -L integration
#   test/scripts/containerd-down.sh
#
# Everything lives under STATE_DIR (default /run/knode-test/containerd): config.toml, root/, state/,
# containerd.sock, containerd.log, containerd.pid, net.d/ (CNI conf), pod netns mounts. Shared by
# all instances: /run/knode-test/images (image tarballs) and /run/knode-test/cni-ipam (addresses).
# Several instances may run at once with different STATE_DIRs. It does not touch a system
# containerd or /etc/cni/net.d.
# KNODE_TEST_KNODE_HANDLER=1 adds knode's CNI runtime handler "knode" (cni/containerd/config.toml)
# with cni_conf_dir STATE_DIR/knode-net.d (the kubelet writes its knode-cni conflist there); point
# KNODE_TEST_CNI_BIN_DIR at a directory holding the plugins and a knode-cni link. Config choices for these machines
# (see DESIGN §4): restrict_oom_score_adj (no CAP_SYS_RESOURCE), cgroupfs (no systemd), a local
# sandbox image (nothing can be pulled), CNI bridge on 10.88.0.0/16 without a default route, so pod
# traffic stays on the test bridge.
set -euo pipefail

STATE_DIR=${1:-${KNODE_TEST_STATE_DIR:-/run/knode-test/containerd}}
SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOCK=$STATE_DIR/containerd.sock
PIDFILE=$STATE_DIR/containerd.pid
LOG=$STATE_DIR/containerd.log
CNI_CONF_DIR=$STATE_DIR/net.d
CNI_BIN_DIR=${KNODE_TEST_CNI_BIN_DIR:-/usr/lib/cni}
SANDBOX_IMAGE=knode.local/pause:3.10
# Shared by every test containerd on the machine (host-local locks it), so several instances can
# use the one test bridge without handing out the same address twice.
IPAM_DIR=${KNODE_TEST_IPAM_DIR:-/run/knode-test/cni-ipam}
IMAGE_CACHE=${KNODE_TEST_IMAGE_CACHE:-/run/knode-test/images}

log() { echo "containerd-up: $*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root"
  exit 1
fi
for tool in containerd ctr runc; do
  command -v "$tool" >/dev/null || { log "$tool not found (apt-get install containerd runc)"; exit 1; }
done
[[ -x $CNI_BIN_DIR/bridge ]] || { log "no CNI plugins in $CNI_BIN_DIR (apt-get install containernetworking-plugins)"; exit 1; }

running() {
  [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}
answering() {
  [[ -S $SOCK ]] && timeout 5 ctr -a "$SOCK" version >/dev/null 2>&1
}

mkdir -p "$STATE_DIR" "$CNI_CONF_DIR"
KNODE_HANDLER_SECTION=
if [[ ${KNODE_TEST_KNODE_HANDLER:-} == 1 ]]; then
  mkdir -p "$STATE_DIR/knode-net.d"
  KNODE_HANDLER_SECTION="
    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.knode]
      runtime_type = \"io.containerd.runc.v2\"
      cni_conf_dir = \"$STATE_DIR/knode-net.d\"
      cni_max_conf_num = 1

      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.knode.options]
        SystemdCgroup = false
"
fi
# One start at a time (tests running in parallel all call this script).
exec 9>"$STATE_DIR/.lock"
flock 9

# The CNI network. Written in place (containerd's conf watcher ignores files mv-ed in).
write_if_changed() {  # path, content
  if [[ ! -f $1 ]] || [[ "$(cat "$1")" != "$2" ]]; then
    printf '%s\n' "$2" >"$1"
  fi
}
write_if_changed "$CNI_CONF_DIR/10-knode-test.conflist" '{
  "cniVersion": "1.0.0",
  "name": "knode-test",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "knodetest0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "10.88.0.0/16"}]],
        "dataDir": "'"$IPAM_DIR"'"
      }
    }
  ]
}'

write_if_changed "$STATE_DIR/config.toml" "# Written by knode test/scripts/containerd-up.sh
version = 2
root = \"$STATE_DIR/root\"
state = \"$STATE_DIR/state\"
oom_score = 0

[grpc]
  address = \"$SOCK\"

[ttrpc]
  address = \"$SOCK.ttrpc\"

[debug]
  level = \"info\"

[plugins.\"io.containerd.internal.v1.opt\"]
  path = \"$STATE_DIR/opt\"

[plugins.\"io.containerd.grpc.v1.cri\"]
  sandbox_image = \"$SANDBOX_IMAGE\"
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  stream_server_address = \"127.0.0.1\"
  stream_server_port = \"0\"
  enable_cdi = false
  # Pod network namespaces under STATE_DIR rather than /var/run/netns.
  netns_mounts_under_state_dir = true

  [plugins.\"io.containerd.grpc.v1.cri\".containerd]
    snapshotter = \"overlayfs\"
    default_runtime_name = \"runc\"

    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]
      runtime_type = \"io.containerd.runc.v2\"

      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]
        SystemdCgroup = false
$KNODE_HANDLER_SECTION
  [plugins.\"io.containerd.grpc.v1.cri\".cni]
    bin_dir = \"$CNI_BIN_DIR\"
    conf_dir = \"$CNI_CONF_DIR\"
    max_conf_num = 1
"

if running && answering; then
  log "already running (pid $(cat "$PIDFILE"))"
else
  if running; then
    log "pid $(cat "$PIDFILE") does not answer; restarting it"
    KNODE_TEST_LOCK_HELD=1 "$SCRIPTS/containerd-down.sh" "$STATE_DIR" >&2
  fi
  rm -f "$SOCK" "$SOCK.ttrpc"
  log "starting containerd (log: $LOG)"
  # setsid: its own session, so it outlives this shell and no terminal signal reaches it.
  # 9>&-: containerd must not inherit (and hold) the lock.
  setsid containerd --config "$STATE_DIR/config.toml" </dev/null >>"$LOG" 2>&1 9>&- &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 100); do
    answering && break
    if ! running; then
      log "containerd exited; last log lines:"
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    sleep 0.2
  done
  if ! answering; then
    log "containerd did not answer on $SOCK within 20 s; last log lines:"
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  log "running (pid $(cat "$PIDFILE"))"
fi

"$SCRIPTS/build-images.sh" "$SOCK" "$IMAGE_CACHE" >&2
echo "$SOCK"
