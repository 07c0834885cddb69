#!/usr/bin/env bash
# bench/metering/run.sh: the metering benchmarks of docs/benchmarks.md ("Metering"), in one run.
#
#   1. remote-write ingest, samples/s, server pinned to ONE core (taskset -c 0; Prometheus also
#      GOMAXPROCS=1), the client on the other core: the same snappy bodies
#      (gantry_metering_bench gen) posted to `gantry serve` (POST /api/v1/metering/write, SQLite,
#      every batch committed with its series state) and to Prometheus 2.42's own receiver
#      (`prometheus --web.enable-remote-write-receiver`, POST /api/v1/write), RUNS rounds back to
#      back;
#   2. memory per active usage series (in process, RSS growth over SERIES_MEM series);
#   3. rating one month of hourly usage of 10,000 GPUs and 500 tenants on SQLite.
#
# Environment: BUILD_DIR (build), RUNS (3), CONNS (4), SERIES (500 per connection), BATCHES (100),
# SERIES_MEM (200000).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
RUNS=${RUNS:-3}; CONNS=${CONNS:-4}; SERIES=${SERIES:-500}; BATCHES=${BATCHES:-100}
SERIES_MEM=${SERIES_MEM:-200000}
G=$BUILD/src/app/gantry
MB=$BUILD/bench/metering/gantry_metering_bench
log() { printf '[metering-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
[ -x "$G" ] && [ -x "$MB" ] || { log "build first: ninja -C $BUILD gantry gantry_metering_bench"; exit 1; }
command -v prometheus >/dev/null || { log "prometheus is not installed"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gantry-metering-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; log "no answer from $1"; exit 1; }

gantry_round() {  # prints "samples/s"
  local d=$TMP/g$1 port; mkdir -p "$d"; port=$(free_port)
  local token
  token=$(echo 'bench-password-123' | "$G" admin init --db "sqlite:$d/g.db" --data-dir "$d" \
          --admin-username admin --password-stdin --token 2>&1 | sed -n 's/^Admin API token (shown once): //p')
  # The bench tenants t0..t49 with projects p0, p1.
  taskset -c 0 "$G" serve --db "sqlite:$d/g.db" --data-dir "$d" --listen "127.0.0.1:$port" \
    --threads 2 --workers 0 --no-access-log --log-level warn --body-limit 16777216 >"$d/serve.log" 2>&1 &
  PIDS+=($!); local pid=$!
  wait_http "http://127.0.0.1:$port/healthz"
  for t in $(seq 0 49); do
    curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"slug\":\"t$t\"}" "http://127.0.0.1:$port/api/v1/tenants"
    for p in p0 p1; do
      curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"slug\":\"$p\"}" "http://127.0.0.1:$port/api/v1/tenants/t$t/projects"
    done
  done
  taskset -c 1 "$MB" post "http://127.0.0.1:$port/api/v1/metering/write" "$token" "$TMP/bodies" "$CONNS" |
    tee -a "$TMP/gantry.txt" | sed -n 's/.*= \([0-9]*\) samples.*/\1/p'
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

prom_round() {
  local d=$TMP/p$1 port; mkdir -p "$d"; port=$(free_port)
  printf 'global: {scrape_interval: 1m}\n' >"$d/prometheus.yml"
  GOMAXPROCS=1 taskset -c 0 prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
    --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver --log.level=warn \
    >"$d/prom.log" 2>&1 &
  PIDS+=($!); local pid=$!
  wait_http "http://127.0.0.1:$port/-/ready"
  taskset -c 1 "$MB" post "http://127.0.0.1:$port/api/v1/write" "" "$TMP/bodies" "$CONNS" |
    tee -a "$TMP/prom.txt" | sed -n 's/.*= \([0-9]*\) samples.*/\1/p'
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

log "payloads: $CONNS connections x $SERIES series x $BATCHES bodies"
"$MB" gen "$TMP/bodies" "$CONNS" "$SERIES" "$BATCHES" >&2
echo "| round | Gantry samples/s | Prometheus 2.42 samples/s | ratio |"
echo "| --- | --- | --- | --- |"
for r in $(seq 1 "$RUNS"); do
  # Fresh timestamps each round for Prometheus' head block.
  rm -rf "$TMP/bodies"; "$MB" gen "$TMP/bodies" "$CONNS" "$SERIES" "$BATCHES" >/dev/null
  g=$(gantry_round "$r"); p=$(prom_round "$r")
  echo "| $r | $g | $p | $(/usr/bin/python3 -c "print(f'{$g/$p:.2f}')") |"
done
log "memory per active series ($SERIES_MEM series)"
"$MB" memory "$SERIES_MEM"
log "rating one month: 10,000 GPUs, 500 tenants"
"$MB" rate 500 10000
