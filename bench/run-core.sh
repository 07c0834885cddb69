#!/usr/bin/env bash
# bench/run-core.sh: the core platform benchmarks of docs/benchmarks.md, in one run on this machine.
#
#   1. GET /api/v1/whoami and GET /api/v1/jobs?limit=50 (200 jobs present) vs GET /healthz on the
#      same server, with wrk (-t2 -c64 --latency, Authorization header on every request)
#   2. audited writes in process (audit::Service::AppendStandalone; jobs::Service::Enqueue) vs plain
#      sqlite3 INSERTs of the same rows, one transaction each, same pragmas; POST /api/v1/jobs over
#      HTTP for information
#   3. `gantry admin audit verify` bytes/s on 200k audit events vs `openssl speed -evp sha256`
#
# Every measurement runs RUNS times, back to back with its peer in each round (so background load
# hits both alike); the table shows the medians and, as the ratio, the median of the per-round
# ratios. Builds what it needs in build-rel (Release), works in a
# temporary directory, starts and stops its own servers and removes everything on exit.
# Run time once built: about 3 minutes with the defaults.
#
# Environment: RUNS (3), DURATION (wrk seconds per read run, 10), POST_DURATION (5), WRITES (1000
# in-process writes per run), EVENTS (200000), BUILD_DIR (build-rel), JOBS_BUILD (-j for ninja, 2).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-rel}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
POST_DURATION=${POST_DURATION:-5}
WRITES=${WRITES:-1000}
EVENTS=${EVENTS:-200000}
CONNS=64
WRK_THREADS=2

