#!/usr/bin/env bash
# The whole test suite (as root): unit, integration (network namespaces, containerd) and e2e tests of
# the build in build/, then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Expects packaging/setup.sh to have run. Starts (and stops) the test containerd itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "test/run.sh: integration and e2e tests need root" >&2
  exit 1
fi

cleanup() {
  if [ -x test/scripts/containerd-down.sh ]; then bash test/scripts/containerd-down.sh || true; fi
}
trap cleanup EXIT

if [ -x test/scripts/containerd-up.sh ]; then
  KNODE_TEST_CRI_ENDPOINT="unix://$(bash test/scripts/containerd-up.sh | tail -n 1)"
  export KNODE_TEST_CRI_ENDPOINT
fi

echo "== unit tests"
ctest --test-dir build -L unit -j2 --output-on-failure
echo "== integration and e2e tests"
ctest --test-dir build -L 'integration|e2e' --output-on-failure

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake --preset asan >/dev/null
unit_targets=$(cmake --build build-asan --target help | sed -n 's/^\(knode_unit_[a-z_]*\):.*/\1/p' | sort -u)
# shellcheck disable=SC2086
cmake --build build-asan --target $unit_targets
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L unit -j2 --output-on-failure

echo "== all suites passed"
