#!/bin/bash
# Benchmarks of the bare-metal lifecycle (docs/benchmarks.md, "Bare-metal lifecycle"):
#   control   10,000 simulated nodes through commission → deploy → release (gantry_lifecycle_bench)
#   inventory `gantry inventory --list` and `ansible-inventory --list` on the 20,000-server estate
#             of bench/cmdb (gantry_cmdb_gen)
#   vms       deploy → deployed of 1 and 4 QEMU VMs through Gantry vs. the bare boot of the same
#             kernel and initramfs with the same dnsmasq (bench/lifecycle/vm_bench.sh)
#
#   bench/lifecycle/run.sh [control|inventory|vms|all] [--nodes 10000]
# BUILD_DIR (default build-rel): a Release tree, configured and built here when missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-rel}
WHAT=${1:-all}; shift || true
NODES=10000
while [ $# -gt 0 ]; do case "$1" in --nodes) NODES=$2; shift 2 ;; *) echo "unknown $1" >&2; exit 2 ;; esac; done
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$BUILD" -j "${JOBS_BUILD:-2}" gantry gantry_lifecycle_bench gantry_cmdb_gen >/dev/null
echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$WHAT" = control ] || [ "$WHAT" = all ]; then
  echo "== control plane: $NODES simulated nodes (SQLite in /tmp)"
  "$BUILD/bench/lifecycle/gantry_lifecycle_bench" --nodes "$NODES"
fi

if [ "$WHAT" = inventory ] || [ "$WHAT" = all ]; then
  T=$(mktemp -d /tmp/lcinv.XXXXXX)
  trap 'kill $SERVE 2>/dev/null || true; rm -rf "$T"' EXIT
  echo "== inventory: generating the 20,000-server estate"
  "$BUILD/bench/cmdb/gantry_cmdb_gen" --sqlite "$T/estate.db" | tail -n 2
  echo pw | "$BUILD/src/app/gantry" admin init --db "sqlite:$T/estate.db" --data-dir "$T" --password-stdin --token > "$T/init"
  export GANTRY_TOKEN=$(sed -n 's/^Admin API token (shown once): //p' "$T/init")
  "$BUILD/src/app/gantry" serve --db "sqlite:$T/estate.db" --data-dir "$T" --listen 127.0.0.1:0 \
    --port-file "$T/port" --no-access-log > "$T/serve.log" 2>&1 &
  SERVE=$!
  for i in $(seq 1 300); do [ -s "$T/port" ] && break; sleep 0.2; done
  export GANTRY_SERVER=http://127.0.0.1:$(cat "$T/port")
  printf '#!/bin/sh\nexec %s inventory "$@"\n' "$BUILD/src/app/gantry" > "$T/inv"; chmod +x "$T/inv"
  "$T/inv" --list > "$T/first.json"   # warms the graph index
  python3 - "$T/first.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("hosts %d, groups %d, bytes %d" % (len(d["_meta"]["hostvars"]), len(d) - 1, len(open(sys.argv[1]).read())))
PY
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "gantry inventory --list: %e s wall, %M KB max RSS (client)" "$T/inv" --list > /dev/null
  done
  if command -v ansible-inventory >/dev/null; then
    mkdir -p "$T/home"
    HOME=$T/home /usr/bin/time -f "ansible-inventory -i gantry-inventory --list: %e s wall" \
      ansible-inventory -i "$T/inv" --list > /dev/null
  fi
  kill $SERVE; wait $SERVE 2>/dev/null || true
fi

if [ "$WHAT" = vms ] || [ "$WHAT" = all ]; then
  GANTRY_BIN="$BUILD/src/app/gantry" unshare -rn --pid --fork --mount-proc --kill-child \
    bash "$ROOT/bench/lifecycle/vm_bench.sh"
fi
