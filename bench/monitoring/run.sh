#!/bin/bash
# Monitoring benchmarks, side by side in one run:
#   1. gantry agent vs prometheus-node-exporter: CPU per scrape and bytes (agent.sh)
#   2. HTTP SD, enrichment and webhook ingest on the CMDB benchmark's estate (gantry_cmdb_gen,
#      scale 1: 20,000 servers, ~1M CIs) with gantry_monitoring_bench
#
#   bench/monitoring/run.sh [--scale 1.0] [--scrapes 500] [--bodies 200] [--alerts-per-body 50]
#
# BUILD_DIR (default build) must hold gantry, the fake NVML library and the bench programs
# (ninja -C build gantry fake_nvml gantry_cmdb_gen gantry_monitoring_bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
SCALE=1.0; SCRAPES=500; BODIES=200; PER=50
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --scrapes) SCRAPES=$2; shift 2 ;;
    --bodies) BODIES=$2; shift 2 ;;
    --alerts-per-body) PER=$2; shift 2 ;;
    *) echo "usage: $0 [--scale S] [--scrapes N] [--bodies N] [--alerts-per-body N]" >&2; exit 2 ;;
  esac
done
T=$(mktemp -d /tmp/monbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
GANTRY_BIN=$BUILD/src/app/gantry FAKE_NVML=$BUILD/tests/fake_nvml/libnvidia-ml.so.1 \
  "$ROOT/bench/monitoring/agent.sh" --scrapes "$SCRAPES"
"$BUILD/bench/cmdb/gantry_cmdb_gen" --sqlite "$T/estate.db" --scale "$SCALE" | grep RESULT || true
"$BUILD/bench/monitoring/gantry_monitoring_bench" --sqlite "$T/estate.db" --bodies "$BODIES" --alerts-per-body "$PER"
