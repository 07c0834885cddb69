#!/bin/bash
# CMDB benchmarks: generate the estate into SQLite (and CSV), start a throw-away PostgreSQL 15,
# load it with COPY, then time GraphIndex against recursive CTEs on both. Prints a table.
#
#   bench/cmdb/run.sh [--scale 1.0] [--iterations 50] [--cte-iterations 50] [--big-cte-iterations 5]
#                     [--no-pg] [--keep DIR]
#
# BUILD_DIR (default build-rel) is a Release tree, configured if missing; the two programs are
# built there first (JOBS_BUILD parallel jobs, default 2). Everything else lives in a temporary
# directory under /tmp, removed at exit (with --keep DIR, the logs are copied there first).
# Exit status 2: some answer differed between GraphIndex and a CTE (MISMATCH lines on stderr).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-rel}
SCALE=1.0
ITER=50
CTE_ITER=50
BIG_CTE_ITER=5
USE_PG=1
KEEP=
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --iterations) ITER=$2; shift 2 ;;
    --cte-iterations) CTE_ITER=$2; shift 2 ;;
    --big-cte-iterations) BIG_CTE_ITER=$2; shift 2 ;;
    --no-pg) USE_PG=; shift ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "usage: $0 [--scale S] [--iterations N] [--cte-iterations N] [--big-cte-iterations N] [--no-pg] [--keep DIR]" >&2; exit 2 ;;
  esac
done

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$BUILD" -j "${JOBS_BUILD:-2}" gantry_cmdb_gen gantry_cmdb_bench >/dev/null
GEN=$BUILD/bench/cmdb/gantry_cmdb_gen
BENCH=$BUILD/bench/cmdb/gantry_cmdb_bench

T=$(mktemp -d /tmp/cmdbb.XXXXXX)  # short: PostgreSQL's socket path must stay under 107 bytes
chmod 755 "$T"
PG_BIN=/usr/lib/postgresql/15/bin
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
cleanup() {
  status=$?
  if [ $status != 0 ]; then tail -n 20 "$T"/*.log "$T"/pgrun/*.log >&2 2>/dev/null || true; fi
  if [ -f "$T/pg/postmaster.pid" ]; then "${AS[@]}" $PG_BIN/pg_ctl -D "$T/pg" -m fast -w -s stop || true; fi
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp "$T"/*.log "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

START=$(date +%s)
echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows in wall-clock times)"
echo "== generating the estate (scale $SCALE)"
"$GEN" --scale "$SCALE" --sqlite "$T/estate.db" ${USE_PG:+--csv "$T/csv"} | tee "$T/gen.log"

PG_ARGS=()
if [ -n "$USE_PG" ]; then
  echo "== starting PostgreSQL 15"
  mkdir "$T/pgrun" "$T/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$T/pgrun" "$T/pg"; fi
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$T" && "${AS[@]}" $PG_BIN/initdb -D "$T/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -N --no-instructions >"$T/initdb.log" 2>&1)
  # Generous memory for the CTEs (hash tables of visited rows); JIT off (it only adds compile
  # time to these queries). Durability off: the data is thrown away.
  (cd "$T" && "${AS[@]}" $PG_BIN/pg_ctl -D "$T/pg" -l "$T/pgrun/postgres.log" -w -t 60 -s -o \
    "-p $PORT -k $T/pgrun -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
     -c shared_buffers=2GB -c work_mem=512MB -c maintenance_work_mem=1GB -c effective_cache_size=12GB -c jit=off \
     -c max_wal_size=8GB -c checkpoint_timeout=30min" start)
  $PG_BIN/createdb -h 127.0.0.1 -p "$PORT" -U postgres cmdb
  PG_ARGS=(--pg "postgresql://postgres@127.0.0.1:$PORT/cmdb" --csv "$T/csv")
fi

echo "== benchmark"
"$BENCH" --sqlite "$T/estate.db" "${PG_ARGS[@]}" --iterations "$ITER" --cte-iterations "$CTE_ITER" \
  --big-cte-iterations "$BIG_CTE_ITER" | tee "$T/bench.log"
echo "== total $(( $(date +%s) - START )) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
