#!/usr/bin/env bash
# Builds knode's test images offline from busybox-static with umoci and imports them into a
# containerd (namespace k8s.io, where the CRI looks). Fast when they are already imported.
#
#   test/scripts/build-images.sh SOCKET [CACHE_DIR]
#
# Images:
#   knode.local/pause:3.10    the sandbox image: a busybox sh that waits forever and exits 0 on
#                             SIGTERM/SIGINT (a bare /bin/sh would exit at once)
#   knode.local/busybox:1.36  busybox with its applets on /bin (sh, sleep, httpd, nc, wget, ...);
#                             default command `sleep 3600`
# Needs: umoci, busybox-static (/bin/busybox statically linked), ctr, tar.
set -euo pipefail

SOCK=${1:?usage: build-images.sh SOCKET [CACHE_DIR]}
CACHE=${2:-/run/knode-test/images}
NS=k8s.io
BUSYBOX=${KNODE_TEST_BUSYBOX:-/bin/busybox}

log() { echo "build-images: $*" >&2; }

for tool in umoci ctr tar; do
  command -v "$tool" >/dev/null || { log "$tool not found"; exit 1; }
done
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
  # `file` may be missing; fall back to ldd's verdict.
  if ldd "$BUSYBOX" >/dev/null 2>&1; then
    log "$BUSYBOX is not statically linked (apt-get install busybox-static)"
    exit 1
  fi
fi

APPLETS="sh ash sleep cat echo ls mkdir rm cp mv ln touch wc head tail grep sed awk tr sort
  uniq cut env printenv id whoami hostname true false test [ kill ps top pidof nc httpd wget
  ip ifconfig route ping nslookup date uname mount umount df du find xargs tee dd md5sum
  sha256sum seq yes timeout nohup stat chmod chown readlink realpath basename dirname vi"

imported() {  # name:tag
  ctr -a "$SOCK" -n "$NS" images ls -q "name==$1" 2>/dev/null | grep -qx "$1"
}

# build <repo> <tag> <entrypoint JSON-free args...> -- <cmd args...>
build() {
  local repo=$1 tag=$2
  shift 2
  local entry=() cmd=()
  while [[ $# -gt 0 && $1 != -- ]]; do entry+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  cmd=("$@")

  local name="$repo:$tag"
  if imported "$name"; then
    log "$name already imported"
    return
  fi
  local tarball="$CACHE/$(echo "$name" | tr '/:' '__').tar"
  if [[ ! -s $tarball ]]; then
    log "building $name"
    local work
    work=$(mktemp -d)
    local layout=$work/layout bundle=$work/bundle
    umoci init --layout "$layout"
    umoci new --image "$layout:$tag"
    umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
    local root=$bundle/rootfs
    mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,var/www,var/log}
    chmod 1777 "$root/tmp"
    cp "$BUSYBOX" "$root/bin/busybox"
    local a
    for a in $APPLETS; do ln -sf busybox "$root/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
    echo "knode test page" >"$root/var/www/index.html"
    umoci repack --image "$layout:$tag" "$bundle"
    local args=(--image "$layout:$tag" --os linux --architecture amd64
      --config.env PATH=/bin:/sbin:/usr/bin:/usr/sbin --config.workingdir /)
    for a in "${entry[@]}"; do args+=(--config.entrypoint "$a"); done
    for a in "${cmd[@]}"; do args+=(--config.cmd "$a"); done
    umoci config "${args[@]}"
    umoci gc --layout "$layout"
    mkdir -p "$CACHE"
    tar -C "$layout" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
  fi
  log "importing $name"
  # The layout's index names the manifest by tag (org.opencontainers.image.ref.name); --base-name
  # turns that into repo:tag.
  ctr -a "$SOCK" -n "$NS" images import --base-name "$repo" "$tarball" >/dev/null
  if ! imported "$name"; then
    log "import of $tarball did not create $name"
    ctr -a "$SOCK" -n "$NS" images ls >&2 || true
    exit 1
  fi
}

build knode.local/pause 3.10 /bin/sh -c 'trap "exit 0" TERM INT; while true; do sleep 3600 & wait $!; done' --
build knode.local/busybox 1.36 -- sleep 3600
log "images ready"
