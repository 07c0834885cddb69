#!/bin/bash
# deploy → deployed through Gantry vs. the bare boot of the same VMs (same kernel, initramfs and
# dnsmasq, a static HTTP server instead of Gantry), for 1 and 4 VMs. Run inside namespaces:
#   GANTRY_BIN=... unshare -rn --pid --fork --mount-proc --kill-child bash bench/lifecycle/vm_bench.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for n in ${VM_COUNTS:-1 4}; do
  R=$(mktemp -d /tmp/lcvm.XXXXXX)
  # Each run in its own PID namespace, so every VM and daemon of the run is gone afterwards.
  PXE_RUN=$R E2E_BARE=1 unshare -n --pid --fork --mount-proc --kill-child sh "$ROOT/tests/e2e/pxe_e2e.sh" $n \
    > "$R/out.log" 2>&1 || { tail -n 30 "$R/out.log"; exit 1; }
  bare=$(awk '$1=="bare"{print $3}' "$R/bench.txt"); g=$(awk '$1=="gantry"{print $3}' "$R/bench.txt")
  printf '%d VM(s): bare boot %.1f s, deploy → deployed through Gantry %.1f s, ratio %.2f\n' \
    "$n" "$bare" "$g" "$(echo "$g / $bare" | bc -l)"
  rm -rf "$R"
done
