#!/usr/bin/env bash
# bench/metering/run.sh: the metering benchmarks of docs/benchmarks.md ("Metering"), in one run.
#
#   1. remote-write ingest, server pinned to ONE core (taskset -c 0; Prometheus also
#      GOMAXPROCS=1), the client on the other core, as samples/s of wall time and as samples per
#      CPU-second the server process used (utime+stime from /proc/PID/stat; robust when other work
#      shares the machine): the same snappy bodies
#      (gantry_metering_bench gen) posted to `gantry serve` (POST /api/v1/metering/write, SQLite,
#      every batch committed with its series state) and to Prometheus 2.42's own receiver
#      (`prometheus --web.enable-remote-write-receiver`, POST /api/v1/write), RUNS rounds back to
#      back;
#   2. memory per active usage series (in process, RSS growth over SERIES_MEM series);
#   3. rating one month of hourly usage of 10,000 GPUs and 500 tenants on SQLite.
#
# Environment: BUILD_DIR (build), RUNS (3), CONNS (16), SERIES (125 per connection), BATCHES (200),
# THREADS (16 HTTP threads of gantry serve, all on the one core),
# SERIES_MEM (200000).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
RUNS=${RUNS:-3}; CONNS=${CONNS:-16}; SERIES=${SERIES:-125}; BATCHES=${BATCHES:-200}
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
# utime+stime of a process in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; log "no answer from $1"; exit 1; }

# "WALL_SAMPLES_PER_S CPU_SAMPLES_PER_S" from the poster's line and the server's CPU ticks.
report() {
  local samples wall
  samples=$(echo "$1" | sed -n 's/.*: \([0-9]*\) samples in.*/\1/p')
  wall=$(echo "$1" | sed -n 's/.*= \([0-9]*\) samples\/s.*/\1/p')
  echo "$1" | grep -q ' 0 errors' || { log "errors: $1"; }
  /usr/bin/python3 -c "print($wall, int($samples / max(1, $3 - $2) * $TICKS))"
}

gantry_round() {  # prints "samples/s (wall) samples per CPU-second"
  local d=$TMP/g$1 port; mkdir -p "$d"; port=$(free_port)
  local token
  token=$(echo 'bench-password-123' | "$G" admin init --db "sqlite:$d/g.db" --data-dir "$d" \
          --admin-username admin --password-stdin --token 2>&1 | sed -n 's/^Admin API token (shown once): //p')
  # The bench tenants t0..t49 with projects p0, p1.
  taskset -c 0 "$G" serve --db "sqlite:$d/g.db" --data-dir "$d" --listen "127.0.0.1:$port" \
    --threads "${THREADS:-16}" --workers 0 --no-access-log --log-level warn --body-limit 16777216 >"$d/serve.log" 2>&1 &
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
  local c0 c1 out
  c0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 "$MB" post "http://127.0.0.1:$port/api/v1/metering/write" "$token" "$TMP/bodies" "$CONNS")
  c1=$(cpu_ticks "$pid")
  echo "$out" >>"$TMP/gantry.txt"
  report "$out" "$c0" "$c1"
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
  local c0 c1 out
  c0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 "$MB" post "http://127.0.0.1:$port/api/v1/write" "" "$TMP/bodies" "$CONNS")
  c1=$(cpu_ticks "$pid")
  echo "$out" >>"$TMP/prom.txt"
  report "$out" "$c0" "$c1"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

log "payloads: $CONNS connections x $SERIES series x $BATCHES bodies"
"$MB" gen "$TMP/bodies" "$CONNS" "$SERIES" "$BATCHES" >&2
echo "| round | Gantry samples/s (wall) | Prometheus samples/s (wall) | ratio | Gantry samples per server CPU-s | Prometheus samples per server CPU-s | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for r in $(seq 1 "$RUNS"); do
  # Fresh timestamps each round for Prometheus' head block.
  rm -rf "$TMP/bodies"; "$MB" gen "$TMP/bodies" "$CONNS" "$SERIES" "$BATCHES" >/dev/null
  read -r gw gc < <(gantry_round "$r")
  read -r pw pc < <(prom_round "$r")
  echo "| $r | $gw | $pw | $(/usr/bin/python3 -c "print(f'{$gw/$pw:.2f}')") | $gc | $pc | $(/usr/bin/python3 -c "print(f'{$gc/$pc:.2f}')") |"
done
log "memory per active series ($SERIES_MEM series)"
"$MB" memory "$SERIES_MEM"
log "rating one month: 10,000 GPUs, 500 tenants"
"$MB" rate 500 10000