log() { printf '[run-core %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in wrk openssl sqlite3 python3 cmake ninja curl /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

# ---- build ----
if [ ! -f "$BUILD/build.ninja" ]; then
  log "configuring $BUILD (Release)"
  # -Wno-restrict: GCC 12 at -O3 reports a false -Werror=restrict in src/core/clock.cc.
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_BUILD_BENCH=ON \
    -DCMAKE_CXX_FLAGS=-Wno-restrict >/dev/null
fi
log "building gantry and gantry_write_bench in $BUILD"
ninja -C "$BUILD" -j"${JOBS_BUILD:-2}" gantry gantry_write_bench >/dev/null ||
  die "build failed (ninja -C $BUILD gantry gantry_write_bench)"
G=$BUILD/src/app/gantry
WB=$BUILD/bench/gantry_write_bench
REPORT="/usr/bin/python3 $ROOT/bench/report.py"

# ---- workspace and cleanup ----
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gantry-bench.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RESULTS=$TMP/results
: >"$RESULTS"
record() { echo "$1 $2 $3" >>"$RESULTS"; }

# start_server NAME DB DATA [extra serve flags...]: sets SERVER_PID and PORT
start_server() {
  local name=$1 db=$2 data=$3
  shift 3
  rm -f "$TMP/$name.port"
  "$G" serve --db "sqlite:$db" --data-dir "$data" --listen 127.0.0.1:0 --port-file "$TMP/$name.port" \
    --no-access-log --log-level warn "$@" >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    [ -s "$TMP/$name.port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "server $name exited: $(cat "$TMP/$name.log")"
    sleep 0.1
  done
  [ -s "$TMP/$name.port" ] || die "server $name did not start in 30 s"
  PORT=$(cat "$TMP/$name.port")
}
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# init_db NAME: a fresh database with an admin and an API token; sets TOKEN
init_db() {
  local out
  out=$("$G" admin init --db "sqlite:$TMP/$1.db" --data-dir "$TMP/$1-data" --token 2>&1) ||
    die "admin init failed: $out"
  TOKEN=$(sed -n 's/^Admin API token (shown once): //p' <<<"$out")
  [ -n "$TOKEN" ] || die "no token in: $out"
}

# wrk_run METRIC RUN SECONDS URL [wrk args...]: records METRIC_rps, _p50_ms, _p99_ms
wrk_run() {
  local metric=$1 run=$2 secs=$3 url=$4
  shift 4
  timeout $((secs + 30)) wrk -t$WRK_THREADS -c$CONNS -d"${secs}s" --latency \
    -H "Authorization: Bearer $TOKEN" "$@" "$url" >"$TMP/wrk.out" 2>&1 || die "wrk failed: $(cat "$TMP/wrk.out")"
  local rps p50 p99 bad
  read -r rps p50 p99 bad < <($REPORT wrk "$TMP/wrk.out")
  [ "$bad" = 0 ] || die "$metric: $bad failed requests: $(cat "$TMP/wrk.out")"
  record "${metric}_rps" "$run" "$rps"
  record "${metric}_p50_ms" "$run" "$p50"
  record "${metric}_p99_ms" "$run" "$p99"
  log "  $metric run $run: $rps req/s, p50 $p50 ms, p99 $p99 ms"
}

# bench_write METRIC RUN MODE [args]: runs gantry_write_bench on a fresh database
bench_write() {
  local metric=$1 run=$2 mode=$3 dir=$TMP/w-$1-$2 out
  mkdir -p "$dir"
  out=$("$WB" "$mode" --db "$dir/bench.db" --data-dir "$dir/data" --n "$WRITES" 2>/dev/null) ||
    die "gantry_write_bench $mode failed"
  local ops
  ops=$(sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
  record "$metric" "$run" "$ops"
  log "  $metric run $run: $ops writes/s"
  rm -rf "$dir"
}

START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY_START=$(ps -eo pcpu=,comm= --sort=-pcpu | head -5 | awk '{printf "%s%s %s%%", (NR>1?", ":""), $2, $1}')
log "workspace $TMP; load average $LOAD_START"

# ---- 1. reads over HTTP ----
log "1. reads: fixture with 200 jobs"
init_db read
"$WB" enqueue --db "$TMP/read.db" --data-dir "$TMP/read-data" --n 200 >/dev/null 2>&1 || die "cannot enqueue jobs"
# The jobs are finished, so the server's (default) job workers stay idle during the measurement.
sqlite3 "$TMP/read.db" "UPDATE jobs SET state='succeeded', progress=100, message='step 20 of 20',
  attempts=1, result='{\"slept_seconds\":5}', started_at=created_at, finished_at=created_at+5000000000,
  updated_at=created_at+5000000000;" || die "cannot finish the fixture jobs"
start_server read "$TMP/read.db" "$TMP/read-data"
BASE=http://127.0.0.1:$PORT
for path in /healthz /api/v1/whoami "/api/v1/jobs?limit=50"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$path")
  [ "$code" = 200 ] || die "GET $path returned $code"
done
njobs=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/jobs?limit=1000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$njobs" -ge 200 ] || die "expected 200 jobs, the API lists $njobs"
wrk -t$WRK_THREADS -c$CONNS -d2s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/whoami" >/dev/null  # warm-up
for run in $(seq 1 "$RUNS"); do
  wrk_run healthz "$run" "$DURATION" "$BASE/healthz"
  wrk_run whoami "$run" "$DURATION" "$BASE/api/v1/whoami"
  wrk_run jobs "$run" "$DURATION" "$BASE/api/v1/jobs?limit=50"
done
stop_server

# ---- 2. writes ----
# Every commit waits for an fsync of the WAL (synchronous=FULL), so the disk sets the pace: probe it.
fsync_ms() {
  python3 - "$TMP" <<'PY'
import os, statistics, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT)
ts = []
for _ in range(50):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter(); os.fsync(fd); ts.append(time.perf_counter() - t)
os.close(fd); os.unlink(path)
print("%.3f" % (statistics.median(ts) * 1e3))
PY
}
log "2. writes: POST /api/v1/jobs server (job workers off: the enqueue path alone)"
init_db post
start_server post "$TMP/post.db" "$TMP/post-data" --workers 0
BASE=http://127.0.0.1:$PORT
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"type":"demo.sleep","params":{"seconds":5}}' "$BASE/api/v1/jobs")
[ "$code" = 201 ] || die "POST /api/v1/jobs returned $code"
log "2. writes: $WRITES per in-process run, each in its own transaction; then POST over HTTP"
for run in $(seq 1 "$RUNS"); do
  f=$(fsync_ms)
  record fsync_ms "$run" "$f"
  log "  fsync of a 4 KiB write: median $f ms"
  bench_write audit_ops "$run" audit
  bench_write raw_ops "$run" raw
  bench_write enqueue_ops "$run" enqueue
  bench_write rawjobs_ops "$run" raw-jobs
  f=$(fsync_ms)
  record fsyncpost_ms "$run" "$f"
  wrk_run post "$run" "$POST_DURATION" "$BASE/api/v1/jobs" -s "$ROOT/bench/post_job.lua"
done
stop_server

# ---- 3. audit verify ----
log "3. audit verify: populating $EVENTS events"
"$WB" populate --db "$TMP/verify.db" --data-dir "$TMP/verify-data" --n "$EVENTS" >/dev/null 2>&1 || die "populate failed"
for run in $(seq 1 "$RUNS"); do
  # /usr/bin/time adds the command's CPU seconds: openssl speed divides by CPU (user) time, the
  # "bytes hashed in S s" of audit verify is wall time, which the background load inflates.
  out=$(/usr/bin/time -f 'CPU %U %S' "$G" admin audit verify --db "sqlite:$TMP/verify.db" --data-dir "$TMP/verify-data" 2>&1) ||
    die "verify failed: $out"
  read -r bps cpubps < <(python3 -c 'import re,sys
m = re.search(r"(\d+) bytes hashed in ([\d.e+-]+) s", sys.argv[1]); c = re.search(r"CPU ([\d.]+) ([\d.]+)", sys.argv[1])
b = int(m.group(1)); print("%.0f %.0f" % (b / float(m.group(2)), b / max(float(c.group(1)) + float(c.group(2)), 0.01)))' "$out")
  record verify_bps "$run" "$bps"
  record verifycpu_bps "$run" "$cpubps"
  log "  verify run $run: $(head -1 <<<"$out") ($cpubps bytes per CPU second)"
  out=$("$WB" verify-proto --db "$TMP/verify.db" 2>/dev/null) || die "verify-proto failed"
  pbps=$(sed -n 's/.*bytes_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
  record proto_bps "$run" "$pbps"
  log "  prototype check run $run: $pbps bytes/s"
  ossl=$(openssl speed -evp sha256 -bytes 1024 -seconds 3 -mr 2>/dev/null | sed -n 's/^+F:[0-9]*:sha256:\([0-9.]*\)$/\1/p')
  [ -n "$ossl" ] || die "cannot parse openssl speed output"
  record openssl_bps "$run" "$ossl"
  log "  openssl speed run $run: $ossl bytes/s"
done

# ---- report ----
END=$(date +%s)
echo
echo "Gantry core benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
echo "machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"
echo "sqlite $(sqlite3 --version | cut -d' ' -f1), $(openssl version | cut -d' ' -f1-2), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "wrk -t$WRK_THREADS -c$CONNS, ${DURATION}s reads / ${POST_DURATION}s POST; $WRITES writes per in-process run; $EVENTS events verified; $RUNS runs each"
echo "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg); took $((END - START)) s"
echo "busiest processes at start (ps %CPU, lifetime average): $BUSY_START"
echo
$REPORT table "$RESULTS"
