#!/bin/sh
# Hardware fan-out benchmark: Gantry vs a sequential loop of curl vs the ideal.
#   bench/hardware/run.sh BUILD_DIR [COUNT] [LATENCY_MS] [DEAD_FRACTION] [TIMEOUT_MS] [CURL_SAMPLE]
# BUILD_DIR holds gantry_bmc_bench (configure with -DGANTRY_BUILD_BENCH=ON). Starts COUNT emulated
# Redfish BMCs (tests/redfish/redfish_sim.py) with LATENCY_MS per answer and DEAD_FRACTION of them
# dead (they accept the connection and never answer), then:
#   1. gantry_bmc_bench: power-status sweep and inventory read through hardware::Service;
#   2. the power-status sweep as a sequential shell loop of curl (one GET of the ComputerSystem
#      per BMC, -m TIMEOUT);
#   3. the inventory read as a sequential curl loop over the same resources the driver fetches,
#      on CURL_SAMPLE BMCs (default 20), scaled to COUNT.
set -eu
BUILD=${1:?build dir}; COUNT=${2:-1000}; LAT=${3:-50}; DEAD=${4:-0.02}; TIMEOUT=${5:-2000}; SAMPLE=${6:-20}
HERE=$(cd "$(dirname "$0")" && pwd); SRC=$(cd "$HERE/../.." && pwd)
RUN=$(mktemp -d); SIM=
trap 'kill $SIM 2>/dev/null; rm -rf $RUN' EXIT
trap 'exit 130' INT TERM
/usr/bin/python3 "$SRC/tests/redfish/redfish_sim.py" --mockup "$SRC/tests/data/redfish-mockups/dmtf-public-rackmount1" \
  --count "$COUNT" --latency-ms "$LAT" --dead-fraction "$DEAD" --ports-file "$RUN/ports.json" 2>"$RUN/sim.log" &
SIM=$!
while [ ! -f "$RUN/ports.json" ]; do sleep 0.2; done
echo "# $COUNT BMCs, ${LAT} ms latency, dead fraction $DEAD, timeout ${TIMEOUT} ms"
"$BUILD/bench/hardware/gantry_bmc_bench" --ports "$RUN/ports.json" --db "sqlite:$RUN/bench.db" --timeout-ms "$TIMEOUT" --concurrency 1000 \
  --paths-out "$RUN/paths.txt" > "$RUN/gantry.jsonl"
cat "$RUN/gantry.jsonl"
python3 -c "import json;[print(e['port'], int(e['dead'])) for e in json.load(open('$RUN/ports.json'))]" > "$RUN/ports.txt"
SECS=$(python3 -c "print($TIMEOUT/1000)")
T0=$(date +%s.%N)
while read -r PORT DEADBMC; do
  curl -s -o /dev/null -m "$SECS" -u admin:password "http://127.0.0.1:$PORT/redfish/v1/Systems/437XR1138R2" || true
done < "$RUN/ports.txt"
T1=$(date +%s.%N)
echo "{\"phase\": \"power_status_curl_loop\", \"bmcs\": $COUNT, \"wall_ms\": $(python3 -c "print(int(($T1-$T0)*1000))")}"
head -n "$SAMPLE" "$RUN/ports.txt" > "$RUN/sample.txt"
T0=$(date +%s.%N)
while read -r PORT DEADBMC; do
  if [ "$DEADBMC" = 1 ]; then curl -s -o /dev/null -m "$SECS" -u admin:password "http://127.0.0.1:$PORT/redfish/v1/Systems" || true; continue; fi
  while read -r P; do curl -s -o /dev/null -m "$SECS" -u admin:password "http://127.0.0.1:$PORT$P" || true; done < "$RUN/paths.txt"
done < "$RUN/sample.txt"
T1=$(date +%s.%N)
echo "{\"phase\": \"inventory_curl_loop\", \"bmcs_sampled\": $SAMPLE, \"requests_per_bmc\": $(wc -l < "$RUN/paths.txt"), \"wall_ms_sample\": $(python3 -c "print(int(($T1-$T0)*1000))"), \"wall_ms_scaled\": $(python3 -c "print(int(($T1-$T0)*1000*$COUNT/$SAMPLE))")}"
