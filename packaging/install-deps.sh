#!/usr/bin/env bash
# Installs every Debian 12 (bookworm main) package knode needs to build, test and run.
# Idempotent: exits quickly when everything is already present.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build ccache pkg-config rpm git python3
  libboost1.81-dev libboost-system1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libnftnl-dev libmnl-dev
  libssl-dev libfmt-dev prometheus-cpp-dev catch2
)
RUNTIME_PKGS=(
  containerd runc containernetworking-plugins busybox-static umoci iptables nftables
  iproute2 conntrack curl openssl ca-certificates kmod procps
)

missing=()
for p in "${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#BUILD_PKGS[@]}+${#RUNTIME_PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
