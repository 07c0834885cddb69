#!/usr/bin/env bash
# Admission decisions per second under contention, one transaction per decision ("alone") vs.
# the group-commit combiner ("batched"), on SQLite and on PostgreSQL 15, in one run.
# See docs/benchmarks.md, "Tenancy admission".
#
#   bench/tenancy/run.sh [BUILD_DIR] [SECONDS] [CLIENTS]
#
# Environment: BACKENDS ("sqlite postgres"), MODES ("alone batched"), BENCH_ARGS (passed on to
# gantry_admission_bench, e.g. "--lanes 4 --tenants 200").
#
# BUILD_DIR must be configured with -DGANTRY_BUILD_BENCH=ON (default: build). PostgreSQL runs
# with its durable defaults (fsync on, synchronous_commit on) in a throw-away directory; SQLite
# uses Gantry's own settings (WAL, synchronous=FULL). Each run starts from a fresh database.
set -euo pipefail
B=${1:-build}
SECS=${2:-10}
CLIENTS=${3:-64}
BIN=$B/bench/tenancy/gantry_admission_bench
[ -x "$BIN" ] || { echo "build $BIN first (cmake -DGANTRY_BUILD_BENCH=ON)" >&2; exit 1; }

T=$(mktemp -d /tmp/admb.XXXXXX)  # short: the PostgreSQL socket path must stay under 107 bytes
chmod 755 "$T"
PG_BIN=/usr/lib/postgresql/15/bin
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
stop_pg() {
  if [ -f "$T/pg/postmaster.pid" ]; then "${AS[@]}" $PG_BIN/pg_ctl -D "$T/pg" -m fast -w -s stop || true; fi
}
trap 'stop_pg; rm -rf "$T"' EXIT

echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir "$T/pgrun" "$T/pg"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$T/pgrun" "$T/pg"; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$T" && "${AS[@]}" $PG_BIN/initdb -D "$T/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
  --no-instructions >"$T/initdb.log" 2>&1)
(cd "$T" && "${AS[@]}" $PG_BIN/pg_ctl -D "$T/pg" -l "$T/pgrun/postgres.log" -w -t 60 -s -o \
  "-p $PORT -k $T/pgrun -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB" start)

n=0
for backend in ${BACKENDS:-sqlite postgres}; do
  for mode in ${MODES:-alone batched}; do
    n=$((n + 1))
    if [ $backend = sqlite ]; then
      URL="sqlite:$T/adm$n.db"
    else
      $PG_BIN/createdb -h 127.0.0.1 -p "$PORT" -U postgres "adm$n"
      URL="postgresql://postgres@127.0.0.1:$PORT/adm$n"
    fi
    "$BIN" --db "$URL" --mode $mode --clients "$CLIENTS" --seconds "$SECS" ${BENCH_ARGS:-} | tee -a "$T/results.log"
  done
done
echo "== load average $(cut -d' ' -f1-3 /proc/loadavg)"
